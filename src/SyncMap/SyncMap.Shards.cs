using System.Numerics;
using SyncMapRegistry.Telemetry;

namespace SyncMapRegistry;

// The publication protocol: how the directory (_shards, _snapshots), the comparer that built it (_keyComparer, with
// _inlineReadComparer) and _directoryLock change together, and what each reader may conclude. Written once, here; the
// fields' comments point here.
//
// What is published. A directory is a pair of arrays of one power-of-two length: _shards[i] is the shard that holds
// directory entry i, _snapshots[i] its snapshot (_shards[i].Slots), and a shard of depth d fills one aligned run of
// 2^(D - d) entries of a directory of depth D. Neither array, nor a published snapshot, is ever written again: a
// change publishes new arrays. A shard object is never reused: its successors (a promotion's one, a split's two, a
// clear's or the switch's new directory) are new objects, and once they are published the shard is retired
// (Shard.Retired), under its own lock. _keyComparer hashes every entry of the published shards; it changes once per
// map at most (non-randomized to randomized string hashing, SwitchToRandomizedHashing). _singleSnapshot mirrors a
// one-entry directory's snapshot (null for a longer directory) and is stored right after _snapshots (StoreSnapshots):
// every rule below that orders a store of _snapshots orders this one with it.
//
// Rule 1, writers. Every store to _shards, _snapshots and _keyComparer is made with _directoryLock held, and with the
// lock of every shard that the new directory drops: one shard for a promotion or a split (Replace), every shard for a
// clear and the switch (EnterAllShards). The dropped shards are retired before their locks are released. So a shard
// that is not retired when its lock is taken is current: it holds every key of its run, and nothing replaces it
// while the lock is held.
// Rule 2, lock order. A shard's lock, or every shard's in directory order, then _directoryLock; never a shard's lock
// while holding _directoryLock. _directoryLock is held for O(directory) (one copy of it), or O(1) for a walk's load,
// except for the switch (O(n), once per map); a shard's lock for O(shard) at most, plus that copy. No listener and no
// caller's code runs under either kind of lock: slow paths collect what they did in a SlowPathEvents and hand it to the
// telemetry after releasing their locks. The map's own comparers do run under a shard's lock (hashing and comparing
// keys, CompareAndSwap's values), as in ConcurrentDictionary.
// Rule 3, the order of the stores. A promotion or split stores _shards, then _snapshots (Publish): a reader that loads
// _snapshots first and _shards second sees shards at least as new as its snapshots. The converse does not hold, so a
// lock-free "absent" from a snapshot is checked against _shards (AbsentFromSnapshot, MayBePending). A clear, which
// drops live entries without expunging them, stores _snapshots first: a reader that then loads older shards finds
// their snapshots differ from its own, and looks under the lock. The switch saturates every current shard's filter of
// pending keys, then sets the comparer, then rewrites hash codes, then publishes: a reader that missed with either
// comparer finds the comparer changed or the key maybe pending, and looks under the lock.
// Rule 4, readers. A lock-free read loads the comparer, then _singleSnapshot and, when it is null, _snapshots (and on
// a miss the comparer again, then _shards). A slow path loads the comparer, then _shards, locks the shard that holds its key and keeps it only if it is
// not retired and the comparer is unchanged (EnterShard). A walk loads _snapshots and the comparer together under
// _directoryLock (LoadDirectory), so it walks one whole publication with the comparer that built it, at least as new
// as any shard it saw before; its catch-up then follows the slow paths' rule (WalkCursor).
// Rule 5, nothing is kept about a publication outside it. A fact about the directory (which shards are amended, how
// many shards there are) is derived from the published shards when asked (AmendedShards, ShardCount), never kept in
// a field changed after a publication: a clear or the switch can publish between that publication and the change
// (issue 25: a counter of amended shards decremented after a promotion's publication went negative under a racing
// clear, and the walks that trusted it skipped pending keys). _singleSnapshot is not such a fact: it is part of the
// publication, stored with _snapshots under the same lock by the one method that stores either (StoreSnapshots).
public sealed partial class SyncMap<TKey, TValue>
{
    /// <summary>
    /// Held to publish a directory and for a walk's O(1) load of one; see the publication protocol at the top of this
    /// file (rules 1, 2 and 4). <see cref="Shard{TKey}.Lock"/> guards the rest of a shard's state.
    /// </summary>
    private readonly Lock _directoryLock = new();

    /// <summary>
    /// The read snapshot as the read path sees it: entry <c>i</c> is the snapshot array of the shard that holds
    /// directory entry <c>i</c> (<see cref="SyncTable{TKey}.ShardIndex"/>), so a read hit costs this field, one
    /// element, one slot and its entry. Safe to load without a lock; stored with <see cref="_directoryLock"/> held,
    /// after <see cref="_shards"/> (before it for a clear); never written after it is published. See the publication
    /// protocol at the top of this file.
    /// </summary>
    private Entry<TKey>?[][] _snapshots;

    /// <summary>
    /// The snapshot of the directory's one shard when it has one entry (every map of at most 1,024 keys), else
    /// <c>null</c>: <c>_snapshots.Length == 1 ? _snapshots[0] : null</c> for the directory last stored, and stored right
    /// after it (<see cref="StoreSnapshots"/>), so wherever the protocol orders a store of <see cref="_snapshots"/> this
    /// one follows it before anything else. The read path loads it first: a small map's hit then costs this field, one
    /// slot and its entry, one dependent load fewer than through the directory. A reader that loads a stale value holds
    /// an older snapshot, as one that loaded <see cref="_snapshots"/> earlier would.
    /// </summary>
    private Entry<TKey>?[]? _singleSnapshot;

    /// <summary>
    /// The shards, indexed like <see cref="_snapshots"/>: <c>_shards[i].Slots == _snapshots[i]</c> for the pair
    /// published together. Safe to load without a lock (the miss path reads a shard's <see cref="Shard{TKey}.Pending"/>
    /// through it); stored with <see cref="_directoryLock"/> held; never written after it is published. See the
    /// publication protocol at the top of this file.
    /// </summary>
    private Shard<TKey>[] _shards;

    /// <summary>
    /// Shards that have a dirty map now (Go's <c>amended</c>, summed), for the debugger and tests. Derived, not kept
    /// (rule 5 of the publication protocol): O(directory), lock-free, each shard at some moment during the call.
    /// </summary>
    internal int AmendedShards
    {
        get
        {
            Shard<TKey>[] shards = Volatile.Read(ref _shards);
            int amended = 0;
            for (int i = 0; i < shards.Length; i += shards.Length >> shards[i].Depth)
            {
                amended += Volatile.Read(ref shards[i].Dirty) is null ? 0 : 1;
            }

            return amended;
        }
    }

    /// <summary>
    /// Keys in the current shards' read snapshots (deleted entries included) and pending in their dirty maps, for the
    /// statistics. O(directory), lock-free: a shard's counts are read while its lock may be held elsewhere, so under
    /// concurrent writes the sums reflect each shard at some moment during the call.
    /// </summary>
    private (int Read, int Dirty) CurrentSizes()
    {
        Shard<TKey>[] shards = Volatile.Read(ref _shards);
        int read = 0;
        int dirty = 0;
        for (int i = 0; i < shards.Length; i += shards.Length >> shards[i].Depth)
        {
            read += shards[i].Count;
            dirty += Volatile.Read(ref shards[i].Dirty)?.Count ?? 0;
        }

        return (read, dirty);
    }

    /// <summary>The number of shards now (distinct shards of the directory). O(directory), lock-free.</summary>
    internal int ShardCount
    {
        get
        {
            Shard<TKey>[] shards = Volatile.Read(ref _shards);
            int count = 0;
            for (int i = 0; i < shards.Length; i += shards.Length >> shards[i].Depth)
            {
                count++;
            }

            return count;
        }
    }


    private static (Shard<TKey>[] Shards, Entry<TKey>?[][] Snapshots) EmptyDirectory()
    {
        var shard = new Shard<TKey>(new SyncTable<TKey>(0).Slots, 0, 0, 0, dirty: null, pending: null);
        return ([shard], [shard.Slots]);
    }

    /// <summary>
    /// The deepest a shard may split: a directory of at most 2^16 entries. Only hash codes that agree in their top 16
    /// shard bits, far beyond one shard's worth, make a shard this deep; it then grows past the bound instead.
    /// </summary>
    private const int MaximumDepth = 16;

    /// <summary>
    /// Locks the shard that holds <paramref name="key"/> now and returns it, with the key's hash code under the comparer
    /// now. The caller releases <see cref="Shard{TKey}.Lock"/>.
    /// </summary>
    private Shard<TKey> EnterShard(TKey key, out int hashCode)
    {
        while (true)
        {
            IEqualityComparer<TKey>? comparer = Volatile.Read(ref _keyComparer);
            hashCode = SyncTable<TKey>.Hash(key, comparer);
            Shard<TKey>[] shards = Volatile.Read(ref _shards);
            Shard<TKey> shard = shards[SyncTable<TKey>.ShardIndex(hashCode, shards.Length)];
            shard.Lock.Enter();

            // A shard that is not retired is current, so it still holds every key of its hash range; and the comparer
            // changes only with every shard's lock held and every shard retired.
            if (!shard.Retired && ReferenceEquals(comparer, _keyComparer))
            {
                return shard;
            }

            shard.Lock.Exit();
        }
    }

    /// <summary>
    /// <see cref="EnterShard"/> for a write that may add the key: a shard that has no room for another key (it holds
    /// <see cref="SyncTable{TKey}.MaximumShardEntries"/>) is promoted or split first (<see cref="MakeRoomLocked"/>,
    /// O(shard)), and the key's shard is locked instead.
    /// </summary>
    private Shard<TKey> EnterShardWithRoom(TKey key, out int hashCode, ref SlowPathEvents events)
    {
        while (true)
        {
            Shard<TKey> shard = EnterShard(key, out hashCode);
            if (shard.Count + (shard.Dirty?.Count ?? 0) < SyncTable<TKey>.MaximumShardEntries || shard.Depth == MaximumDepth)
            {
                return shard;
            }

            try
            {
                MakeRoomLocked(shard, ref events);
            }
            finally
            {
                shard.Lock.Exit();
            }
        }
    }

    /// <summary>
    /// Locks every current shard, in directory order, and returns the directory they make up: while they are held,
    /// no promotion or split can replace any of them, so the directory stays as it is.
    /// </summary>
    private Shard<TKey>[] EnterAllShards()
    {
        while (true)
        {
            Shard<TKey>[] shards = Volatile.Read(ref _shards);
            int entered = 0;
            bool replaced = false;
            for (; entered < shards.Length; entered += shards.Length >> shards[entered].Depth)
            {
                Shard<TKey> shard = shards[entered];
                shard.Lock.Enter();
                if (shard.Retired)
                {
                    shard.Lock.Exit();
                    replaced = true;
                    break;
                }
            }

            if (!replaced && ReferenceEquals(shards, Volatile.Read(ref _shards)))
            {
                return shards;
            }

            for (int i = 0; i < entered; i += shards.Length >> shards[i].Depth)
            {
                shards[i].Lock.Exit();
            }
        }
    }

    /// <summary>Releases what <see cref="EnterAllShards"/> took, retiring every shard first when a new directory replaced them all.</summary>
    private static void ExitAllShards(Shard<TKey>[] shards, bool retire)
    {
        for (int i = 0; i < shards.Length; i += shards.Length >> shards[i].Depth)
        {
            shards[i].Retired |= retire;
            shards[i].Lock.Exit();
        }
    }

    /// <summary>
    /// Publishes a new directory: the shards first, so that a reader that loads the snapshots first sees shards at
    /// least as new. Caller holds <see cref="_directoryLock"/>, and the lock of every shard the new directory drops,
    /// which it retires before releasing (rules 1 and 3 of the publication protocol, at the top of this file).
    /// </summary>
    private void Publish(Shard<TKey>[] shards, Entry<TKey>?[][] snapshots)
    {
        AssertPublishable(shards, snapshots);
        Volatile.Write(ref _shards, shards);
        StoreSnapshots(snapshots);
    }

    /// <summary>
    /// Stores <see cref="_snapshots"/>, then <see cref="_singleSnapshot"/> from it. In this order: a reader that loads
    /// <see cref="_singleSnapshot"/> as <c>null</c> and then <see cref="_snapshots"/> finds that directory or a newer one.
    /// Caller holds <see cref="_directoryLock"/> (rule 1 of the publication protocol), or is the constructor.
    /// </summary>
    private void StoreSnapshots(Entry<TKey>?[][] snapshots)
    {
        Volatile.Write(ref _snapshots, snapshots);
        Volatile.Write(ref _singleSnapshot, snapshots.Length == 1 ? snapshots[0] : null);
    }

    /// <summary>
    /// Publishes <paramref name="first"/> (and <paramref name="second"/>, for a split) in <paramref name="shard"/>'s place
    /// in a copy of the directory now, doubling it when a split needs a deeper one, and retires <paramref name="shard"/>.
    /// Caller holds <paramref name="shard"/>'s lock, so its run of the directory is still its own. O(directory).
    /// </summary>
    private void Replace(Shard<TKey> shard, Shard<TKey> first, Shard<TKey>? second)
    {
        lock (_directoryLock)
        {
            Shard<TKey>[] shards = _shards;
            Entry<TKey>?[][] snapshots = _snapshots;
            int length = second is not null && shard.Depth == BitOperations.Log2((uint)shards.Length) ? shards.Length * 2 : shards.Length;
            var newShards = new Shard<TKey>[length];
            var newSnapshots = new Entry<TKey>?[length][];
            int scale = length / shards.Length;
            if (scale == 1)
            {
                Array.Copy(shards, newShards, length);
                Array.Copy(snapshots, newSnapshots, length);
            }
            else
            {
                for (int i = 0; i < length; i++)
                {
                    newShards[i] = shards[i / scale];
                    newSnapshots[i] = snapshots[i / scale];
                }
            }

            Place(first, RunOf(first, length), newShards, newSnapshots);
            if (second is not null)
            {
                Place(second, RunOf(second, length), newShards, newSnapshots);
            }

            Publish(newShards, newSnapshots);
        }

        Stall(StallPoint.Published);
        shard.Retired = true;
    }

    /// <summary>
    /// Promotes an amended shard: publishes in its place a new shard whose snapshot merges the old snapshot's live
    /// entries with the dirty map's (<see cref="SyncTable{TKey}.Merge"/>, expunging the deleted ones), with no dirty map
    /// and no pending keys. Caller holds the shard's lock. O(shard + directory).
    /// </summary>
    /// <param name="shard">The amended shard.</param>
    /// <param name="events">Where the promotion is recorded for the telemetry.</param>
    /// <param name="nextDirtyCapacity">The successor's <see cref="Shard{TKey}.DirtyCapacity"/>.</param>
    private void PromoteLocked(Shard<TKey> shard, ref SlowPathEvents events, int nextDirtyCapacity = 0)
    {
        DateTime start = SpanStartLocked();
        SyncTable<TKey> dirty = shard.Dirty!;
        SyncTable<TKey> merged;
        int expunged;
        try
        {
            merged = SyncTable<TKey>.Merge(shard.Slots, shard.Count, dirty, Inline, out expunged);
            Stall(StallPoint.Promoting);
            Replace(shard, new Shard<TKey>(merged.Slots, merged.Count, shard.Depth, shard.Prefix, dirty: null, pending: null, nextDirtyCapacity), second: null);
        }
        catch
        {
            // An allocation failed (the merged table, the shard or the directory): nothing was published, and the shard
            // stays current, so its snapshot must hold no expunged entry again.
            RestoreExpungedLocked(shard.Slots);
            throw;
        }

        _counters.Promoted(merged.Count, expunged);
        events.Promotions++;
        events.PromotedEntries += merged.Count;
        events.PromotedExpunged += expunged;
        events.PromotedMisses += shard.Misses + Volatile.Read(ref shard.LockFreeMisses);
        if (start != default)
        {
            events.PromoteStart = start;
            events.PromoteEnd = DateTime.UtcNow;
        }
    }

    /// <summary>
    /// Undoes a failed promotion's expunging: every expunged entry of a current shard's snapshot (which holds none
    /// otherwise, see <see cref="Shard{TKey}.Slots"/>) was expunged by that promotion from deleted, and goes back to
    /// deleted. Safe while the caller holds the shard's lock and the shard is current: an expunged entry sends writers to
    /// that lock, and readers take it for deleted, which it is. O(shard).
    /// </summary>
    private static void RestoreExpungedLocked(Entry<TKey>?[] slots)
    {
        foreach (Entry<TKey>? entry in slots)
        {
            if (entry is null)
            {
                continue;
            }

            if (Inline)
            {
                entry.CompareExchangeWord(InlineWord.Deleted, InlineWord.Expunged);
            }
            else
            {
                entry.CompareExchange(null, EntryState.Expunged);
            }
        }
    }

    /// <summary>The start of a shard's run of directory entries and its length, in a directory of <paramref name="length"/> entries.</summary>
    private static (int Start, int Length) RunOf(Shard<TKey> shard, int length)
    {
        int run = length >> shard.Depth;
        return (shard.Prefix * run, run);
    }


    private static void Place(Shard<TKey> shard, (int Start, int Length) run, Shard<TKey>[] shards, Entry<TKey>?[][] snapshots)
    {
        Array.Fill(shards, shard, run.Start, run.Length);
        Array.Fill(snapshots, shard.Slots, run.Start, run.Length);
    }

    /// <summary>When something listens to spans, the start time of the work about to happen; otherwise <c>default</c>.</summary>
    private DateTime SpanStartLocked() => _telemetry is not null && SyncMapTelemetry.TracesSpans ? DateTime.UtcNow : default;

    /// <summary>
    /// Marks a shard amended: an empty dirty map (sized by <see cref="Shard{TKey}.DirtyCapacity"/>) and an empty filter of
    /// pending keys, where Go's <c>dirtyLocked</c> copies the whole snapshot (the copy happens at the promotion here).
    /// Caller holds the shard's lock. O(1), or O(DirtyCapacity) to allocate a presized table.
    /// </summary>
    private void AmendLocked(Shard<TKey> shard)
    {
        // Both allocated before either is set: a dirty map without a filter would fail every later new key of the shard.
        var dirty = new SyncTable<TKey>(shard.DirtyCapacity);
        Stall(StallPoint.Amending);
        var pending = new PendingKeys(shard.Count);
        // Published with release stores: a lock-free lookup of a pending key reads both without the lock
        // (TryGetPendingLockFree), and must see them whole.
        Volatile.Write(ref shard.Dirty, dirty);
        Volatile.Write(ref shard.Pending, pending);
    }

    /// <summary>
    /// Splits a shard in two by its next shard bit and publishes the halves in its place (<see cref="Replace"/>, which
    /// doubles the directory when the shard is as deep as it). Each half keeps its part of the snapshot (entries as
    /// they are) and of the dirty map, with a filter of pending keys of its own, filled with its dirty keys before it
    /// is published (a shared one would fill up as the map grows by splits, and make threads that add keys to
    /// different shards write the same words). Caller holds the shard's lock. O(shard + directory).
    /// </summary>
    private void SplitLocked(Shard<TKey> shard)
    {
        int depth = shard.Depth;
        (SyncTable<TKey> lowerRead, SyncTable<TKey> upperRead) = SyncTable<TKey>.Split(shard.Slots, depth, roomToGrow: false);
        (SyncTable<TKey>? lowerDirty, SyncTable<TKey>? upperDirty) = shard.Dirty is { } dirty ? SyncTable<TKey>.Split(dirty.Slots, depth, roomToGrow: true) : (null, null);
        var lower = new Shard<TKey>(lowerRead.Slots, lowerRead.Count, depth + 1, shard.Prefix * 2, lowerDirty, PendingKeys.Of(lowerRead.Count, lowerDirty?.Slots));
        var upper = new Shard<TKey>(upperRead.Slots, upperRead.Count, depth + 1, (shard.Prefix * 2) + 1, upperDirty, PendingKeys.Of(upperRead.Count, upperDirty?.Slots));
        Replace(shard, lower, upper);
    }
}
