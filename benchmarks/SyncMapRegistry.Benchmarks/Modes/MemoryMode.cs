using System.Collections.Concurrent;
using SyncMapRegistry.Benchmarks.Registry;

namespace SyncMapRegistry.Benchmarks.Modes;

/// <summary>
/// <c>memory [--size 1000000] [--quick]</c>: bytes each map holds per entry, from
/// <see cref="GC.GetTotalMemory(bool)"/> after full collections, before the map is built and after it is filled;
/// keys and values are allocated beforehand and not counted, what the map allocates per entry (nodes, entries,
/// boxes, tables) is. Maps: <c>SyncMap&lt;int, int&gt;</c> beside <c>ConcurrentDictionary&lt;int, int&gt;</c>, and
/// the grain directory caches of <see cref="CachePeer.All"/> filled with grains. A read/dirty map is measured
/// twice: promoted (the read snapshot alone), and after one more new key (a dirty table rebuilt beside the snapshot,
/// the state until the next promotion).
/// </summary>
internal static class MemoryMode
{
    internal static int Run(ModeArguments arguments)
    {
        int size = arguments.Int("size", 1_000_000, 10_000);
        ModeReport.PrintEnvironment("memory");
        ModeReport.Line($"# {size:N0} entries; retained bytes per entry (GC.GetTotalMemory(true) after the map is built, minus before; keys and values not counted)");
        ModeReport.Line($"");
        ModeReport.Line($"| Map | State | Bytes per entry | Ratio to ConcurrentDictionary |");
        ModeReport.Line($"|---|---|---:|---:|");
        IntMaps(size);
        GrainCaches(size);
        return 0;
    }

    private static void IntMaps(int size)
    {
        long baseline = Heap();
        var dictionary = new ConcurrentDictionary<int, int>();
        for (int key = 0; key < size; key++)
        {
            dictionary[key] = key;
        }

        double reference = PerEntry(baseline, size);
        Print("ConcurrentDictionary<int, int>", "filled", reference, reference);
        GC.KeepAlive(dictionary);
        dictionary = null;

        baseline = Heap();
        var map = new SyncMap<int, int>();
        for (int key = 0; key < size; key++)
        {
            map.Store(key, key);
        }

        map.Range(static (_, _) => true); // a whole walk promotes every pending shard
        ModeReport.RequirePromoted("SyncMap<int, int>", map.GetStatistics());
        Print("SyncMap<int, int>", "promoted", PerEntry(baseline, size), reference);
        map.Store(size, size);
        Print("SyncMap<int, int>", "promoted, then one new key", PerEntry(baseline, size), reference);
        GC.KeepAlive(map);
    }

    private static void GrainCaches(int size)
    {
        GrainAddress[] grains = GrainPopulation.Activate(0, size + 1, 0);
        double reference = 0;
        foreach (Func<CachePeer> create in CachePeer.All(size + 1000))
        {
            long baseline = Heap();
            CachePeer peer = create();
            foreach (GrainAddress address in grains.AsSpan(0, size))
            {
                peer.Cache.AddOrUpdate(address, 1);
            }

            if (!peer.Promote(grains.AsSpan(0, size), 4L * size))
            {
                ModeReport.RequirePromoted(peer.Name, peer.Statistics!.Value);
            }

            double perEntry = PerEntry(baseline, size);
            reference = reference == 0 ? perEntry : reference;
            Print($"{peer.Name} (GrainId)", peer.Promotes ? "promoted" : "filled", perEntry, reference);
            if (peer.Promotes)
            {
                peer.Cache.AddOrUpdate(grains[size], 1);
                Print($"{peer.Name} (GrainId)", "promoted, then one new key", PerEntry(baseline, size), reference);
            }

            GC.KeepAlive(peer);
        }
    }

    private static double PerEntry(long baseline, int size) => (double)(Heap() - baseline) / size;

    private static long Heap() => GC.GetTotalMemory(forceFullCollection: true);

    private static void Print(string map, string state, double perEntry, double reference) =>
        ModeReport.Line($"| {map} | {state} | {perEntry:F1} | {perEntry / reference:F2}x |");
}
