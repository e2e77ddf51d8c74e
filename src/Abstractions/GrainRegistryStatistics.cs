namespace SyncMapRegistry;

/// <summary>A point-in-time view of one registry map: its registry counters and its SyncMap's statistics.</summary>
/// <remarks>
/// Counters are cumulative since the map was created; <see cref="Count"/> is a size at the moment of the call.
/// Only the registry creates instances, so counters can be added without breaking anyone's binaries.
/// </remarks>
public sealed class GrainRegistryStatistics
{
    internal GrainRegistryStatistics(
        string name,
        int count,
        long lookupHits,
        long lookupMisses,
        long updates,
        long removals,
        long purged,
        long evicted,
        SyncMapStatistics map)
    {
        Name = name;
        Count = count;
        LookupHits = lookupHits;
        LookupMisses = lookupMisses;
        Updates = updates;
        Removals = removals;
        Purged = purged;
        Evicted = evicted;
        Map = map;
    }

    /// <summary>The map's name in telemetry (<c>syncmap.name</c>).</summary>
    public string Name { get; }

    /// <summary>Entries held.</summary>
    public int Count { get; }

    /// <summary>Lookups that found the grain; 0 when lookup counting is off.</summary>
    public long LookupHits { get; }

    /// <summary>Lookups that did not find the grain; 0 when lookup counting is off.</summary>
    public long LookupMisses { get; }

    /// <summary>Entries added or replaced.</summary>
    public long Updates { get; }

    /// <summary>Entries removed by callers (not by purges or evictions).</summary>
    public long Removals { get; }

    /// <summary>Entries removed because the silo they point at is dead or has left.</summary>
    public long Purged { get; }

    /// <summary>Entries removed by the entry cap.</summary>
    public long Evicted { get; }

    /// <summary>The underlying SyncMap's read/dirty statistics.</summary>
    public SyncMapStatistics Map { get; }

    /// <inheritdoc/>
    public override string ToString() =>
        $"{Name}: count={Count} hits={LookupHits} misses={LookupMisses} updates={Updates} removals={Removals} purged={Purged} evicted={Evicted} | map: {Map}";
}
