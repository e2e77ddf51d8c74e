using System.Numerics;
using SyncMapRegistry.Telemetry;

namespace SyncMapRegistry;

public sealed partial class SyncMap<TKey, TValue>
{
    /// <summary>
    /// Guards every store to <see cref="_shards"/> and <see cref="_snapshots"/>: held only for the copy of the directory
    /// that publishes a promotion, a split or a clear, and for the whole switch to randomized hashing (O(n), once per
    /// map), and taken only while the lock of each shard that the new directory drops is held
    /// (<see cref="Shard{TKey}.Lock"/>, which guards the rest of a shard's state); and for the O(1) load with which a
    /// walk starts (<see cref="LoadDirectory"/>), which then sees a whole publication and its comparer. Never
    /// held while waiting for a shard's lock, so the two kinds cannot deadlock. No listener runs under either:
    /// slow paths collect what they did in a <see cref="SlowPathEvents"/> and hand it to the telemetry after releasing
    /// their locks. The map's own comparers do run under a shard's lock (hashing and comparing keys, and
    /// <see cref="CompareAndSwap"/>'s values), as in <see cref="System.Collections.Concurrent.ConcurrentDictionary{TKey, TValue}"/>.
    /// No work done under a lock is larger than one shard (<see cref="SyncTable{TKey}.MaximumShardEntries"/> keys) plus
    /// one copy of the directory, except a clear and the once-per-map switch to randomized hashing.
    /// </summary>
    private readonly Lock _directoryLock = new();

    /// <summary>
    /// The read snapshot as the read path sees it: entry <c>i</c> is the snapshot array of the shard that covers
    /// directory index <c>i</c> (<see cref="SyncTable{TKey}.ShardIndex"/>), so a read hit costs this field, one
    /// element, one slot and its entry. Always safe to load without a lock, stored only with <see cref="_directoryLock"/> held, and never
    /// written after it is published (a promotion or split publishes a new array): so a walker that loads it once
    /// sees one consistent set of snapshots, each shard as one run of equal entries. Stored after
    /// <see cref="_shards"/> (<see cref="Publish"/>), so a reader that loads this first and <see cref="_shards"/> second
    /// sees shards at least as new. The converse does not hold: between the two stores a thread can find a successor in
    /// <see cref="_shards"/> and store a key there while another still loads the previous snapshots. A successor holds
    /// every entry of its predecessor except the expunged ones, so an "absent" read from a snapshot is checked against
    /// <see cref="_shards"/> (<see cref="AbsentFromSnapshot"/>, <see cref="MayBePending"/>), and a pass that learns of
    /// promotions from <see cref="_shards"/> loads this under <see cref="_directoryLock"/> (<see cref="LoadForRange"/>).
    /// <see cref="Clear"/>, which drops live entries, stores this first instead; a reader that then sees older shards
    /// finds their snapshots differ from its own, and looks under the lock.
    /// </summary>
    private Entry<TKey>?[][] _snapshots;

    /// <summary>
    /// The shards, indexed like <see cref="_snapshots"/> (a shard of depth d fills a run of 2^(D-d) entries of a
    /// directory of depth D): <c>_shards[i].Slots == _snapshots[i]</c> for the pair published together. Safe to load
    /// without a lock (the miss path reads a shard's <see cref="Shard{TKey}.Pending"/> through it), stored only with
    /// <see cref="_directoryLock"/> held, never written after it is published.
    /// </summary>
    private Shard<TKey>[] _shards;

    /// <summary>
    /// Shards that have a dirty map (Go's <c>amended</c>, summed). Changed with interlocked operations under the
    /// shard's lock; read without one by <see cref="Range"/> and the enumerator, which promote the pending shards (each
    /// under its own lock) only when it is non-zero.
    /// </summary>
    private int _amendedShards;

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
    /// least as new. Caller holds <see cref="_directoryLock"/>, and the lock of every shard the new directory drops.
    /// </summary>
    private void Publish(Shard<TKey>[] shards, Entry<TKey>?[][] snapshots)
    {
        Volatile.Write(ref _shards, shards);
        Volatile.Write(ref _snapshots, snapshots);
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
        SyncTable<TKey> merged = SyncTable<TKey>.Merge(shard.Slots, shard.Count, dirty, Inline, out int expunged);
        DateTime merging = start == default ? default : DateTime.UtcNow;
        Replace(shard, new Shard<TKey>(merged.Slots, merged.Count, shard.Depth, shard.Prefix, dirty: null, pending: null, nextDirtyCapacity), second: null);
        Interlocked.Decrement(ref _amendedShards);
        _counters.Promoted();
        _counters.Rebuilt(merged.Count, expunged);
        events.Promotions++;
        events.PromotedEntries += merged.Count;
        events.PromotedMisses += shard.Misses;
        events.Rebuilds++;
        events.RebuildCopied += merged.Count;
        events.RebuildExpunged += expunged;
        if (start != default)
        {
            events.RebuildStart = start;
            events.RebuildEnd = merging;
            events.PromoteStart = start;
            events.PromoteEnd = DateTime.UtcNow;
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
        shard.Dirty = new SyncTable<TKey>(shard.DirtyCapacity);
        Volatile.Write(ref shard.Pending, new PendingKeys(shard.Count));
        Interlocked.Increment(ref _amendedShards);
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
        if (shard.Dirty is not null)
        {
            Interlocked.Increment(ref _amendedShards);
        }

        Replace(shard, lower, upper);
    }
}
