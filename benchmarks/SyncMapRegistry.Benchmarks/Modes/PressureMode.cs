using System.Diagnostics;
using System.Globalization;
using Orleans.Runtime.GrainDirectory;
using SyncMapRegistry.Benchmarks.Modes.HitRatio;
using SyncMapRegistry.Benchmarks.Registry;

namespace SyncMapRegistry.Benchmarks.Modes;

/// <summary>
/// <c>pressure [--grains 100000] [--cap 1000] [--zipf 0.9] [--requests 2000000] [--threads 1,2] [--rounds 5] [--quick]</c>:
/// what a request costs a capped cache under pressure, the shape of the host's oversubscribed workload
/// (<c>--grains 100000 --popularity zipf:0.9 --cache-size 1000</c>; here about 55% of the requests miss): each request
/// looks a grain up and a miss adds it, as a silo does after the directory answers. Every thread plays the same Zipf
/// trace from its own offset. Caches: Orleans' own (the baseline), the registry's as shipped (its maintenance on the
/// thread pool), and BitFaster's W-TinyLFU (<c>ConcurrentLfu</c>, its maintenance on the thread pool too). Time: the
/// process's CPU time over the timed requests (the measuring threads, the caches' background maintenance and the
/// garbage collector's), per request, so that a cache that moves its work off the calling thread is not flattered;
/// wall time beside it. Peers alternate, round by round, with a fresh cache each, warmed by a tenth of the requests.
/// </summary>
internal static class PressureMode
{
    internal static int Run(ModeArguments arguments)
    {
        int grainCount = arguments.Int("grains", 100_000, 5_000);
        int cap = arguments.Int("cap", grainCount / 100, grainCount / 100);
        double s = arguments.Doubles("zipf", [0.9])[0];
        int requests = arguments.Int("requests", 2_000_000, 40_000);
        int[] threadCounts = arguments.Ints("threads", [1, 2], [1]);
        int rounds = arguments.Int("rounds", 5, 1);
        int warmup = requests / 10;
        ModeReport.PrintEnvironment("pressure");
        ModeReport.Line($"# {grainCount:N0} grains, Zipf {s.ToString(CultureInfo.InvariantCulture)}, cap {cap:N0}; {requests:N0} requests per thread after {warmup:N0} warm-up ones; a miss adds the grain; {rounds} alternating rounds");
        ModeReport.Line($"# process CPU time per request (the measuring threads, background maintenance and GC), median of the rounds, ratio to OrleansLru in each round");
        ModeReport.Line($"");
        ModeReport.Line($"| Threads | Cache | Hit ratio | CPU ns/request (median) | CPU ratio to OrleansLru (median) | CPU ratio range | Wall ns/request (median) | Wall ratio (median) |");
        ModeReport.Line($"|---:|---|---:|---:|---:|---|---:|---:|");

        HitRatio.Trace trace = Traces.Zipf(grainCount, s, warmup + requests);
        GrainAddress[] grains = GrainPopulation.Activate(0, grainCount, 0);
        (string Name, Func<IGrainDirectoryCache> Create)[] peers =
        [
            ("OrleansLru", () => CachePeer.OrleansLru(cap)),
            ("SyncMapGrainDirectoryCache", () => new global::SyncMapRegistry.SyncMapGrainDirectoryCache(new SyncMapRegistryOptions { MaxEntries = cap })),
            ("BitFaster ConcurrentLfu", () => new ConcurrentLfuDirectoryCache(new(cap))),
        ];

        foreach (int threads in threadCounts)
        {
            var results = peers.Select(_ => new List<Result>()).ToArray();
            for (int round = 0; round < rounds; round++)
            {
                for (int n = 0; n < peers.Length; n++)
                {
                    int index = round % 2 == 0 ? n : peers.Length - 1 - n;
                    results[index].Add(Play(peers[index].Create(), grains, trace.Requests, warmup, requests, threads));
                }
            }

            for (int index = 0; index < peers.Length; index++)
            {
                double[] cpuRatios = [.. results[index].Zip(results[0], (r, baseline) => r.CpuNs / baseline.CpuNs)];
                double[] wallRatios = [.. results[index].Zip(results[0], (r, baseline) => r.WallNs / baseline.WallNs)];
                ModeReport.Line($"| {threads} | {peers[index].Name} | {ModeReport.Median(results[index].Select(r => r.HitRatio)):P2} | {ModeReport.Median(results[index].Select(r => r.CpuNs)):F1} | {ModeReport.Median(cpuRatios):F3}x | {cpuRatios.Min():F3}-{cpuRatios.Max():F3}x | {ModeReport.Median(results[index].Select(r => r.WallNs)):F1} | {ModeReport.Median(wallRatios):F3}x |");
            }
        }

        return 0;
    }

    /// <summary>One cache's round: every thread warms up, then all play their share while the process's CPU time is taken.</summary>
    private static Result Play(IGrainDirectoryCache cache, GrainAddress[] grains, int[] sequence, int warmup, int requests, int threads)
    {
        using var warmed = new Barrier(threads + 1);
        using var done = new Barrier(threads + 1);
        long hits = 0;
        var workers = new Thread[threads];
        for (int t = 0; t < threads; t++)
        {
            int offset = t * (sequence.Length / threads);
            workers[t] = new Thread(() =>
            {
                Traces.Play(cache, grains, sequence, offset, warmup);
                warmed.SignalAndWait();
                long own = Traces.Play(cache, grains, sequence, offset + warmup, requests);
                Interlocked.Add(ref hits, own);
                done.SignalAndWait();
            });
            workers[t].Start();
        }

        warmed.SignalAndWait();
        TimeSpan cpu = Process.GetCurrentProcess().TotalProcessorTime;
        long start = Stopwatch.GetTimestamp();
        done.SignalAndWait();
        double wall = Stopwatch.GetElapsedTime(start).TotalNanoseconds;
        double cpuNs = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalNanoseconds;
        foreach (Thread worker in workers)
        {
            worker.Join();
        }

        long total = (long)requests * threads;
        return new Result((double)hits / total, cpuNs / total, wall / requests);
    }

    private readonly record struct Result(double HitRatio, double CpuNs, double WallNs);
}
