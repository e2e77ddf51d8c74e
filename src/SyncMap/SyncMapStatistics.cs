namespace SyncMapRegistry;

/// <summary>
/// A point-in-time view of a <c>SyncMap</c>'s read/dirty machinery.
/// </summary>
/// <remarks>
/// Every counter is maintained on a slow path, under the map's lock that the path already holds;
/// the lock-free read-hit path writes none of them. <see cref="ReadHits"/> is the one exception and is
/// only counted when the map opts in (with per-core striped cells, never a shared counter).
/// Counters are cumulative since the map was created; <see cref="ReadCount"/> and
/// <see cref="DirtyCount"/> are sizes at the moment of the call.
/// </remarks>
/// <param name="Promotions">Times the dirty map was promoted to become the read snapshot.</param>
/// <param name="Misses">Operations that went past the read snapshot and consulted the dirty map under the lock (Go's <c>misses</c>, summed over all cycles).</param>
/// <param name="DirtyRebuilds">Times a dirty map was rebuilt by copying the read snapshot (the O(n) step after a promotion).</param>
/// <param name="RebuildEntriesCopied">Entries copied into dirty maps by all rebuilds.</param>
/// <param name="EntriesExpunged">Deleted entries marked expunged (left out of a rebuilt dirty map).</param>
/// <param name="ReadCount">Keys in the current read snapshot, deleted and expunged entries included.</param>
/// <param name="DirtyCount">Keys in the current dirty map, or 0 when there is none.</param>
/// <param name="DirtyHits">Lookups (<c>TryGetValue</c>) that missed the read snapshot and found a live value in the dirty map.</param>
/// <param name="LookupMisses">Lookups (<c>TryGetValue</c>) that went under the lock and found no live value.</param>
/// <param name="ReadHits">Lookups served by the read snapshot; 0 unless read-hit counting is switched on for the map.</param>
public readonly record struct SyncMapStatistics(
    long Promotions,
    long Misses,
    long DirtyRebuilds,
    long RebuildEntriesCopied,
    long EntriesExpunged,
    int ReadCount,
    int DirtyCount,
    long DirtyHits,
    long LookupMisses,
    long ReadHits);
