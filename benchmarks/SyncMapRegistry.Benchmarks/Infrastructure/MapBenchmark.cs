using SyncMapRegistry.Benchmarks.Peers;

namespace SyncMapRegistry.Benchmarks.Infrastructure;

/// <summary>
/// A Go workload from sync/map_bench_test.go, written once against <see cref="IIntMap"/>: <see cref="Setup"/> is
/// Go's <c>setup</c> and <see cref="Work"/> its <c>perG</c>, called with the worker's first <c>i</c> and its share
/// of the operations.
/// </summary>
public abstract class MapBenchmark : ParallelBenchmark
{
    internal virtual void Setup<TMap>(TMap map)
        where TMap : struct, IIntMap
    {
    }

    internal abstract void Work<TMap>(TMap map, int start, int count)
        where TMap : struct, IIntMap;

    /// <summary>Go's common setup: <c>LoadOrStore(i, i)</c> for <c>i &lt; hits</c>, then <c>Load(i % hits)</c> for <c>i &lt; 2 * hits</c> to promote.</summary>
    private protected static void LoadOrStorePrimed<TMap>(TMap map, int hits)
        where TMap : struct, IIntMap
    {
        for (int i = 0; i < hits; i++)
        {
            map.LoadOrStore(i, i, out _);
        }

        for (int i = 0; i < hits * 2; i++)
        {
            map.Load(i % hits, out _);
        }
    }

    /// <summary><c>Store(i, i)</c> for <c>i &lt; count</c>.</summary>
    private protected static void StoreKeys<TMap>(TMap map, int count)
        where TMap : struct, IIntMap
    {
        for (int i = 0; i < count; i++)
        {
            map.Store(i, i);
        }
    }

    /// <summary>Makes the next invocation run the workload on a map from <paramref name="create"/>, set up by <see cref="Setup"/>.</summary>
    private protected void Prepare<TMap>(Func<TMap> create)
        where TMap : struct, IIntMap =>
        Prepare(
            () =>
            {
                TMap map = create();
                Setup(map);
                return map;
            },
            (map, _, start, count) => Work(map, start, count));
}
