using System.Diagnostics;
using System.Globalization;
using SyncMapRegistry.Benchmarks.Peers;

namespace SyncMapRegistry.Benchmarks.Infrastructure;

/// <summary>
/// <c>--profile Workload [threads] [seconds] [SyncMap|ConcurrentDictionary]</c>: runs one Go workload on one peer outside BenchmarkDotNet, for
/// a profiler to attach to (for example <c>perf record</c> with <c>DOTNET_PerfMapEnabled=1</c>), and prints its
/// ns/op with the map's read/dirty statistics per operation: how many promotions, locked misses
/// and entries copied by promotions each operation cost.
/// </summary>
internal static class ProfileMode
{
    internal static int Run(string[] args)
    {
        string name = args.Length > 0 ? args[0] : nameof(Workloads.AdversarialDelete);
        int threads = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : Environment.ProcessorCount;
        double seconds = args.Length > 2 ? double.Parse(args[2], CultureInfo.InvariantCulture) : 3;
        Type? type = typeof(ProfileMode).Assembly.GetTypes().FirstOrDefault(t => t.Name == name && t.IsSubclassOf(typeof(MapBenchmark)) && !t.IsAbstract);
        if (type is null)
        {
            Console.Error.WriteLine($"No workload named {name}.");
            return 2;
        }

        var workload = (MapBenchmark)Activator.CreateInstance(type)!;
        string peer = args.Length > 3 ? args[3] : "SyncMap";
        switch (peer)
        {
            case "SyncMap":
                return Run(workload, name, threads, seconds, () => new SyncMap<int, int>(), map => new SyncMapAdapter(map), map => map.GetStatistics());
            case "ConcurrentDictionary":
                return Run(
                    workload,
                    name,
                    threads,
                    seconds,
                    () => new System.Collections.Concurrent.ConcurrentDictionary<int, int>(),
                    map => new ConcurrentDictionaryAdapter<BclConcurrentDictionary>(new BclConcurrentDictionary(map)),
                    statistics: null);
            default:
                Console.Error.WriteLine($"No peer named {peer}: SyncMap or ConcurrentDictionary.");
                return 2;
        }
    }

    private static int Run<TState, TMap>(MapBenchmark workload, string name, int threads, double seconds, Func<TState> create, Func<TState, TMap> adapt, Func<TState, SyncMapStatistics>? statistics)
        where TMap : struct, IIntMap
    {
        long ops = 0;
        var stopwatch = Stopwatch.StartNew();
        TimeSpan elapsed = TimeSpan.Zero;
        TimeSpan paused = TimeSpan.Zero;
        int[] collections = new int[3];
        SyncMapStatistics total = default;
        while (stopwatch.Elapsed.TotalSeconds < seconds)
        {
            // One Go run per round, as in the benchmark: a fresh map, set up, then Ops operations shared by the threads.
            TState map = create();
            workload.Setup(adapt(map));
            SyncMapStatistics before = statistics?.Invoke(map) ?? default;
            int perThread = ParallelBenchmark.Ops / threads;
            int[] collectionsBefore = [GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2)];
            TimeSpan pausedBefore = GC.GetTotalPauseDuration();
            var round = Stopwatch.StartNew();
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, worker =>
                workload.Work(adapt(map), worker * ParallelBenchmark.Ops, perThread));
            elapsed += round.Elapsed;
            paused += GC.GetTotalPauseDuration() - pausedBefore;
            for (int generation = 0; generation < 3; generation++)
            {
                collections[generation] += GC.CollectionCount(generation) - collectionsBefore[generation];
            }

            ops += (long)perThread * threads;
            if (statistics is not null)
            {
                total = Add(total, Subtract(statistics(map), before));
            }
        }

        double perOp(long count) => (double)count / ops;
        string peer = statistics is null ? "ConcurrentDictionary<int,int>" : "SyncMap<int,int>";
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name} on {peer}, {threads} thread(s), {ops:N0} ops: {elapsed.TotalNanoseconds / ops * threads:F1} ns/op per thread, {elapsed.TotalNanoseconds / ops:F2} ns/op wall"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  garbage collections per million ops: gen0 {collections[0] * 1e6 / ops:F1}, gen1 {collections[1] * 1e6 / ops:F1}, gen2 {collections[2] * 1e6 / ops:F1}; paused {paused.TotalNanoseconds / ops:F2} ns/op ({paused / elapsed:P0} of the wall time)"));
        if (statistics is null)
        {
            return 0;
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  per op: promotions {perOp(total.Promotions):F5}, locked misses {perOp(total.Misses):F4}, dirty hits {perOp(total.DirtyHits):F4}, lookup misses under lock {perOp(total.LookupMisses):F4}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  per op: entries copied by promotions {perOp(total.EntriesCopied):F3}, expunged {perOp(total.EntriesExpunged):F5}; final read {total.ReadCount:N0} keys, dirty {total.DirtyCount:N0}"));
        return 0;
    }

    private static SyncMapStatistics Subtract(SyncMapStatistics a, SyncMapStatistics b) => new(
        a.Promotions - b.Promotions, a.EntriesCopied - b.EntriesCopied, a.EntriesExpunged - b.EntriesExpunged, a.Misses - b.Misses,
        a.ReadCount, a.DirtyCount, a.ReadHits - b.ReadHits, a.DirtyHits - b.DirtyHits, a.LookupMisses - b.LookupMisses);

    private static SyncMapStatistics Add(SyncMapStatistics a, SyncMapStatistics b) => new(
        a.Promotions + b.Promotions, a.EntriesCopied + b.EntriesCopied, a.EntriesExpunged + b.EntriesExpunged, a.Misses + b.Misses,
        b.ReadCount, b.DirtyCount, a.ReadHits + b.ReadHits, a.DirtyHits + b.DirtyHits, a.LookupMisses + b.LookupMisses);
}
