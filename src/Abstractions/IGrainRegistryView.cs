using System.Diagnostics.CodeAnalysis;

namespace SyncMapRegistry;

/// <summary>
/// The public read contract of one of the registry's maps, keyed by <see cref="GrainId"/>: look up a grain,
/// count entries, enumerate them, and read statistics.
/// </summary>
/// <remarks>
/// Lookups take no lock and write no shared memory: the optional lookup counters
/// (<see cref="SyncMapRegistryOptions.CountLookups"/>) are per-thread cells, each written only by its own thread.
/// Enumeration tolerates concurrent mutation: it is not a snapshot, visits no key twice, and may or may not
/// see changes made while it runs. The directory cache's enumeration does not promote its map: watching the cache
/// does not change it.
/// </remarks>
/// <typeparam name="TValue">What the map holds per grain.</typeparam>
public interface IGrainRegistryView<TValue> : IEnumerable<KeyValuePair<GrainId, TValue>>
    where TValue : class
{
    /// <summary>The map's name in telemetry (<c>syncmap.name</c>).</summary>
    string Name { get; }

    /// <summary>The number of entries. O(1), kept by writers; under concurrent writes it is a moment's estimate.</summary>
    int Count { get; }

    /// <summary>Looks a grain up. Lock-free.</summary>
    /// <param name="grainId">The grain.</param>
    /// <param name="value">The grain's entry, when found.</param>
    /// <returns><c>true</c> when the map holds the grain.</returns>
    bool TryLookUp(GrainId grainId, [NotNullWhen(true)] out TValue? value);

    /// <summary>The map's registry counters and read/dirty statistics.</summary>
    GrainRegistryStatistics GetStatistics();
}
