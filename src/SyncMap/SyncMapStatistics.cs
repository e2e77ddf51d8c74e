namespace SyncMapRegistry;

/// <summary>
/// A view of a <see cref="SyncMap{TKey, TValue}"/>'s read/dirty machinery, read without any of the map's locks.
/// </summary>
/// <remarks>
/// Every counter is maintained on a slow path, under the shard's lock that the path already holds;
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

    /// <summary>Times a shard's dirty map was promoted into a new read snapshot.</summary>
    public long Promotions { get; }

    /// <summary>Operations that went past the read snapshot and consulted the dirty map under the lock (Go's <c>misses</c>, summed over all cycles).</summary>
    public long Misses { get; }

    /// <summary>Read snapshots rebuilt, one per promotion: the copy of a shard's live snapshot entries and its dirty map's (the O(shard) step; Go copies at the first new key after a promotion instead).</summary>
    public long DirtyRebuilds { get; }

    /// <summary>Entries copied into new read snapshots by all rebuilds.</summary>
    public long RebuildEntriesCopied { get; }

    /// <summary>Deleted entries marked expunged (left out of a rebuilt read snapshot).</summary>
    public long EntriesExpunged { get; }

    /// <summary>Keys in the current read snapshot, deleted and expunged entries included.</summary>
    public int ReadCount { get; }

    /// <summary>Keys pending in dirty maps: added since their shard's snapshot was built, not yet promoted into it.</summary>
    public int DirtyCount { get; }

    /// <summary>Lookups (<c>TryGetValue</c>) that missed the read snapshot and found a live value in the dirty map.</summary>
    public long DirtyHits { get; }

    /// <summary>Lookups (<c>TryGetValue</c>) that went under the lock and found no live value.</summary>
    public long LookupMisses { get; }

    /// <summary>Lookups served by the read snapshot; 0 unless read-hit counting is switched on for the map.</summary>
    public long ReadHits { get; }
}
