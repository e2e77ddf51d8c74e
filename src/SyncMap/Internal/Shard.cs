namespace SyncMapRegistry;

/// <summary>
/// One independently promoted read/dirty segment of a <see cref="SyncMap{TKey, TValue}"/>: Go's whole
/// <c>sync.Map</c> state, for the keys whose shard bits (<see cref="SyncTable{TKey}.ShardIndex"/>) start with this
/// shard's prefix. Splitting the map this way bounds every rebuild, promotion and split by one shard's size
/// (<see cref="SyncTable{TKey}.MaximumShardEntries"/>) instead of the whole map's.
/// </summary>
/// <remarks>
/// A shard object is replaced, never reused, when it is promoted or split: the successor gets the promoted or
/// split tables and the map's directory is republished. So <see cref="Slots"/> belongs to exactly one shard
/// object for its whole life, which is how a reader that searched a snapshot array finds the filter that
/// amends it (<see cref="Pending"/> of the shard whose <see cref="Slots"/> is that array).
/// </remarks>
internal sealed class Shard<TKey>(Entry<TKey>?[] slots, int count, int depth, int prefix, SyncTable<TKey>? dirty, PendingKeys? pending, int dirtyCapacity = 0)
    where TKey : notnull
{
    /// <summary>
    /// Guards <see cref="Dirty"/>, <see cref="Misses"/>, <see cref="Retired"/> and the writes to <see cref="Pending"/>.
    /// A slow path holds one shard's lock at a time, and takes the map's directory lock only inside it (to publish a
    /// promotion or split); only <see cref="SyncMap{TKey, TValue}.Clear"/> and the switch to randomized hashing take
    /// several shards' locks, in directory order, and nothing takes a shard's lock while holding the directory lock.
    /// So threads that add keys to different shards do not wait for each other.
    /// </summary>
    internal readonly Lock Lock = new();

    /// <summary>
    /// Set, under <see cref="Lock"/>, once a successor (a promotion, the halves of a split, an empty directory or a
    /// rehashed one) has been published in this shard's place. A slow path that locks a retired shard lets it go and
    /// looks the shard up again; so work done under the lock of a shard that is not retired lands in the current map.
    /// </summary>
    internal bool Retired;

    /// <summary>
    /// The shard's read snapshot. Never written after the shard is published; safe to read without a lock. Holds no
    /// expunged entry while the shard is current: only a promotion expunges, and only the entries it leaves out of
    /// the successor's snapshot. So an entry found here under the shard's lock can be written without re-adding it anywhere.
    /// </summary>
    internal readonly Entry<TKey>?[] Slots = slots;

    /// <summary>Keys in <see cref="Slots"/>, deleted and expunged entries included.</summary>
    internal readonly int Count = count;

    /// <summary>How many leading shard bits the shard's keys share (its local depth); at most the directory's depth.</summary>
    internal readonly int Depth = depth;

    /// <summary>The top <see cref="Depth"/> shard bits that the shard's keys share: its run of a directory of depth D starts at <c>Prefix &lt;&lt; (D - Depth)</c>.</summary>
    internal readonly int Prefix = prefix;

    /// <summary>
    /// The keys added since the shard's snapshot was published, which <see cref="Slots"/> lacks, or <c>null</c> when
    /// none have been (Go's <c>dirty</c> minus its copy of the snapshot). Accessed only with <see cref="Lock"/> held (the
    /// statistics alone read its count without it). A key
    /// is in at most one of the two tables; the shard's live keys are the snapshot's live entries plus these.
    /// </summary>
    internal SyncTable<TKey>? Dirty = dirty;

    /// <summary>
    /// Operations since the shard was published that had to look past its snapshot into <see cref="Dirty"/>.
    /// Accessed only with <see cref="Lock"/> held. Once it reaches what a promotion copies (the table it builds,
    /// <c>Count + Dirty.Count</c>, and the directory: <see cref="SyncMap{TKey, TValue}"/>'s <c>PromotionCostLocked</c>) the
    /// shard is promoted.
    /// </summary>
    internal int Misses;

    /// <summary>
    /// Lookups of pending keys answered from <see cref="Dirty"/> without the lock (<c>TryGetPendingLockFree</c>): misses
    /// like <see cref="Misses"/>, counted with interlocked increments by threads that do not hold <see cref="Lock"/>. A
    /// promotion is due once the two together reach its price; the lookup whose miss completes it takes the lock instead.
    /// </summary>
    internal int LockFreeMisses;

    /// <summary>
    /// The keys added to <see cref="Dirty"/> that <see cref="Slots"/> lacks, as a Bloom filter: <c>null</c> until the
    /// first one (the shard is then not amended), and never cleared afterwards, not even once the shard is replaced.
    /// Written only with <see cref="Lock"/> held, and always before the key it records is added to dirty; read lock-free.
    /// So a reader that finds a key absent from <see cref="Slots"/> and from this filter knows that the key was not
    /// in this shard when it loaded the shard (a later key goes to this shard's dirty through the filter, or to a successor).
    /// The switch to randomized hashing replaces it with <see cref="PendingKeys.Saturated"/>, which may contain any key,
    /// before it changes the comparer or any entry's hash code.
    /// </summary>
    internal PendingKeys? Pending = pending;

    /// <summary>
    /// The keys the shard's first dirty map is sized for: 0 (a table of 4 slots, which doubles as it fills) unless the
    /// shard replaces one that filled up under churn and was promoted to make room (<c>MakeRoomLocked</c>), whose
    /// successor is likely to take as many new keys before it fills up again; then its dirty map's count at that
    /// promotion, so that the next cycle's dirty map is allocated once instead of doubling from 4 slots (which
    /// allocates twice its final size). At most <see cref="SyncTable{TKey}.MaximumShardEntries"/>.
    /// </summary>
    internal readonly int DirtyCapacity = dirtyCapacity;

    /// <summary>Whether new keys are pending (the shard has a dirty map). Caller holds <see cref="Lock"/>.</summary>
    internal bool AmendedLocked => Dirty is not null;
}
