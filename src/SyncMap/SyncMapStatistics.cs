using System.Globalization;

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
/// A promotion is one event: <see cref="Promotions"/> counts them, <see cref="EntriesCopied"/> and
/// <see cref="EntriesExpunged"/> say what they copied and left out.
/// </remarks>
public readonly struct SyncMapStatistics
{
    internal SyncMapStatistics(
        long promotions,
        long entriesCopied,
        long entriesExpunged,
        long misses,
        int readCount,
        int dirtyCount,
        long readHits,
        long dirtyHits,
        long lookupMisses)
    {
        Promotions = promotions;
        EntriesCopied = entriesCopied;
        EntriesExpunged = entriesExpunged;
        Misses = misses;
        ReadCount = readCount;
        DirtyCount = dirtyCount;
        ReadHits = readHits;
        DirtyHits = dirtyHits;
        LookupMisses = lookupMisses;
    }

    /// <summary>
    /// Promotions: each merged a shard's live snapshot entries and its dirty map's into a new read snapshot (the
    /// O(shard) copy; Go copies at the first new key after a promotion instead) and published it.
    /// </summary>
    public long Promotions { get; }

    /// <summary>Entries copied into new read snapshots by all promotions (the sum of their sizes).</summary>
    public long EntriesCopied { get; }

    /// <summary>Deleted entries expunged (left out of the new read snapshot) by all promotions.</summary>
    public long EntriesExpunged { get; }

    /// <summary>Operations that went past the read snapshot and consulted the dirty map, under the shard's lock or (a lookup that finds its key live there) without it (Go's <c>misses</c>, summed over all cycles).</summary>
    public long Misses { get; }

    /// <summary>Keys in the current read snapshot, deleted and expunged entries included.</summary>
    public int ReadCount { get; }

    /// <summary>Keys pending in dirty maps: added since their shard's snapshot was built, not yet promoted into it.</summary>
    public int DirtyCount { get; }

    /// <summary>Lookups served by the read snapshot; 0 unless read-hit counting is switched on for the map.</summary>
    public long ReadHits { get; }

    /// <summary>Lookups (<c>TryGetValue</c>) that missed the read snapshot and found a live value in the dirty map.</summary>
    public long DirtyHits { get; }

    /// <summary>Lookups (<c>TryGetValue</c>) that went under the lock and found no live value.</summary>
    public long LookupMisses { get; }

    /// <summary>
    /// One line a person can read, numbers grouped in the invariant culture, for example
    /// <c>read=11 dirty=0 promotions=2 copied=21 expunged=1 misses=12 lookups: read_hit=0 dirty_hit=10 miss=1</c>.
    /// </summary>
    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture,
        $"read={ReadCount:N0} dirty={DirtyCount:N0} promotions={Promotions:N0} copied={EntriesCopied:N0} expunged={EntriesExpunged:N0} misses={Misses:N0} lookups: read_hit={ReadHits:N0} dirty_hit={DirtyHits:N0} miss={LookupMisses:N0}");
}
