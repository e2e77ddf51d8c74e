using System.Diagnostics;
using System.Globalization;
using SyncMapRegistry.Benchmarks.Peers;

namespace SyncMapRegistry.Benchmarks.Infrastructure;

/// <summary>
/// <c>--profile Workload [threads] [seconds]</c>: runs one Go workload on a SyncMap outside BenchmarkDotNet, for
/// a profiler to attach to (for example <c>perf record</c> with <c>DOTNET_PerfMapEnabled=1</c>), and prints its
/// ns/op with the map's read/dirty statistics per operation: how many promotions, locked misses, dirty rebuilds
/// and copied entries each operation cost.
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
        long ops = 0;
        var stopwatch = Stopwatch.StartNew();
        TimeSpan elapsed = TimeSpan.Zero;
        SyncMapStatistics total = default;
        while (stopwatch.Elapsed.TotalSeconds < seconds)
        {
            // One Go run per round, as in the benchmark: a fresh map, set up, then Ops operations shared by the threads.
            var map = new SyncMap<int, int>();
            workload.Setup(new SyncMapAdapter(map));
            SyncMapStatistics before = map.GetStatistics();
            int perThread = ParallelBenchmark.Ops / threads;
            var round = Stopwatch.StartNew();
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, worker =>
                workload.Work(new SyncMapAdapter(map), worker * ParallelBenchmark.Ops, perThread));
            elapsed += round.Elapsed;
            ops += (long)perThread * threads;
            total = Add(total, Subtract(map.GetStatistics(), before));
        }

        double perOp(long count) => (double)count / ops;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name} on SyncMap<int,int>, {threads} thread(s), {ops:N0} ops: {elapsed.TotalNanoseconds / ops * threads:F1} ns/op per thread, {elapsed.TotalNanoseconds / ops:F2} ns/op wall"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  per op: promotions {perOp(total.Promotions):F5}, locked misses {perOp(total.Misses):F4}, dirty hits {perOp(total.DirtyHits):F4}, lookup misses under lock {perOp(total.LookupMisses):F4}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  per op: dirty rebuilds {perOp(total.DirtyRebuilds):F5}, entries copied {perOp(total.RebuildEntriesCopied):F3}, expunged {perOp(total.EntriesExpunged):F5}; final read {total.ReadCount:N0} keys, dirty {total.DirtyCount:N0}"));
        return 0;
    }

    private static SyncMapStatistics Subtract(SyncMapStatistics a, SyncMapStatistics b) => new(
        a.Promotions - b.Promotions, a.Misses - b.Misses, a.DirtyRebuilds - b.DirtyRebuilds, a.RebuildEntriesCopied - b.RebuildEntriesCopied,
        a.EntriesExpunged - b.EntriesExpunged, a.ReadCount, a.DirtyCount, a.DirtyHits - b.DirtyHits, a.LookupMisses - b.LookupMisses, a.ReadHits - b.ReadHits);

    private static SyncMapStatistics Add(SyncMapStatistics a, SyncMapStatistics b) => new(
        a.Promotions + b.Promotions, a.Misses + b.Misses, a.DirtyRebuilds + b.DirtyRebuilds, a.RebuildEntriesCopied + b.RebuildEntriesCopied,
        a.EntriesExpunged + b.EntriesExpunged, b.ReadCount, b.DirtyCount, a.DirtyHits + b.DirtyHits, a.LookupMisses + b.LookupMisses, a.ReadHits + b.ReadHits);
}
