using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using SyncMapRegistry.Telemetry;

namespace SyncMapRegistry;

// The slow paths: what an operation does when the read snapshot cannot answer it alone. Each one takes its shard's
// lock, looks again (the shard may have been promoted or split while it waited), and reports what it did to the
// telemetry only after releasing the lock (Report).
public sealed partial class SyncMap<TKey, TValue>
{
    /// <summary>
    /// No live value in the key's snapshot entry: absent at once when the snapshot holds the key deleted but not
    /// expunged (<paramref name="found"/>), or lacks it or holds it expunged and the shard cannot hold it as a pending
    /// key (<see cref="AbsentFromSnapshot"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool TryGetValueMissed(TKey key, int hashCode, Entry<TKey>?[] searched, Entry<TKey>? found, IEqualityComparer<TKey>? comparer, [MaybeNullWhen(false)] out TValue value)
    {
        if (!AbsentFromSnapshot(found) || !MayBePendingIn(hashCode, searched, comparer, out Shard<TKey>? shard))
        {
            value = default;
            return false;
        }

        if (shard is not null && TryGetPendingLockFree(shard, key, hashCode, comparer, out value))
        {
            return true;
        }

        return TryGetValueLocked(key, out value);
    }

    /// <summary>
    /// The lookup of a pending key without the lock: a live entry found in <paramref name="shard"/>'s dirty map (probed
    /// lock-free, <see cref="SyncTable{TKey}.FindLockFree"/>) is the key's value, and the miss is counted
    /// (<see cref="Shard{TKey}.LockFreeMisses"/>). <c>false</c> answers nothing: the caller looks under the lock, which is
    /// also where a miss that completes the promotion's price goes, so that the promotion happens there.
    /// </summary>
    /// <remarks>
    /// Why a live entry found here is an answer, though the shard may have been promoted, split, cleared or rehashed
    /// since <see cref="MayBePending"/> loaded it, and the dirty map may be changing under its lock: an entry stays its
    /// key's one entry for its whole life in a dirty map and in every table it moves to (promotions, splits and the
    /// switch move entries, never copy them), except after a delete takes it out of a dirty map
    /// (<see cref="FindSlow"/>), and then the deleting thread makes its value deleted, which this does not return. So
    /// a live value read here was the key's value at the moment it was read, or, when a delete has taken the entry out
    /// and not yet marked it, at the moment this probe read the entry's slot, which was before the delete's removal
    /// (a removal overwrites the entry's slot; backward shift moves other entries, never the removed one) and so
    /// within this lookup. A clear leaves values as they are, but this lookup loaded the directory before the clear
    /// published its empty one, so it linearizes before the clear. Any other outcome (absent, deleted, expunged, or a
    /// probe cut short by concurrent moves) is not trusted: the lock decides.
    /// </remarks>
    private bool TryGetPendingLockFree(Shard<TKey> shard, TKey key, int hashCode, IEqualityComparer<TKey>? comparer, [MaybeNullWhen(false)] out TValue value)
    {
        SyncTable<TKey>? dirty = Volatile.Read(ref shard.Dirty);
        if (dirty?.FindLockFree(key, hashCode, comparer) is not { } entry || !TryLoad(entry, out value))
        {
            value = default;
            return false;
        }

        // The miss that pays for the promotion goes under the lock, where the promotion can happen. The price is read
        // without the lock (racy counts, read as whole ints), so it is at worst a few keys off.
        int misses = Interlocked.Increment(ref shard.LockFreeMisses) + Volatile.Read(ref shard.Misses);
        if (misses >= PromotionCost(shard.Count + Volatile.Read(ref dirty.Count)))
        {
            Interlocked.Decrement(ref shard.LockFreeMisses);
            value = default;
            return false;
        }

        _counters.DirtyHit();
        _counters.Missed();
        if (_telemetry is not null)
        {
            Report(new SlowPathEvents { Misses = 1 });
        }

        return true;
    }

    /// <summary>
    /// The lookup of a key that may be pending: under its shard's lock, in the shard's snapshot and then its dirty map, counting
    /// a miss. A method of its own, so that the lock's frame costs nothing to the lookups that end before it.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool TryGetValueLocked(TKey key, [MaybeNullWhen(false)] out TValue value)
    {
        SlowPathEvents events = default;
        bool found;
        Shard<TKey> shard = EnterShard(key, out int hashCode);
        try
        {
            // Look again: the shard may have been promoted since the caller searched it, and then the
            // key is in the snapshot and this is no miss.
            Entry<TKey>? entry = SyncTable<TKey>.Find(shard.Slots, key, hashCode, _keyComparer);
            if (entry is null && shard.Dirty is { } dirty)
            {
                entry = dirty.Find(key, hashCode, _keyComparer);
                found = TryLoad(entry, out value);
                if (found)
                {
                    _counters.DirtyHit();
                }
                else
                {
                    _counters.LookupMissed();
                }

                MissLocked(shard, ref events);
            }
            else
            {
                found = TryLoad(entry, out value);
            }
        }
        finally
        {
            shard.Lock.Exit();
        }

        Report(events);
        return found;
    }

    /// <summary>
    /// Whether a key missing from <paramref name="searched"/> (the snapshot array its shard had when the caller loaded
    /// <see cref="_snapshots"/>) may be in the map, so that the caller must take its shard's lock to know. <c>false</c> is
    /// certain: when this loads the shards, the key is neither in that shard's snapshot nor pending in it (see
    /// <see cref="Shard{TKey}.Pending"/>). When the shard has been replaced since, or the comparer has changed or is
    /// about to (see <see cref="SwitchToRandomizedHashing"/>), the answer is <c>true</c>, and the caller looks again
    /// under the shard's lock.
    /// </summary>
    private bool MayBePending(int hashCode, Entry<TKey>?[] searched, IEqualityComparer<TKey>? comparer) =>
        MayBePendingIn(hashCode, searched, comparer, out _);

    /// <summary>
    /// <see cref="MayBePending"/>, giving the shard whose filter said "maybe":
    /// <paramref name="shard"/> is that shard when the answer is <c>true</c> because its filter of pending keys may hold
    /// the key, and <c>null</c> otherwise (the shard or the comparer changed, or the answer is <c>false</c>).
    /// </summary>
    private bool MayBePendingIn(int hashCode, Entry<TKey>?[] searched, IEqualityComparer<TKey>? comparer, out Shard<TKey>? shard)
    {
        shard = null;
        // The search's loads of hash codes, which the switch to randomized hashing rewrites, before the loads that
        // tell whether it has begun (free on x64, whose loads are not reordered with each other).
        Volatile.ReadBarrier();
        if (!ReferenceEquals(Volatile.Read(ref _keyComparer), comparer))
        {
            return true;
        }

        Shard<TKey>[] shards = Volatile.Read(ref _shards);
        Shard<TKey> current = shards[SyncTable<TKey>.ShardIndex(hashCode, shards.Length)];
        if (!ReferenceEquals(current.Slots, searched))
        {
            return true;
        }

        PendingKeys? pending = Volatile.Read(ref current.Pending);
        if (pending is not null && pending.MayContain(hashCode))
        {
            shard = current;
            return true;
        }

        return false;
    }

    /// <summary>
    /// Whether a lock-free operation that looked for its key in a snapshot must ask <see cref="MayBePending"/> before it
    /// answers: when the snapshot lacks the key, and when it holds the key expunged. A deleted entry that is not
    /// expunged is the key's only entry (a store revives it, and a promotion carries it over), so it answers "absent".
    /// An expunged one does not: a promotion has left it out of the shard's successor, where a writer that found the
    /// successor through <see cref="_shards"/> may already have stored the key again, while this reader, between the two
    /// stores of <see cref="Publish"/>, still loaded the old snapshots.
    /// </summary>
    private static bool AbsentFromSnapshot([NotNullWhen(false)] Entry<TKey>? found) => found is null || found.IsExpunged(Inline);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool SwapSlow(TKey key, int hashCode, TValue value, [MaybeNullWhen(false)] out TValue previous)
    {
        SlowPathEvents events = default;
        bool swapped = false;
        bool colliding = false;
        previous = default;

        // The comparer may have switched to randomized hashing since the caller hashed the key: this hashes again.
        Shard<TKey> shard = EnterShardWithRoom(key, out hashCode, ref events);
        try
        {
            Entry<TKey>? entry = SyncTable<TKey>.Find(shard.Slots, key, hashCode, _keyComparer);
            if (entry is not null)
            {
                // A current snapshot holds no expunged entry (see Shard.Slots), so this cannot fail.
                swapped = SwapLocked(entry, value, out previous);
            }
            else if (shard.Dirty?.Find(key, hashCode, _keyComparer) is { } dirtyEntry)
            {
                swapped = SwapLocked(dirtyEntry, value, out previous);
            }
            else
            {
                colliding = AddNewKeyLocked(shard, key, hashCode, value);
            }
        }
        finally
        {
            shard.Lock.Exit();
        }

        Report(events);
        if (colliding)
        {
            SwitchToRandomizedHashing();
        }

        return swapped;
    }

    /// <summary>Swaps in a value unconditionally. The caller holds the shard's lock, and the entry is in the shard's tables, so it is not expunged.</summary>
    private static bool SwapLocked(Entry<TKey> entry, TValue value, [MaybeNullWhen(false)] out TValue previous) =>
        Inline ? TryUnwrap(entry.SwapWordLocked(InlineWord.Of(value)), out previous) : TryUnwrap(entry.SwapLocked(Wrap(value)), out previous);

    /// <summary>A new entry holding a live value, in the slot that <see cref="Inline"/> selects.</summary>
    private static Entry<TKey> NewEntry(TKey key, int hashCode, TValue value) =>
        Inline ? new InlineEntry<TKey>(key, hashCode, InlineWord.Of(value)) : new BoxedEntry<TKey>(key, hashCode, Wrap(value));

    [MethodImpl(MethodImplOptions.NoInlining)]
    private TValue LoadOrStoreSlow(TKey key, int hashCode, TValue value, out bool loaded)
    {
        SlowPathEvents events = default;
        TValue actual;
        bool colliding = false;

        // The comparer may have switched to randomized hashing since the caller hashed the key: this hashes again.
        Shard<TKey> shard = EnterShardWithRoom(key, out hashCode, ref events);
        try
        {
            Entry<TKey>? entry = SyncTable<TKey>.Find(shard.Slots, key, hashCode, _keyComparer);
            if (entry is not null)
            {
                // A current snapshot holds no expunged entry (see Shard.Slots), so this cannot fail.
                TryLoadOrStore(entry, value, out actual, out loaded);
            }
            else if (shard.Dirty?.Find(key, hashCode, _keyComparer) is { } dirtyEntry)
            {
                TryLoadOrStore(dirtyEntry, value, out actual, out loaded);
                MissLocked(shard, ref events);
            }
            else
            {
                // A new key is no miss: the caller had nothing to find.
                colliding = AddNewKeyLocked(shard, key, hashCode, value);
                actual = value;
                loaded = false;
            }
        }
        finally
        {
            shard.Lock.Exit();
        }

        Report(events);
        if (colliding)
        {
            SwitchToRandomizedHashing();
        }

        return actual;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool CompareAndSwapSlow(TKey key, int hashCode, TValue expected, TValue value)
    {
        SlowPathEvents events = default;
        bool swapped = false;

        // The comparer may have switched to randomized hashing since the caller hashed the key: EnterShard hashes again.
        Shard<TKey> shard = EnterShard(key, out hashCode);
        try
        {
            Entry<TKey>? entry = SyncTable<TKey>.Find(shard.Slots, key, hashCode, _keyComparer);
            if (entry is not null)
            {
                swapped = TryCompareAndReplace(entry, expected, value, delete: false);
            }
            else if (shard.Dirty?.Find(key, hashCode, _keyComparer) is { } dirtyEntry)
            {
                swapped = TryCompareAndReplace(dirtyEntry, expected, value, delete: false);
                MissLocked(shard, ref events);
            }
        }
        finally
        {
            shard.Lock.Exit();
        }

        Report(events);
        return swapped;
    }

    /// <summary>
    /// The slow path of <see cref="LoadAndDelete"/> and <see cref="CompareAndDelete"/>: looks again in the shard's
    /// snapshot under the shard's lock, then in its dirty map, counting a miss. With <paramref name="removeFromDirty"/> a
    /// dirty-only key is removed outright (unlike a snapshot key, no snapshot refers to it); the caller then deletes
    /// the entry's value.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private Entry<TKey>? FindSlow(TKey key, int hashCode, bool removeFromDirty)
    {
        SlowPathEvents events = default;
        Entry<TKey>? entry;

        // The comparer may have switched to randomized hashing since the caller hashed the key: EnterShard hashes again.
        Shard<TKey> shard = EnterShard(key, out hashCode);
        try
        {
            entry = SyncTable<TKey>.Find(shard.Slots, key, hashCode, _keyComparer);
            if (entry is null && shard.Dirty is { } dirty)
            {
                if (removeFromDirty)
                {
                    entry = dirty.Remove(key, hashCode, _keyComparer);
                }
                else
                {
                    entry = dirty.Find(key, hashCode, _keyComparer);
                }

                MissLocked(shard, ref events);
            }
        }
        finally
        {
            shard.Lock.Exit();
        }

        Report(events);
        return entry;
    }

    /// <summary>Hands what a slow path did to the telemetry. Call it only after releasing every lock.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Report(in SlowPathEvents events)
    {
        if (_telemetry is not null && events.Any)
        {
            _telemetry.Report(events);
        }
    }

    /// <summary>
    /// Counts a miss and promotes the shard once its misses reach <see cref="PromotionCostLocked"/>: the misses pay for
    /// the copy (Go's <c>missLocked</c>).
    /// </summary>
    private void MissLocked(Shard<TKey> shard, ref SlowPathEvents events)
    {
        shard.Misses++;
        _counters.Missed();
        events.Misses++;
        if (shard.Misses + Volatile.Read(ref shard.LockFreeMisses) < PromotionCostLocked(shard))
        {
            return;
        }

        PromoteLocked(shard, ref events);
    }

    /// <summary>
    /// What a promotion of <paramref name="shard"/> copies, in keys: the table it builds (the snapshot's keys plus the
    /// dirty map's, as in Go, whose dirty map holds both) and the directory it republishes (<see cref="Replace"/> copies two
    /// references per directory entry, which weigh about as much as half a key: a key takes two to four slots of a
    /// table at most half full). Caller holds the shard's lock.
    /// </summary>
    /// <remarks>
    /// Go's map is one table, so its copy is its keys. Here every promotion also copies the directory, which outweighs
    /// a shard once the map holds a few hundred thousand keys (a directory of 2,048 entries is 32 KiB, a shard of 500
    /// keys 8 KiB); counted with Go's keys alone, a map under churn (new keys replacing old ones, each looked up a few
    /// times) promoted each shard every few hundred misses and spent most of what it allocated on directory copies
    /// (`churn` in docs/benchmarks-churn.md). A map of one shard (every map under 1,024 keys) has a directory of one
    /// entry, and counts exactly Go's keys. The directory counts for the shard's own keys at most, so a promotion waits
    /// for at most twice Go's count: in a directory made long by a few deep shards, a small shard would otherwise wait
    /// for several times its size in misses, each a lookup under the lock (a map filled with a million grains, then
    /// read, needed more than four passes over its keys to promote).
    /// </remarks>
    private int PromotionCostLocked(Shard<TKey> shard) => PromotionCost(shard.Count + shard.Dirty!.Count);

    /// <summary><see cref="PromotionCostLocked"/> for a shard of <paramref name="keys"/> keys (snapshot and dirty map).</summary>
    private int PromotionCost(int keys) => keys + Math.Min(Volatile.Read(ref _shards).Length >> 1, keys);

    /// <summary>
    /// Makes room in a shard that holds <see cref="SyncTable{TKey}.MaximumShardEntries"/> keys, deleted ones included, and
    /// retires it (the caller looks the key's shard up again): when it has a dirty map and at least a quarter of a sample
    /// of its snapshot's entries are deleted, it is promoted, which expunges them (a shard under churn, whose new keys
    /// replace old ones, stays the size it is instead of splitting, and the directory does not double), and its
    /// successor's first dirty map is sized for as many new keys as this one took (<see cref="Shard{TKey}.DirtyCapacity"/>);
    /// otherwise it splits. Either copies the shard once. Caller holds the shard's lock. O(shard + directory).
    /// </summary>
    private void MakeRoomLocked(Shard<TKey> shard, ref SlowPathEvents events)
    {
        if (shard.Dirty is not null && !MostlyLive(shard.Slots))
        {
            PromoteLocked(shard, ref events, nextDirtyCapacity: shard.Dirty.Count);
        }
        else
        {
            SplitLocked(shard);
        }
    }

    /// <summary>
    /// Whether fewer than a quarter of the first <see cref="DeletedSample"/> entries of a current snapshot (in slot order,
    /// so in hash order: a sample of them all) are deleted, or it has none. A current snapshot holds no expunged entry. Reads only,
    /// O(sample): a full shard of a map that only grows pays this much before it splits, not a pass over the shard.
    /// </summary>
    private static bool MostlyLive(Entry<TKey>?[] slots)
    {
        int seen = 0;
        int deleted = 0;
        for (int i = 0; i < slots.Length && seen < DeletedSample; i++)
        {
            if (slots[i] is { } entry)
            {
                seen++;
                if (!(Inline ? InlineWord.IsLive(entry.LoadWord()) : EntryState.IsLive(entry.Load())))
                {
                    deleted++;
                }
            }
        }

        // An empty snapshot (a shard filled by new keys alone, never promoted) has nothing to expunge.
        return seen == 0 || deleted * 4 < seen;
    }

    /// <summary>The snapshot entries <see cref="MostlyLive"/> looks at.</summary>
    private const int DeletedSample = 128;

    /// <summary>
    /// The shape of the shard that holds <paramref name="key"/> now, read under its lock (for tests): its snapshot's keys
    /// (deleted ones included), its dirty map's keys and slots (0 and 0 when it has none), the directory's length and
    /// what a promotion of the shard would copy (<see cref="PromotionCostLocked"/>, 0 when it has no dirty map).
    /// </summary>
    internal (int Snapshot, int Dirty, int DirtySlots, int DirectoryLength, int PromotionCost) ShardShapeOf(TKey key)
    {
        Shard<TKey> shard = EnterShard(key, out _);
        try
        {
            return (shard.Count, shard.Dirty?.Count ?? 0, shard.Dirty?.Slots.Length ?? 0, Volatile.Read(ref _shards).Length,
                shard.Dirty is null ? 0 : PromotionCostLocked(shard));
        }
        finally
        {
            shard.Lock.Exit();
        }
    }

    /// <summary>
    /// Adds a key absent from its shard's tables to its dirty map, which the shard's first new key since its promotion
    /// creates empty (O(1): no copy of the snapshot). The shard has room (<see cref="EnterShardWithRoom"/>). Caller
    /// holds the shard's lock. Returns whether the key's probe sequence is so long that the map must leave
    /// non-randomized string hashing, which the caller does once it has released the lock.
    /// </summary>
    private bool AddNewKeyLocked(Shard<TKey> shard, TKey key, int hashCode, TValue value)
    {
        if (shard.Dirty is null)
        {
            AmendLocked(shard);
        }

        Entry<TKey> entry = NewEntry(key, hashCode, value);
        shard.Pending!.Add(hashCode);
        shard.Dirty!.Add(entry);
        return _keyComparer is NonRandomizedStringComparer && shard.Dirty.ProbeLength(entry) > MaximumNonRandomizedProbe;
    }
}
