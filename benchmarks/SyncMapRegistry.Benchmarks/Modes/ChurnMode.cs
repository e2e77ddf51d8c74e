using System.Collections.Concurrent;
using System.Diagnostics;

namespace SyncMapRegistry.Benchmarks.Modes;

/// <summary>
/// <c>churn [--size 1000000] [--new 200000] [--rounds 7] [--keys sequential|scattered|mixed] [--verbose 1] [--quick]</c>: a map that keeps <c>--size</c> entries while
/// its keys turn over, as a silo's directory cache does when grains activate and deactivate all day. Each map
/// (<c>SyncMap&lt;int, int&gt;</c> and <c>ConcurrentDictionary&lt;int, int&gt;</c>) is filled with <c>--size</c> keys (a
/// SyncMap is then promoted), outside the measurement. A round then takes <c>--new</c> steps on one thread, each
/// deleting the oldest key, storing a new one, and looking up the four keys stored last (this one and the three
/// before it), which a read/dirty map finds in its dirty tables until their shards promote; every lookup must hit.
/// A map keeps its keys from round to round, so every round after the first starts where churn left it. Per round
/// and peer: wall time and the thread's CPU time per new key, bytes allocated per new key
/// (<see cref="GC.GetAllocatedBytesForCurrentThread"/>, the round runs on this thread alone), and the collections of
/// each generation (<see cref="GC.CollectionCount"/>) and the collector's pause time
/// (<see cref="GC.GetTotalPauseDuration"/>) during the round. Each round starts after a full blocking collection, so
/// no round inherits another's garbage; the peers alternate which goes first. The table gives the median over the
/// rounds and, for ratios, the median of the rounds' ratios and their range; and the bytes of all rounds over all
/// their new keys, because a map's shards, filled together, tend to promote in the same rounds (a round that holds
/// a wave of promotions is the median's outlier, not the rule, and the mean counts it once per round). A warm-up of two short rounds per map,
/// each followed by a pause longer than the tiering delay, comes first (skipped with <c>--quick</c>). <c>--verbose 1</c>
/// prints every round, with the SyncMap's promotions and shards so far.
/// </summary>
internal static class ChurnMode
{
    /// <summary>Lookups of recently stored keys after each new key.</summary>
    private const int Lookups = 4;

    internal static int Run(ModeArguments arguments)
    {
        int size = arguments.Int("size", 1_000_000, 20_000);
        int newKeys = arguments.Int("new", 200_000, 5_000);
        int rounds = arguments.Int("rounds", 7, 1);
        bool verbose = arguments.Int("verbose", 0, 0) != 0;

        // Sequential keys (0, 1, 2...) are what ConcurrentDictionary likes best: an int's hash code is the int, so its
        // buckets and nodes are visited in memory order. Scattered and mixed keys spread their hash codes, and every peer
        // pays for random accesses; mixed ones as a grain's do (IntKeys).
        IntKeyKind keys = IntKeys.Parse(arguments, "keys");
        if (size < Lookups || newKeys < Lookups)
        {
            throw new ArgumentException($"--size and --new must be at least {Lookups}: {size}, {newKeys}.", nameof(arguments));
        }

        ModeReport.PrintEnvironment("churn");
        ModeReport.Line($"# {size:N0} entries, {IntKeys.Describe(keys)} int keys; per round {newKeys:N0} steps of (delete the oldest key, store a new one, look up the {Lookups} keys stored last), one thread; {rounds} alternating rounds, a full collection before each");
        ModeReport.Line($"");

        Churner[] peers = [new DictionaryChurner(size, keys), new SyncMapChurner(size, keys)];
        if (!arguments.Quick)
        {
            for (int warmUp = 0; warmUp < 2; warmUp++)
            {
                foreach (Churner peer in peers)
                {
                    peer.Round(Math.Min(newKeys, 50_000));
                }

                Thread.Sleep(200);
            }
        }

        var results = peers.Select(_ => new List<RoundResult>()).ToArray();
        for (int round = 0; round < rounds; round++)
        {
            for (int n = 0; n < peers.Length; n++)
            {
                int index = round % 2 == 0 ? n : peers.Length - 1 - n;
                RoundResult result = Measure(peers[index], newKeys);
                results[index].Add(result);
                if (verbose)
                {
                    ModeReport.Line($"# round {round}, {peers[index].Name}: {result.WallNs:F0} ns, {result.CpuNs:F0} CPU ns, {result.Bytes:F1} B per new key ({result.BytesByAll:F1} by all threads); gen0/1/2 {result.Gen0}/{result.Gen1}/{result.Gen2}; GC pause {result.PauseMs:F1} ms; {peers[index].Describe()}");
                }
            }
        }

        ModeReport.Line($"| Peer | ns per new key (median) | ratio (median) | ratio range | CPU-time ratio (median) | CPU-time ratio range | bytes per new key (median) | ratio (median) | bytes per new key, all rounds | ratio, all rounds | gen0 / gen1 / gen2 per round (median) | range of gen1 | GC pause ms per round (median) |");
        ModeReport.Line($"|---|---:|---:|---|---:|---|---:|---:|---:|---:|---|---|---:|");
        for (int index = 0; index < peers.Length; index++)
        {
            List<RoundResult> mine = results[index];
            List<RoundResult> baseline = results[0];
            double[] ratios = [.. mine.Zip(baseline, (m, b) => m.WallNs / b.WallNs)];
            double[] cpuRatios = [.. mine.Zip(baseline, (m, b) => m.CpuNs / b.CpuNs)];
            double[] byteRatios = [.. mine.Zip(baseline, (m, b) => m.Bytes / Math.Max(b.Bytes, 1))];
            ModeReport.Line($"| {peers[index].Name} | {ModeReport.Median(mine.Select(r => r.WallNs)):F0} | {ModeReport.Median(ratios):F2}x | {ratios.Min():F2}-{ratios.Max():F2}x | {ModeReport.Median(cpuRatios):F2}x | {cpuRatios.Min():F2}-{cpuRatios.Max():F2}x | {ModeReport.Median(mine.Select(r => r.Bytes)):F1} | {ModeReport.Median(byteRatios):F2}x | {mine.Average(r => r.Bytes):F1} | {mine.Average(r => r.Bytes) / baseline.Average(r => r.Bytes):F2}x | {ModeReport.Median(mine.Select(r => (double)r.Gen0)):F0} / {ModeReport.Median(mine.Select(r => (double)r.Gen1)):F0} / {ModeReport.Median(mine.Select(r => (double)r.Gen2)):F0} | {mine.Min(r => r.Gen1)}-{mine.Max(r => r.Gen1)} | {ModeReport.Median(mine.Select(r => r.PauseMs)):F1} |");
        }

        ModeReport.Line($"");
        foreach (Churner peer in peers)
        {
            if (peer.Describe() is { } note)
            {
                ModeReport.Line($"# {note}");
            }
        }

        return 0;
    }

    private static RoundResult Measure(Churner peer, int newKeys)
    {
        peer.Prepare(newKeys);
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        int gen0 = GC.CollectionCount(0);
        int gen1 = GC.CollectionCount(1);
        int gen2 = GC.CollectionCount(2);
        TimeSpan pause = GC.GetTotalPauseDuration();
        long bytes = GC.GetAllocatedBytesForCurrentThread();
        long total = GC.GetTotalAllocatedBytes(precise: true);
        long cpu = ThreadCpuTime.IsSupported ? ThreadCpuTime.Nanoseconds() : 0;
        long start = Stopwatch.GetTimestamp();
        peer.Run(newKeys);
        TimeSpan elapsed = Stopwatch.GetElapsedTime(start);
        long cpuNs = ThreadCpuTime.IsSupported ? ThreadCpuTime.Nanoseconds() - cpu : 0;
        long allocated = GC.GetAllocatedBytesForCurrentThread() - bytes;
        long allocatedByAll = GC.GetTotalAllocatedBytes(precise: true) - total;
        return new RoundResult(
            elapsed.TotalNanoseconds / newKeys,
            (double)cpuNs / newKeys,
            (double)allocated / newKeys,
            (double)allocatedByAll / newKeys,
            GC.CollectionCount(0) - gen0,
            GC.CollectionCount(1) - gen1,
            GC.CollectionCount(2) - gen2,
            (GC.GetTotalPauseDuration() - pause).TotalMilliseconds);
    }

    private readonly record struct RoundResult(double WallNs, double CpuNs, double Bytes, double BytesByAll, int Gen0, int Gen1, int Gen2, double PauseMs);

    /// <summary>
    /// One map under churn. Live keys are those numbered <c>[_oldest, _next)</c>: a step deletes the oldest, stores the
    /// next and looks it up with the three keys before it. A round's keys are computed before it is timed
    /// (<see cref="Prepare"/>), so that the timed loop reads them from two arrays in order, whatever their kind costs
    /// to compute (<see cref="IntKeys"/>).
    /// </summary>
    private abstract class Churner(int size, IntKeyKind keys)
    {
        private int _oldest;
        private int _next = size;

        /// <summary>The keys the round deletes, in order.</summary>
        private int[] _deleted = [];

        /// <summary>The keys the round stores, in order, after the <see cref="Lookups"/> - 1 keys stored last before it.</summary>
        private int[] _stored = [];

        internal abstract string Name { get; }

        /// <summary>A warm-up round: <see cref="Prepare"/>, then <see cref="Run"/>.</summary>
        internal void Round(int newKeys)
        {
            Prepare(newKeys);
            Run(newKeys);
        }

        /// <summary>Computes the keys of the next round of <paramref name="newKeys"/> steps.</summary>
        internal void Prepare(int newKeys)
        {
            if (_deleted.Length < newKeys)
            {
                _deleted = new int[newKeys];
                _stored = new int[newKeys + Lookups - 1];
            }

            for (int i = 0; i < newKeys; i++)
            {
                _deleted[i] = KeyOf(_oldest + i);
            }

            for (int j = 0; j < newKeys + Lookups - 1; j++)
            {
                _stored[j] = KeyOf(_next - (Lookups - 1) + j);
            }
        }

        /// <summary>The round <see cref="Prepare"/> computed the keys of: the timed part.</summary>
        internal void Run(int newKeys)
        {
            int hits = Steps(_deleted, _stored, _next, newKeys);
            if (hits != newKeys * Lookups)
            {
                throw new InvalidOperationException($"{Name}: {newKeys * Lookups - hits} of {newKeys * Lookups} lookups of recent keys missed.");
            }

            _oldest += newKeys;
            _next += newKeys;
        }

        /// <summary>The key numbered <paramref name="n"/> (<see cref="IntKeys"/>).</summary>
        protected int KeyOf(int n) => IntKeys.Of(n, keys);

        /// <summary>
        /// The round's loop: step i deletes <paramref name="deleted"/>[i], stores <paramref name="stored"/>[i + 3] (its
        /// value <paramref name="next"/> + i) and looks up <paramref name="stored"/>[i..i + 3]; returns the lookups that hit.
        /// </summary>
        protected abstract int Steps(int[] deleted, int[] stored, int next, int newKeys);

        internal virtual string? Describe() => null;
    }

    private sealed class DictionaryChurner : Churner
    {
        private readonly ConcurrentDictionary<int, int> _map = new();

        internal DictionaryChurner(int size, IntKeyKind keys)
            : base(size, keys)
        {
            for (int key = 0; key < size; key++)
            {
                _map[KeyOf(key)] = key;
            }
        }

        internal override string Name => "ConcurrentDictionary";

        protected override int Steps(int[] deleted, int[] stored, int next, int newKeys)
        {
            ConcurrentDictionary<int, int> map = _map;
            int hits = 0;
            for (int i = 0; i < newKeys; i++)
            {
                map.TryRemove(deleted[i], out _);
                map[stored[i + Lookups - 1]] = next + i;
                for (int back = 0; back < Lookups; back++)
                {
                    if (map.TryGetValue(stored[i + Lookups - 1 - back], out _))
                    {
                        hits++;
                    }
                }
            }

            return hits;
        }
    }

    private sealed class SyncMapChurner : Churner
    {
        private readonly SyncMap<int, int> _map = new();
        private readonly SyncMapStatistics _start;
        private long _steps;

        internal SyncMapChurner(int size, IntKeyKind keys)
            : base(size, keys)
        {
            for (int key = 0; key < size; key++)
            {
                _map.Store(KeyOf(key), key);
            }

            _map.Range(static (_, _) => true); // a whole walk promotes every pending shard
            ModeReport.RequirePromoted("SyncMap<int, int>", _map.GetStatistics());
            _start = _map.GetStatistics();
        }

        internal override string Name => "SyncMap";

        protected override int Steps(int[] deleted, int[] stored, int next, int newKeys)
        {
            SyncMap<int, int> map = _map;
            int hits = 0;
            for (int i = 0; i < newKeys; i++)
            {
                map.Delete(deleted[i]);
                map.Store(stored[i + Lookups - 1], next + i);
                for (int back = 0; back < Lookups; back++)
                {
                    if (map.TryGetValue(stored[i + Lookups - 1 - back], out _))
                    {
                        hits++;
                    }
                }
            }

            _steps += newKeys;
            return hits;
        }

        /// <summary>The length of the map's directory of shards (a diagnostic: each promotion copies it).</summary>
        private static int DirectoryLength(SyncMap<int, int> map) =>
            ((Array)typeof(SyncMap<int, int>).GetField("_shards", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!.GetValue(map)!).Length;

        internal override string Describe()
        {
            SyncMapStatistics now = _map.GetStatistics();
            long promotions = now.Promotions - _start.Promotions;
            long misses = now.Misses - _start.Misses;
            return $"SyncMap over all rounds (warm-up included): {(double)misses / _steps:F2} misses per new key and {1000.0 * promotions / _steps:F2} promotions per 1,000 new keys ({(double)misses / Math.Max(promotions, 1):F0} misses per promotion); {_map.ShardCount:N0} shards in a directory of {DirectoryLength(_map):N0}; now {now.ReadCount:N0} snapshot and {now.DirtyCount:N0} dirty keys";
        }
    }
}
