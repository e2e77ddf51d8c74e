namespace SyncMapRegistry;

/// <summary>A point-in-time view of one registry map: its registry counters and its SyncMap's statistics.</summary>
/// <remarks>Counters are cumulative since the map was created; <see cref="Count"/> is a size at the moment of the call.</remarks>
/// <param name="Name">The map's name in telemetry (<c>syncmap.name</c>).</param>
/// <param name="Count">Entries held.</param>
/// <param name="LookupHits">Lookups that found the grain; 0 when lookup counting is off.</param>
/// <param name="LookupMisses">Lookups that did not find the grain; 0 when lookup counting is off.</param>
/// <param name="Updates">Entries added or replaced.</param>
/// <param name="Removals">Entries removed by callers (not by purges, evictions or clears).</param>
/// <param name="Purged">Entries removed because the silo they point at is dead or has left.</param>
/// <param name="Evicted">Entries removed by the entry cap.</param>
/// <param name="Map">The underlying SyncMap's read/dirty statistics.</param>
public readonly record struct GrainRegistryStatistics(
    string Name,
    int Count,
    long LookupHits,
    long LookupMisses,
    long Updates,
    long Removals,
    long Purged,
    long Evicted,
    SyncMapStatistics Map);
