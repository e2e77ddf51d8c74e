using BitFaster.Caching.Scheduler;
using Orleans.Runtime.GrainDirectory;
using SyncMapRegistry.Benchmarks.Modes.HitRatio;
using SyncMapRegistry.Benchmarks.Registry;

namespace SyncMapRegistry.Benchmarks.Modes;

/// <summary>
/// <c>hitratio [--grains 100000] [--caps 1000,10000] [--requests 1000000] [--warmup 200000] [--quick]</c>: the hit
/// ratio of each capped grain directory cache, after BitFaster's hit-rate method: each request looks its grain up, and
/// a miss "loads" it (<c>AddOrUpdate</c>); hits are counted over <c>--requests</c> requests after <c>--warmup</c>
/// uncounted ones. Traces (<see cref="Traces"/>, fixed seeds, the same for every cache): fixed Zipf 0.7, 1.0 and 1.2;
/// Zipf 1.0 whose popularity drifts; Zipf 1.0 with one-off scans. Caps default to 1% and 10% of the grains. Caches: the
/// registry's (<see cref="SyncMapRegistryOptions.MaxEntries"/>, its maintenance inline so that the policy is the same
/// on a busy and an idle machine) as shipped, and the same with <see cref="SyncMapRegistryOptions.CountLookups"/> off
/// (its hits are recorded for the policy only once it has held half its cap), Orleans' own (<c>GrainDirectoryOptions.CacheSize</c>), BitFaster's W-TinyLFU
/// (<c>ConcurrentLfu</c>, its maintenance in the foreground for the same reason), and Belady's offline optimum
/// (<see cref="Belady"/>), which no policy can beat.
/// </summary>
internal static class HitRatioMode
{
    internal static int Run(ModeArguments arguments)
    {
        int grainCount = arguments.Int("grains", 100_000, 5_000);
        int[] caps = arguments.Ints("caps", [grainCount / 100, grainCount / 10], [grainCount / 100, grainCount / 10]);
        int requests = arguments.Int("requests", 1_000_000, 40_000);
        int warmup = arguments.Int("warmup", 200_000, 10_000);
        int length = warmup + requests;
        ModeReport.PrintEnvironment("hitratio");
        ModeReport.Line($"# {grainCount:N0} grains, {warmup:N0} warm-up requests then {requests:N0} counted; a miss adds the grain");
        ModeReport.Line($"");
        ModeReport.Line($"| Trace | Cap | SyncMapGrainDirectoryCache | OrleansLru | BitFaster ConcurrentLfu | Optimum (Belady) | Ours − LFU (points) | Ours − Orleans (points) | Ours' window at the end | Ours, CountLookups off | Off − LFU (points) | Off − Orleans (points) |");
        ModeReport.Line($"|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        Trace[] traces =
        [
            Traces.Zipf(grainCount, 0.7, length),
            Traces.Zipf(grainCount, 1.0, length),
            Traces.Zipf(grainCount, 1.2, length),
            Traces.Drifting(grainCount, length),
            Traces.WithScans(grainCount, length, scanLength: Math.Max(100, grainCount / 20)),
        ];
        foreach (Trace trace in traces)
        {
            GrainAddress[] grains = GrainPopulation.Activate(0, trace.Requests.Max() + 1, 0);
            foreach (int cap in caps)
            {
                var ours = new global::SyncMapRegistry.SyncMapGrainDirectoryCache(new SyncMapRegistryOptions { MaxEntries = cap }, scheduleEviction: static run => run());
                double oursRatio = HitRatio(ours, grains, trace.Requests, warmup);
                var sampled = new global::SyncMapRegistry.SyncMapGrainDirectoryCache(new SyncMapRegistryOptions { MaxEntries = cap, CountLookups = false }, scheduleEviction: static run => run());
                double sampledRatio = HitRatio(sampled, grains, trace.Requests, warmup);
                double orleansRatio = HitRatio(CachePeer.OrleansLru(cap), grains, trace.Requests, warmup);
                double lfuRatio = HitRatio(new ConcurrentLfuDirectoryCache(new(1, cap, new ForegroundScheduler(), EqualityComparer<GrainId>.Default)), grains, trace.Requests, warmup);
                double optimum = Belady.HitRatio(trace.Requests, cap, warmup);
                ModeReport.Line($"| {trace.Name} | {cap:N0} | {oursRatio:P2} | {orleansRatio:P2} | {lfuRatio:P2} | {optimum:P2} | {100 * (oursRatio - lfuRatio):+0.00;-0.00} | {100 * (oursRatio - orleansRatio):+0.00;-0.00} | {ours.Policy.WindowMaximum:N0} | {sampledRatio:P2} | {100 * (sampledRatio - lfuRatio):+0.00;-0.00} | {100 * (sampledRatio - orleansRatio):+0.00;-0.00} |");
            }
        }

        return 0;
    }

    /// <summary>Plays <paramref name="sequence"/> (grain indexes) against the cache; hits over the requests after the warm-up.</summary>
    private static double HitRatio(IGrainDirectoryCache cache, GrainAddress[] grains, int[] sequence, int warmup)
    {
        Traces.Play(cache, grains, sequence, 0, warmup);
        return (double)Traces.Play(cache, grains, sequence, warmup, sequence.Length - warmup) / (sequence.Length - warmup);
    }
}
