using System.Numerics;
using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using Orleans.Runtime.GrainDirectory;
using SyncMapRegistry.Benchmarks.Infrastructure;
using SyncMapRegistry.Benchmarks.Registry;

namespace SyncMapRegistry.Benchmarks.Modes;

/// <summary>
/// <c>hits [--threads 1,2] [--rounds 7] [--reads 4000000] [--keys 1024] [--order sequential|shuffled] [--chase] [--int-keys sequential|scattered|mixed] [--cases int,string,registry] [--quick]</c>: the read hit,
/// timed with a Stopwatch and no BenchmarkDotNet. Each thread reads the same <c>--keys</c> cached keys (a power of
/// two) in order, or in one fixed random order with <c>--order shuffled</c>, <c>--reads</c> times in all; the time of a
/// round is the wall time from the start signal until the last thread is done, over the reads of one thread. The
/// peers of a case run one after the other in each round, in alternating order, and a round's ratio is the peer's
/// time over ConcurrentDictionary's; the table gives the median over the rounds. Every read must hit: a miss fails
/// the run. Beside the wall-clock figures, the table gives the same from each thread's CPU time (Linux), which
/// leaves out the time a thread waited for a core on a shared machine. Cases: <c>SyncMap&lt;int, int&gt;</c>, <c>SyncMap&lt;string, object&gt;</c> and the registry's
/// <c>GrainId</c> lookup through <see cref="IGrainDirectoryCache"/> (our cache as shipped, the same with
/// <see cref="SyncMapRegistryOptions.CountLookups"/> off, a ConcurrentDictionary-backed one, a bare SyncMap behind the same interface, and Orleans' LRU cache). <c>--quick</c> skips the warm-up.
/// </summary>
/// <remarks>
/// By default the reads are independent, so the processor overlaps the cache misses of several (it runs ahead into
/// the next reads while one waits for memory): a measure of throughput, which flatters the read with the fewest
/// instructions once the keys outgrow the caches. A silo does not read its cache back to back; each lookup comes
/// between thousands of instructions of messaging, and waits for its own misses alone. <c>--chase</c> measures
/// that latency: each key's value (the registry's cached version) is the position of the next key to read, so a
/// read cannot start before the one before it has returned its value.
/// The int keys are 0..n-1 by default: an int's hash code is the int, so ConcurrentDictionary's buckets then hold
/// one key each (its best case, and no silo's: grains' hash codes scatter). <c>--int-keys scattered</c> multiplies
/// them by an odd constant and <c>--int-keys mixed</c> passes them through a bijective mix, as <c>churn --keys</c>
/// does (<see cref="IntKeys"/>).
/// </remarks>
internal static class HitsMode
{

    /// <summary>The hit of one peer: <see cref="Hit"/>(i) reads the key at position <c>i % KeyCount</c> of the read order.</summary>
    private interface IHitReader
    {
        int KeyCount { get; }

        bool Hit(int i);

        /// <summary>Reads the key at <paramref name="position"/> of the read order; its value, the position of the next key (or -1 on a miss).</summary>
        int Next(int position);
    }

    internal static int Run(ModeArguments arguments)
    {
        int[] threadCounts = arguments.Ints("threads", [1, 2], [1, 2]);
        int rounds = arguments.Int("rounds", 7, 1);
        int reads = arguments.Int("reads", 4_000_000, 20_000);
        int keyCount = arguments.Int("keys", 1_024, 1_024);
        if (!BitOperations.IsPow2(keyCount))
        {
            throw new ArgumentException($"--keys must be a power of two: {keyCount}.", nameof(arguments));
        }

        bool shuffled = arguments.OneOf("order", "sequential", "shuffled") == "shuffled";
        bool chase = arguments.Flag("chase");
        IntKeyKind intKeys = IntKeys.Parse(arguments, "int-keys");
        string[] cases = arguments.Strings("cases", ["int", "string", "registry"]);
        int[] order = [.. Enumerable.Range(0, keyCount)];
        if (shuffled)
        {
            new Random(42).Shuffle(order);
        }

        ModeReport.PrintEnvironment("hits");
        ModeReport.Line($"# {keyCount:N0} keys read {(shuffled ? "in a fixed random order" : "in order")}{(chase ? ", each read waiting for the one before (--chase: latency)" : ", independent reads (throughput)")}, {reads:N0} reads per thread, {rounds} alternating rounds; ns per read of one thread (wall time / reads per thread), median ratio to ConcurrentDictionary");
        ModeReport.Line($"");
        ModeReport.Line($"| Case | Threads | Peer | ns/read (median) | Ratio to ConcurrentDictionary (median) | Ratio range | CPU ns/read (median) | CPU-time ratio (median) | CPU-time ratio range |");
        ModeReport.Line($"|---|---:|---|---:|---:|---|---:|---:|---|");
        foreach (int threads in threadCounts)
        {
            if (cases.Contains("int"))
            {
                Measure(intKeys == IntKeyKind.Sequential ? "int keys, int values" : $"{IntKeys.Describe(intKeys)} int keys, int values", threads, rounds, reads, chase, !arguments.Quick, IntPeers(order, intKeys));
            }

            if (cases.Contains("string"))
            {
                Measure("string keys, object values", threads, rounds, reads, chase, !arguments.Quick, StringPeers(order));
            }

            if (cases.Contains("registry"))
            {
                Measure("registry GrainId lookup", threads, rounds, reads, chase, !arguments.Quick, RegistryPeers(order));
            }
        }

        return 0;
    }

    /// <summary>
    /// Keys numbered 0..n-1 (<see cref="IntKeys"/>), stored in that order (so their entries lie in memory in
    /// key order, not in read order), where <paramref name="order"/> (a permutation of 0..n-1) says in which order
    /// they are read; the value of the key at position p of the order is p + 1 (mod n), the position of the next key
    /// (<see cref="IHitReader.Next"/>).
    /// </summary>
    private static Peer[] IntPeers(int[] order, IntKeyKind kind)
    {
        int[] next = NextPositions(order);
        int[] keys = [.. order.Select(i => IntKeys.Of(i, kind))];
        var dictionary = new ConcurrentDictionary<int, int>();
        var map = new SyncMap<int, int>();
        for (int i = 0; i < order.Length; i++)
        {
            int key = IntKeys.Of(i, kind);
            dictionary[key] = next[i];
            map.Store(key, next[i]);
        }

        Peer syncMap = Peer.Of("SyncMap", Primed(new IntSyncMapReader(map, keys)));
        ModeReport.RequirePromoted("SyncMap<int, int>", map.GetStatistics());
        return [Peer.Of("ConcurrentDictionary", new IntDictionaryReader(dictionary, keys)), syncMap];
    }

    private static Peer[] StringPeers(int[] order)
    {
        // Made and stored in key order, read in the read order, as in IntPeers; one box per key, shared by both maps.
        int[] next = NextPositions(order);
        string[] byKey = [.. Enumerable.Range(0, order.Length).Select(i => $"grain/{i:D6}")];
        string[] keys = [.. order.Select(i => byKey[i])];
        var dictionary = new ConcurrentDictionary<string, object>();
        var map = new SyncMap<string, object>();
        for (int key = 0; key < byKey.Length; key++)
        {
            object value = next[key];
            dictionary[byKey[key]] = value;
            map.Store(byKey[key], value);
        }

        Peer syncMap = Peer.Of("SyncMap", Primed(new StringSyncMapReader(map, keys)));
        ModeReport.RequirePromoted("SyncMap<string, object>", map.GetStatistics());
        return [Peer.Of("ConcurrentDictionary", new StringDictionaryReader(dictionary, keys)), syncMap];
    }

    private static Peer[] RegistryPeers(int[] order)
    {
        GrainAddress[] activations = GrainPopulation.Activate(0, order.Length, 0);
        GrainId[] grains = [.. order.Select(i => activations[i].GrainId)];

        // The cached version of the grain at position p of the read order is p + 1 (mod n), as in IntPeers.
        int[] versions = NextPositions(order);

        CacheReader<TSite> Filled<TSite>(IGrainDirectoryCache cache)
            where TSite : struct
        {
            for (int i = 0; i < activations.Length; i++)
            {
                cache.AddOrUpdate(activations[i], versions[i]);
            }

            CacheReader<TSite> reader = Primed(new CacheReader<TSite>(cache, grains));
            if (cache is SyncMapDirectoryCache direct)
            {
                ModeReport.RequirePromoted("SyncMapDirect", direct.GetStatistics());
            }
            else if (cache is global::SyncMapRegistry.SyncMapGrainDirectoryCache registry)
            {
                ModeReport.RequirePromoted("SyncMapGrainDirectoryCache", registry.GetStatistics().Map);
            }

            return reader;
        }

        IGrainDirectoryCache orleansLru = GrainDirectoryCacheFactory.CreateGrainDirectoryCache(
            new ServiceCollection().BuildServiceProvider(),
            new GrainDirectoryOptions { CachingStrategy = GrainDirectoryOptions.CachingStrategyType.LRU, CacheSize = Math.Max(order.Length, new GrainDirectoryOptions().CacheSize) });
        return
        [
            Peer.Of("ConcurrentDictionary", Filled<Site1>(new ConcurrentDictionaryDirectoryCache())),
            Peer.Of("SyncMapGrainDirectoryCache", Filled<Site2>(new global::SyncMapRegistry.SyncMapGrainDirectoryCache(new SyncMapRegistryOptions()))),
            Peer.Of("SyncMapGrainDirectoryCache, CountLookups off", Filled<Site5>(new global::SyncMapRegistry.SyncMapGrainDirectoryCache(new SyncMapRegistryOptions { CountLookups = false }))),
            Peer.Of("SyncMapDirect", Filled<Site3>(new SyncMapDirectoryCache())),
            Peer.Of("OrleansLru", Filled<Site4>(orleansLru)),
        ];
    }

    /// <summary>For each key of <paramref name="order"/> (a permutation of 0..n-1), the position in it of the key read after it.</summary>
    private static int[] NextPositions(int[] order)
    {
        int[] next = new int[order.Length];
        for (int position = 0; position < order.Length; position++)
        {
            next[order[position]] = (position + 1) & (order.Length - 1);
        }

        return next;
    }

    /// <summary>Reads every key twice, as Go's benchmarks prime a map, so that SyncMap starts from a promoted snapshot.</summary>
    private static TReader Primed<TReader>(TReader reader)
        where TReader : IHitReader
    {
        for (int i = 0; i < 2 * reader.KeyCount; i++)
        {
            reader.Hit(i);
        }

        return reader;
    }

    private static void Measure(string name, int threads, int rounds, int reads, bool chase, bool warmUp, Peer[] peers)
    {
        using var runner = new ParallelRunner(threads);
        foreach (Peer peer in warmUp ? peers : [])
        {
            peer.WarmUp();
        }

        var times = peers.Select(_ => new List<RoundTime>()).ToArray();
        for (int round = 0; round < rounds; round++)
        {
            for (int n = 0; n < peers.Length; n++)
            {
                int index = round % 2 == 0 ? n : peers.Length - 1 - n;
                times[index].Add(peers[index].Time(runner, reads, chase));
            }
        }

        for (int index = 0; index < peers.Length; index++)
        {
            double[] wall = [.. times[index].Select(time => time.Wall)];
            double[] cpu = [.. times[index].Select(time => time.Cpu)];
            double[] ratios = [.. times[index].Zip(times[0], (time, baseline) => time.Wall / baseline.Wall)];
            double[] cpuRatios = [.. times[index].Zip(times[0], (time, baseline) => time.Cpu / baseline.Cpu)];
            ModeReport.Line($"| {name} | {threads} | {peers[index].Name} | {ModeReport.Median(wall):F2} | {ModeReport.Median(ratios):F2}x | {ratios.Min():F2}-{ratios.Max():F2}x | {ModeReport.Median(cpu):F2} | {ModeReport.Median(cpuRatios):F2}x | {cpuRatios.Min():F2}-{cpuRatios.Max():F2}x |");
        }
    }

    /// <summary>Reads <paramref name="reads"/> keys in order and counts the hits; specialized per reader type.</summary>
    private static int ReadLoop<TReader>(TReader reader, int reads)
        where TReader : IHitReader
    {
        int hits = 0;
        for (int i = 0; i < reads; i++)
        {
            if (reader.Hit(i))
            {
                hits++;
            }
        }

        return hits;
    }

    /// <summary>
    /// Reads <paramref name="reads"/> keys, each at the position the one before returned (<see cref="IHitReader.Next"/>),
    /// and counts the hits: one chain of dependent reads through every key.
    /// </summary>
    private static int ChaseLoop<TReader>(TReader reader, int reads)
        where TReader : IHitReader
    {
        int hits = 0;
        int position = 0;
        for (int i = 0; i < reads; i++)
        {
            position = reader.Next(position);
            if (position < 0)
            {
                return hits;
            }

            hits++;
        }

        return hits;
    }

    /// <summary>One peer of a case: its name, its warm-up and one timed round.</summary>
    private sealed class Peer(string name, Action warmUp, Func<ParallelRunner, int, bool, RoundTime> time)
    {
        internal string Name { get; } = name;

        internal static Peer Of<TReader>(string name, TReader reader)
            where TReader : IHitReader =>
            new(name, () => WarmUp(reader), (runner, reads, chase) => Time(runner, reader, reads, chase));

        internal void WarmUp() => warmUp();

        /// <summary>One round: ns per read of one thread, by the wall clock and by the threads' CPU time.</summary>
        internal RoundTime Time(ParallelRunner runner, int reads, bool chase) => time(runner, reads, chase);

        /// <summary>
        /// More than 30 calls of the loop (the call count that promotes a method from tier 0), then a pause
        /// longer than the tiering delay (100 ms), three times: the rounds then run tier-1 code compiled with the
        /// dynamic PGO profile, for the loop and for the peer's methods.
        /// </summary>
        private static void WarmUp<TReader>(TReader reader)
            where TReader : IHitReader
        {
            for (int round = 0; round < 3; round++)
            {
                for (int call = 0; call < 40; call++)
                {
                    ReadLoop(reader, Math.Min(8 * reader.KeyCount, 1 << 20));
                    ChaseLoop(reader, Math.Min(8 * reader.KeyCount, 1 << 20));
                }

                Thread.Sleep(150);
            }
        }

        private static RoundTime Time<TReader>(ParallelRunner runner, TReader reader, int reads, bool chase)
            where TReader : IHitReader
        {
            int[] hits = new int[runner.Threads];
            long[] cpu = new long[runner.Threads];
            runner.Arm();
            Thread.Sleep(1); // lets the woken helpers reach their spin loop
            long start = Stopwatch.GetTimestamp();
            runner.Run(worker =>
            {
                long cpuStart = ThreadCpuTime.IsSupported ? ThreadCpuTime.Nanoseconds() : 0;
                hits[worker] = chase ? ChaseLoop(reader, reads) : ReadLoop(reader, reads);
                cpu[worker] = ThreadCpuTime.IsSupported ? ThreadCpuTime.Nanoseconds() - cpuStart : 0;
            });
            TimeSpan elapsed = Stopwatch.GetElapsedTime(start);
            if (hits.Any(count => count != reads))
            {
                throw new InvalidOperationException($"A read missed: {string.Join(", ", hits)} hits of {reads} per thread.");
            }

            return new RoundTime(elapsed.TotalNanoseconds / reads, (double)cpu.Sum() / cpu.Length / reads);
        }
    }

    /// <summary>
    /// One peer's round: wall time over the reads of one thread, and the threads' mean CPU time over the same (the
    /// thread CPU clock leaves out the time a thread waited for a core; 0 where the platform has no such clock).
    /// </summary>
    private readonly record struct RoundTime(double Wall, double Cpu);

    private readonly struct IntDictionaryReader(ConcurrentDictionary<int, int> map, int[] keys) : IHitReader
    {
        public int KeyCount => keys.Length;

        public bool Hit(int i) => map.TryGetValue(keys[i & (keys.Length - 1)], out _);

        public int Next(int position) => map.TryGetValue(keys[position], out int next) ? next : -1;
    }

    private readonly struct IntSyncMapReader(SyncMap<int, int> map, int[] keys) : IHitReader
    {
        public int KeyCount => keys.Length;

        public bool Hit(int i) => map.TryGetValue(keys[i & (keys.Length - 1)], out _);

        public int Next(int position) => map.TryGetValue(keys[position], out int next) ? next : -1;
    }

    private readonly struct StringDictionaryReader(ConcurrentDictionary<string, object> map, string[] keys) : IHitReader
    {
        public int KeyCount => keys.Length;

        public bool Hit(int i) => map.TryGetValue(keys[i & (keys.Length - 1)], out _);

        public int Next(int position) => map.TryGetValue(keys[position], out object? next) ? (int)next : -1;
    }

    private readonly struct StringSyncMapReader(SyncMap<string, object> map, string[] keys) : IHitReader
    {
        public int KeyCount => keys.Length;

        public bool Hit(int i) => map.TryGetValue(keys[i & (keys.Length - 1)], out _);

        public int Next(int position) => map.TryGetValue(keys[position], out object? next) ? (int)next : -1;
    }

    /// <summary>
    /// A lookup through Orleans' interface, as the silo's grain locator makes it. <typeparamref name="TSite"/> gives
    /// each peer a read loop of its own (a value-type argument is never shared): a silo has one cache type, so its
    /// call site is monomorphic and dynamic PGO devirtualizes it. One loop shared by every peer would be profiled
    /// with whichever peer warmed it up first, which then alone would get the devirtualized call.
    /// </summary>
    private readonly struct CacheReader<TSite>(IGrainDirectoryCache cache, GrainId[] grains) : IHitReader
        where TSite : struct
    {
        public int KeyCount => grains.Length;

        public bool Hit(int i) => cache.LookUp(grains[i & (grains.Length - 1)], out _, out _);

        public int Next(int position) => cache.LookUp(grains[position], out _, out int next) ? next : -1;
    }

    private struct Site1;

    private struct Site2;

    private struct Site3;

    private struct Site4;

    private struct Site5;
}
