namespace SyncMapRegistry;

/// <summary>
/// A view of a <see cref="SyncMap{TKey, TValue}"/>'s read/dirty machinery, read without the map's lock.
/// </summary>
/// <remarks>
/// Every counter is maintained on a slow path, under the map's lock that the path already holds;
/// the lock-free read-hit path writes none of them. <see cref="ReadHits"/> is the one exception and is
/// only counted when the map opts in (in per-thread cells, never a shared counter).
/// Counters are cumulative since the map was created; <see cref="ReadCount"/> and
/// <see cref="DirtyCount"/> are sizes at the moment of the call. Each value is read on its own, so under
/// concurrent writes they need not describe one single moment.
/// </remarks>
public readonly struct SyncMapStatistics
{
    internal SyncMapStatistics(
        long promotions,
        long misses,
        long dirtyRebuilds,
        long rebuildEntriesCopied,
        long entriesExpunged,
        int readCount,
        int dirtyCount,
        long dirtyHits,
        long lookupMisses,
        long readHits)
    {
        Promotions = promotions;
        Misses = misses;
        DirtyRebuilds = dirtyRebuilds;
        RebuildEntriesCopied = rebuildEntriesCopied;
        EntriesExpunged = entriesExpunged;
        ReadCount = readCount;
        DirtyCount = dirtyCount;
        DirtyHits = dirtyHits;
        LookupMisses = lookupMisses;
        ReadHits = readHits;
    }

    /// <summary>Times a dirty map was promoted to become the read snapshot.</summary>
    public long Promotions { get; }

    /// <summary>Operations that went past the read snapshot and consulted the dirty map under the lock (Go's <c>misses</c>, summed over all cycles).</summary>
    public long Misses { get; }

    /// <summary>Times a dirty map was rebuilt by copying the read snapshot (the O(n) step after a promotion).</summary>
    public long DirtyRebuilds { get; }

    /// <summary>Entries copied into dirty maps by all rebuilds.</summary>
    public long RebuildEntriesCopied { get; }

    /// <summary>Deleted entries marked expunged (left out of a rebuilt dirty map).</summary>
    public long EntriesExpunged { get; }

    /// <summary>Keys in the current read snapshot, deleted and expunged entries included.</summary>
    public int ReadCount { get; }

    /// <summary>Keys in the current dirty map, or 0 when there is none.</summary>
    public int DirtyCount { get; }

    /// <summary>Lookups (<c>TryGetValue</c>) that missed the read snapshot and found a live value in the dirty map.</summary>
    public long DirtyHits { get; }

    /// <summary>Lookups (<c>TryGetValue</c>) that went under the lock and found no live value.</summary>
    public long LookupMisses { get; }

    /// <summary>Lookups served by the read snapshot; 0 unless read-hit counting is switched on for the map.</summary>
    public long ReadHits { get; }
}
