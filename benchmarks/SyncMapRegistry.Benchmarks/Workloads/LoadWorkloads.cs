using BenchmarkDotNet.Attributes;
using SyncMapRegistry.Benchmarks.Infrastructure;

namespace SyncMapRegistry.Benchmarks.Workloads;

/// <summary>Go's <c>LoadMostlyHits</c> / <c>LoadMostlyMisses</c>: <paramref name="hits"/> keys, primed; <c>Load(i % 1024)</c>.</summary>
public abstract class LoadMostly(int hits) : PeerBenchmark
{
    internal override void Setup<TMap>(TMap map) => LoadOrStorePrimed(map, hits);

    internal override void Work<TMap>(TMap map, int start, int count)
    {
        for (int i = start, end = start + count; i < end; i++)
        {
            map.Load(i % 1024, out _);
        }
    }
}

/// <summary>
/// The read hit, the workload SyncMap is built for: 1023 of every 1024 loads hit. Also the scaling benchmark,
/// at 1, 2, ... <see cref="Environment.ProcessorCount"/> threads.
/// </summary>
public class LoadMostlyHits() : LoadMostly(1023)
{
    [ParamsSource(nameof(AllThreadCounts))]
    public int Threads { get; set; }

    protected override int ThreadCount => Threads;
}

/// <summary>
/// Not one of Go's: <see cref="LoadMostlyHits"/> with the 1024 keys loaded in a fixed random order instead of
/// 0, 1, 2, ... Sequential int keys favour maps that hash an int to itself (ConcurrentDictionary walks its
/// buckets in order, which the prefetcher and branch predictor love), while SyncMap's Fibonacci hashing scatters
/// them; real keys (grain ids, strings) scatter in every map. All cores.
/// </summary>
public class LoadMostlyHitsShuffled : PeerBenchmark
{
    private static readonly int[] Order = Shuffled(1024);

    internal override void Setup<TMap>(TMap map) => LoadOrStorePrimed(map, 1023);

    internal override void Work<TMap>(TMap map, int start, int count)
    {
        int[] order = Order;
        for (int i = start, end = start + count; i < end; i++)
        {
            map.Load(order[i & 1023], out _);
        }
    }

    private static int[] Shuffled(int count)
    {
        int[] keys = [.. Enumerable.Range(0, count)];
        new Random(7).Shuffle(keys);
        return keys;
    }
}

/// <summary>1023 of every 1024 loads miss.</summary>
public class LoadMostlyMisses() : LoadMostly(1);

/// <summary>
/// Go's <c>Range</c>: a full <c>Range</c> over 1024 keys per operation. An operation takes microseconds, so it
/// runs fewer iterations than the rest.
/// </summary>
[WarmupCount(1)]
[IterationCount(5)]
public class Range : PeerBenchmark
{
    internal override void Setup<TMap>(TMap map) => StoreKeys(map, 1024);

    internal override void Work<TMap>(TMap map, int start, int count)
    {
        for (int i = 0; i < count; i++)
        {
            map.Range(static (_, _) => true);
        }
    }
}

/// <summary>
/// Go's <c>AdversarialAlloc</c>: loads of unique, missing keys, with a new key stored whenever the loads since
/// the last store exceed the stores so far; so a new key follows every promotion and each costs a dirty rebuild.
/// </summary>
public class AdversarialAlloc : PeerBenchmark
{
    internal override void Work<TMap>(TMap map, int start, int count)
    {
        int stores = 0;
        int loadsSinceStore = 0;
        for (int i = start, end = start + count; i < end; i++)
        {
            map.Load(i, out _);
            if (++loadsSinceStore > stores)
            {
                map.LoadOrStore(i, stores, out _);
                loadsSinceStore = 0;
                stores++;
            }
        }
    }
}

/// <summary>
/// Go's <c>AdversarialDelete</c>: loads over a 1024-key map; every 1024th operation a <c>Range</c> deletes the
/// first key it visits and a new key is stored. In Go each Range promotes and each new key rebuilds dirty; here a new
/// key copies nothing, and a Range that stops in the first shard promotes only what it walked to the end.
/// </summary>
public class AdversarialDelete : PeerBenchmark
{
    internal override void Setup<TMap>(TMap map) => StoreKeys(map, 1024);

    internal override void Work<TMap>(TMap map, int start, int count)
    {
        Func<int, int, bool> deleteFirst = (key, _) =>
        {
            map.Delete(key);
            return false;
        };
        for (int i = start, end = start + count; i < end; i++)
        {
            map.Load(i, out _);
            if (i % 1024 == 0)
            {
                map.Range(deleteFirst);
                map.Store(i, i);
            }
        }
    }
}

/// <summary>Go's <c>Clear</c>: <c>Clear()</c> then <c>Store(i % 256, i % 256)</c>.</summary>
public class Clear : PeerBenchmark
{
    internal override void Work<TMap>(TMap map, int start, int count)
    {
        for (int i = start, end = start + count; i < end; i++)
        {
            map.Clear();
            map.Store(i % 256, i % 256);
        }
    }
}
