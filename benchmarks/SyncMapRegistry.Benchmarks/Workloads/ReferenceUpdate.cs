using BenchmarkDotNet.Attributes;
using SyncMapRegistry.Benchmarks.Infrastructure;
using Dictionary = System.Collections.Concurrent.ConcurrentDictionary<int, object>;
using Map = SyncMapRegistry.SyncMap<int, object>;

namespace SyncMapRegistry.Benchmarks.Workloads;

/// <summary>
/// Not one of Go's: the update of a live key with a reference-type value, which should allocate nothing (issue 3's
/// 0 B/op target; Go's workloads use int values, which SyncMap boxes on every store). 1024 keys, stored and primed
/// as Go primes a map; each operation stores one of two preallocated objects into an existing key and loads it
/// back. All cores.
/// </summary>
public class ReferenceUpdate : ParallelBenchmark
{
    private const int Keys = 1024;
    private static readonly object[] Values = [new(), new()];

    [IterationSetup(Target = nameof(ConcurrentDictionary))]
    public void SetupConcurrentDictionary() => Prepare(BuildDictionary, static (map, _, start, count) => Update(map, start, count));

    [IterationSetup(Target = nameof(SyncMap))]
    public void SetupSyncMap() => Prepare(BuildMap, static (map, _, start, count) => Update(map, start, count));

    [Benchmark(Baseline = true, OperationsPerInvoke = Ops)]
    public void ConcurrentDictionary() => RunParallel();

    [Benchmark(OperationsPerInvoke = Ops)]
    public void SyncMap() => RunParallel();

    private static Dictionary BuildDictionary()
    {
        var map = new Dictionary();
        for (int i = 0; i < 3 * Keys; i++)
        {
            if (i < Keys)
            {
                map[i] = Values[0];
            }
            else
            {
                map.TryGetValue(i % Keys, out _);
            }
        }

        return map;
    }

    private static Map BuildMap()
    {
        var map = new Map();
        for (int i = 0; i < 3 * Keys; i++)
        {
            if (i < Keys)
            {
                map.Store(i, Values[0]);
            }
            else
            {
                map.TryGetValue(i % Keys, out _);
            }
        }

        return map;
    }

    private static void Update(Dictionary map, int start, int count)
    {
        for (int i = start, end = start + count; i < end; i++)
        {
            map[i & (Keys - 1)] = Values[i & 1];
            map.TryGetValue(i & (Keys - 1), out _);
        }
    }

    private static void Update(Map map, int start, int count)
    {
        for (int i = start, end = start + count; i < end; i++)
        {
            map.Store(i & (Keys - 1), Values[i & 1]);
            map.TryGetValue(i & (Keys - 1), out _);
        }
    }
}
