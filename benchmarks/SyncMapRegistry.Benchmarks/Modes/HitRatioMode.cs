using Orleans.Runtime.GrainDirectory;
using SyncMapRegistry.Benchmarks.Registry;

namespace SyncMapRegistry.Benchmarks.Modes;

/// <summary>
/// <c>hitratio [--grains 10000] [--cap 1000] [--s 0.7,1.0,1.2] [--requests 1000000] [--warmup 100000] [--quick]</c>:
/// the hit ratio of each capped grain directory cache when grain popularity follows a Zipf law, after BitFaster's
/// hit-rate method: each request looks its grain up, and a miss "loads" it (<c>AddOrUpdate</c>); hits are counted
/// over <c>--requests</c> requests after <c>--warmup</c> uncounted ones. Every cache sees the same request
/// sequence (a fixed seed). Caches at the same cap: the registry's (<see cref="SyncMapRegistryOptions.MaxEntries"/>),
/// as shipped and with <see cref="SyncMapRegistryOptions.CountLookups"/> off (its hits sampled only from half the cap on), Orleans' LRU (<c>GrainDirectoryOptions.CacheSize</c>) and BitFaster's ConcurrentLru (capacity). The bound column
/// is the share of requests for the cap's most popular grains: what a cache holding exactly those would hit.
/// </summary>
internal static class HitRatioMode
{
    internal static int Run(ModeArguments arguments)
    {
        int grainCount = arguments.Int("grains", 10_000, 2_000);
        int cap = arguments.Int("cap", 1_000, 200);
        double[] exponents = arguments.Doubles("s", [0.7, 1.0, 1.2]);
        int requests = arguments.Int("requests", 1_000_000, 20_000);
        int warmup = arguments.Int("warmup", 100_000, 2_000);
        ModeReport.PrintEnvironment("hitratio");
        ModeReport.Line($"# {grainCount:N0} grains, cap {cap:N0}, Zipf popularity, {warmup:N0} warm-up requests then {requests:N0} counted; a miss adds the grain");
        ModeReport.Line($"");
        ModeReport.Line($"| Zipf s | SyncMapGrainDirectoryCache | Same, CountLookups off | OrleansLru | BitFasterConcurrentLru | SyncMap minus OrleansLru (points) | Bound (top {cap:N0} share) | Entries at the end (ours / Orleans / BitFaster) |");
        ModeReport.Line($"|---:|---:|---:|---:|---:|---:|---:|---|");
        GrainAddress[] grains = GrainPopulation.Activate(0, grainCount, 0);
        foreach (double s in exponents)
        {
            var zipf = new ZipfSampler(grainCount, s, seed: 42);
            int[] sequence = [.. Enumerable.Range(0, warmup + requests).Select(_ => zipf.Next())];
            // Evictions run inline, on the inserting thread, instead of on the thread pool: the measured policy is
            // then the same on a busy and an idle machine, and the cap holds as it would on a silo whose evictor
            // keeps up.
            var ours = new global::SyncMapRegistry.SyncMapGrainDirectoryCache(new SyncMapRegistryOptions { MaxEntries = cap }, scheduleEviction: static run => run());
            var uncounted = new global::SyncMapRegistry.SyncMapGrainDirectoryCache(new SyncMapRegistryOptions { MaxEntries = cap, CountLookups = false }, scheduleEviction: static run => run());
            IGrainDirectoryCache orleans = CachePeer.OrleansLru(cap);
            var bitFaster = new BitFasterDirectoryCache(cap);
            double oursRatio = HitRatio(ours, grains, sequence, warmup);
            double uncountedRatio = HitRatio(uncounted, grains, sequence, warmup);
            double orleansRatio = HitRatio(orleans, grains, sequence, warmup);
            double bitFasterRatio = HitRatio(bitFaster, grains, sequence, warmup);
            ModeReport.Line($"| {s:F1} | {oursRatio:P2} | {uncountedRatio:P2} | {orleansRatio:P2} | {bitFasterRatio:P2} | {100 * (oursRatio - orleansRatio):+0.00;-0.00} | {zipf.TopShare(cap):P2} | {ours.Count:N0} / {orleans.KeyValues.Count():N0} / {bitFaster.KeyValues.Count():N0} |");
        }

        return 0;
    }

    /// <summary>Plays <paramref name="sequence"/> (grain indexes) against the cache; hits over the requests after the warm-up.</summary>
    private static double HitRatio(IGrainDirectoryCache cache, GrainAddress[] grains, int[] sequence, int warmup)
    {
        long hits = 0;
        for (int n = 0; n < sequence.Length; n++)
        {
            GrainAddress grain = grains[sequence[n]];
            if (cache.LookUp(grain.GrainId, out _, out _))
            {
                hits += n >= warmup ? 1 : 0;
            }
            else
            {
                cache.AddOrUpdate(grain, 1);
            }
        }

        return (double)hits / (sequence.Length - warmup);
    }

    /// <summary>
    /// Zipf-distributed item indexes by inverse CDF: rank <c>k</c> (1-based) has probability proportional to
    /// <c>1 / k^s</c>; ranks map to items through a fixed shuffle, so that popularity does not follow the item order.
    /// </summary>
    private sealed class ZipfSampler
    {
        private readonly double[] _cumulative;
        private readonly int[] _itemOfRank;
        private readonly Random _random;

        internal ZipfSampler(int count, double s, int seed)
        {
            _cumulative = new double[count];
            double total = 0;
            for (int rank = 1; rank <= count; rank++)
            {
                total += 1 / Math.Pow(rank, s);
                _cumulative[rank - 1] = total;
            }

            for (int i = 0; i < count; i++)
            {
                _cumulative[i] /= total;
            }

            _random = new Random(seed);
            _itemOfRank = [.. Enumerable.Range(0, count)];
            _random.Shuffle(_itemOfRank);
        }

        internal int Next()
        {
            int rank = Array.BinarySearch(_cumulative, _random.NextDouble());
            rank = rank < 0 ? ~rank : rank;
            return _itemOfRank[Math.Min(rank, _itemOfRank.Length - 1)];
        }

        /// <summary>The probability mass of the <paramref name="top"/> most popular items.</summary>
        internal double TopShare(int top) => _cumulative[top - 1];
    }
}
