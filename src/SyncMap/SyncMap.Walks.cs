using SyncMapRegistry.Telemetry;

namespace SyncMapRegistry;

// The walks: Range, the promoting enumerator's helpers, and ForEachWithoutPromoting (Count, the statistics' walks),
// with the catch-up that finds keys a shard gained while the walk ran.
public sealed partial class SyncMap<TKey, TValue>
{
    /// <summary>
    /// Calls <paramref name="visit"/> for each live entry until it returns <c>false</c> (Go's <c>Range</c>).
    /// Go's <c>Range</c> promotes first when keys are pending; here each shard that has pending keys is promoted when
    /// the walk reaches the end of its snapshot, under its own lock (a copy of the shard and one of the directory), and
    /// the walk then visits the keys that the promotion brought in. So a walk that stops early promotes only the shards
    /// it walked to the end, and a whole walk promotes them all. (A map of string keys that still hashes them
    /// non-randomized promotes every pending shard before the walk: its hashing may change during the walk.) The walk
    /// itself takes no lock. It is not a snapshot: no key is visited twice, every key live from the start of the call
    /// until the walk reaches it is visited, a value may reflect any mapping during the call, and keys added or deleted
    /// during the call may or may not be seen. <paramref name="visit"/> may call any method of the map,
    /// <see cref="Range"/> included. Allocates nothing.
    /// </summary>
    public void Range(Func<TKey, TValue, bool> visit)
    {
        ArgumentNullException.ThrowIfNull(visit);
        foreach (KeyValuePair<TKey, TValue> pair in this)
        {
            if (!visit(pair.Key, pair.Value))
            {
                return;
            }
        }
    }

    /// <summary>
    /// Calls <paramref name="visit"/> for each live entry until it returns <c>false</c>, without promoting: for
    /// walks (eviction, purge, statistics) that must not make the next new key pay a dirty rebuild.
    /// </summary>
    /// <remarks>
    /// Guarantee: every key that is live from the start of the walk until the walk reaches it is visited exactly
    /// once, with a value it held during the walk. A key added or deleted during the walk may or may not be
    /// visited; no key is visited twice. Each shard's read snapshot is walked without a lock; the keys that only
    /// its dirty map holds are copied out under the shard's lock (a bounded batch), and visited after
    /// releasing it, so <paramref name="visit"/> never runs under a lock and may call any method of the map. When the
    /// map switches to randomized hashing during the walk (string keys only, once per map), keys move between shards,
    /// and the walk finishes with one pass over the map that copies out the entries it has yet to visit (O(n)).
    /// </remarks>
    internal void ForEachWithoutPromoting(Func<TKey, TValue, bool> visit)
    {
        ArgumentNullException.ThrowIfNull(visit);
        Entry<TKey>?[][] snapshots = LoadDirectory(out IEqualityComparer<TKey>? comparer);
        for (int first = 0; first < snapshots.Length;)
        {
            Entry<TKey>?[] slots = snapshots[first];
            int end = first + 1;
            while (end < snapshots.Length && ReferenceEquals(snapshots[end], slots))
            {
                end++;
            }

            foreach (Entry<TKey>? entry in slots)
            {
                if (TryLoad(entry, out TValue? value) && !visit(entry.Key, value))
                {
                    return;
                }
            }

            if (MayHaveKeysBeyond(snapshots, first, slots))
            {
                // Null once the map has switched to randomized hashing since the walk loaded its directory: keys have
                // moved between runs, so one pass over the map then finishes the walk.
                List<Entry<TKey>>? missing = CopyKeysMissingFrom(snapshots.Length, first, end, slots, comparer);
                bool switched = missing is null;
                foreach (Entry<TKey> entry in missing ?? CopyKeysOfRunsFrom(snapshots.Length, first, slots, comparer!))
                {
                    if (TryLoad(entry, out TValue? value) && !visit(entry.Key, value))
                    {
                        return;
                    }
                }

                if (switched)
                {
                    return;
                }
            }

            first = end;
        }
    }

    /// <summary>
    /// Whether the shard that owned <paramref name="slots"/> at directory index <paramref name="index"/> of
    /// <paramref name="snapshots"/> may now hold keys that <paramref name="slots"/> lacks: <c>false</c> only when the
    /// same shard is still current and has never had a pending key.
    /// </summary>
    private bool MayHaveKeysBeyond(Entry<TKey>?[][] snapshots, int index, Entry<TKey>?[] slots)
    {
        Shard<TKey>[] shards = Volatile.Read(ref _shards);
        return shards.Length != snapshots.Length
            || !ReferenceEquals(shards[index].Slots, slots)
            || Volatile.Read(ref shards[index].Pending) is not null;
    }

    /// <summary>
    /// The entries that the current shards covering directory entries [<paramref name="first"/>, <paramref name="end"/>)
    /// of a directory of <paramref name="length"/> entries hold and that <paramref name="walked"/> lacks: each shard's
    /// snapshot's and dirty map's. Matched by stored hash and key comparer. Under each shard's lock in turn, one
    /// walked shard's worth: the shards now covering its range (usually one). <c>null</c> when the map has switched to
    /// randomized hashing since the walked directory was built with <paramref name="walkedComparer"/>: the current
    /// shards' ranges then say nothing of the walked ones (see <see cref="CopyKeysOfRunsFrom"/>).
    /// </summary>
    private List<Entry<TKey>>? CopyKeysMissingFrom(int length, int first, int end, Entry<TKey>?[] walked, IEqualityComparer<TKey>? walkedComparer)
    {
        var missing = new List<Entry<TKey>>();
        while (true)
        {
            IEqualityComparer<TKey>? comparer = Volatile.Read(ref _keyComparer);
            if (!ReferenceEquals(walkedComparer, comparer))
            {
                return null;
            }

            Stall(StallPoint.CatchUpLoadedComparer);
            Shard<TKey>[] shards = Volatile.Read(ref _shards);
            if (shards.Length < length)
            {
                // Cleared since the walk started: every key it held was deleted during the walk, and newer keys may be missed.
                return missing;
            }

            int scale = shards.Length / length;
            if (CopyFromShards(shards, first * scale, end * scale, comparer, AddMissing))
            {
                return missing;
            }

            missing.Clear();
        }

        void AddMissing(Entry<TKey>?[] slots)
        {
            foreach (Entry<TKey>? entry in slots)
            {
                if (entry is not null && SyncTable<TKey>.Find(walked, entry.Key, entry.HashCode, walkedComparer) is null)
                {
                    missing.Add(entry);
                }
            }
        }
    }

    /// <summary>
    /// After a switch to randomized hashing during a walk (<see cref="ForEachWithoutPromoting"/>): every entry of the
    /// current shards that <paramref name="walkedComparer"/> places in runs <paramref name="first"/> onwards of the walked
    /// directory of <paramref name="length"/> entries, except the keys of <paramref name="walked"/>, run
    /// <paramref name="first"/>'s snapshot, which the walk has visited. The rest of the walk in one pass: O(n), and it
    /// allocates a list of the entries, once per map at most. Under each shard's lock in turn.
    /// </summary>
    private List<Entry<TKey>> CopyKeysOfRunsFrom(int length, int first, Entry<TKey>?[] walked, IEqualityComparer<TKey> walkedComparer)
    {
        var walkedKeys = new HashSet<TKey>(walked.OfType<Entry<TKey>>().Select(entry => entry.Key), walkedComparer);
        var rest = new List<Entry<TKey>>();
        while (true)
        {
            IEqualityComparer<TKey>? comparer = Volatile.Read(ref _keyComparer);
            Shard<TKey>[] shards = Volatile.Read(ref _shards);
            if (CopyFromShards(shards, 0, shards.Length, comparer, AddRest))
            {
                return rest;
            }

            rest.Clear();
        }

        void AddRest(Entry<TKey>?[] slots)
        {
            foreach (Entry<TKey>? entry in slots)
            {
                if (entry is not null
                    && SyncTable<TKey>.ShardIndex(SyncTable<TKey>.Hash(entry.Key, walkedComparer), length) >= first
                    && !walkedKeys.Contains(entry.Key))
                {
                    rest.Add(entry);
                }
            }
        }
    }

    /// <summary>
    /// Hands <paramref name="add"/> the snapshot and the dirty table of each shard that covers entries
    /// [<paramref name="start"/>, <paramref name="end"/>) of <paramref name="shards"/>, under that shard's lock, one
    /// shard at a time. Stops with <c>false</c> at a shard that is retired, or once the comparer is no longer
    /// <paramref name="comparer"/>: its keys are then elsewhere, and the caller starts over from a fresh look at the
    /// directory (after discarding what it collected).
    /// </summary>
    private bool CopyFromShards(Shard<TKey>[] shards, int start, int end, IEqualityComparer<TKey>? comparer, Action<Entry<TKey>?[]> add)
    {
        Shard<TKey>? previous = null;
        for (int i = start; i < end; i++)
        {
            Shard<TKey> shard = shards[i];
            if (ReferenceEquals(shard, previous))
            {
                continue;
            }

            previous = shard;
            shard.Lock.Enter();
            try
            {
                if (shard.Retired || !ReferenceEquals(comparer, _keyComparer))
                {
                    return false;
                }

                add(shard.Slots);
                if (shard.Dirty is { } dirty)
                {
                    add(dirty.Slots);
                }
            }
            finally
            {
                shard.Lock.Exit();
            }
        }

        return true;
    }

    /// <summary>
    /// The snapshots of an eager walk (a map whose comparer may still switch, see <see cref="Enumerator"/>): promotes
    /// every shard that has pending keys first, one shard per hold of its lock, so that no hold copies more than one shard.
    /// </summary>
    /// <remarks>
    /// A key pending when the walk starts is in a snapshot of the directory returned: its shard is promoted here, or
    /// was promoted or split by another thread since, and a later split or promotion keeps every live key in a snapshot.
    /// Shards that gain pending keys while this runs are promoted too if the pass has not passed them yet.
    /// </remarks>
    private Entry<TKey>?[][] LoadForRange()
    {
        // The pass's position: an index of a directory of `length` entries (rescaled when the directory changes).
        int next = 0;
        int length = 1;
        while (Volatile.Read(ref _amendedShards) > 0)
        {
            Shard<TKey>[] shards = Volatile.Read(ref _shards);
            int i = (int)((long)next * shards.Length / length);
            length = shards.Length;
            if (i >= shards.Length)
            {
                break;
            }

            // Back to the start of the run of the shard that covers that index (a clear or a rehash may have coarsened it).
            Shard<TKey> shard = shards[i];
            int run = shards.Length >> shard.Depth;
            i &= ~(run - 1);

            // A retired shard's successors cover the same run: look at the directory again, from the same place.
            next = PromoteIfPending(shard) ? i + run : i;
        }

        // A promotion that this pass found done in the shards (another thread's) has stored its snapshots too.
        return LoadDirectory(out _);
    }

    /// <summary>
    /// The snapshots and the comparer that built them, under <see cref="_directoryLock"/>, which every publication
    /// and the whole switch to randomized hashing hold: so the snapshots are a whole publication, at least as new as
    /// any shard found in <see cref="_shards"/> before this call (see <see cref="_snapshots"/>), and the comparer is theirs.
    /// Where a walk starts. O(1).
    /// </summary>
    private Entry<TKey>?[][] LoadDirectory(out IEqualityComparer<TKey>? comparer)
    {
        lock (_directoryLock)
        {
            comparer = _keyComparer;
            return _snapshots;
        }
    }

    /// <summary>
    /// The lazy walk's catch-up (see <see cref="Enumerator"/>): the next snapshot that covers part of entries
    /// [<paramref name="start"/>, <paramref name="end"/>) of the walked directory of <paramref name="walkedLength"/>
    /// entries, after promoting its shard if keys are pending there (under the shard's lock); <c>null</c> once the range
    /// is done, or when the map was cleared since the walk loaded its directory (every key then in it is newer than the
    /// walk). <paramref name="next"/> is the position, an index of a directory of <paramref name="length"/> entries,
    /// rescaled as the directory changes. Only for a comparer that cannot change during the walk: the directory then
    /// only gets finer, except through <see cref="Clear"/>.
    /// </summary>
    private Entry<TKey>?[]? CatchUpSnapshot(int start, int end, int walkedLength, ref int next, ref int length)
    {
        bool promoted = false;
        while (true)
        {
            Shard<TKey>[] shards = Volatile.Read(ref _shards);
            if (shards.Length < walkedLength)
            {
                return null;
            }

            int scale = shards.Length / walkedLength;
            int i = (int)((long)next * shards.Length / length);
            next = i;
            length = shards.Length;
            if (i >= end * scale)
            {
                return null;
            }

            Shard<TKey> shard = shards[i];
            int run = shards.Length >> shard.Depth;
            if ((i & (run - 1)) != 0 || i < start * scale || i + run > end * scale)
            {
                // A shard that reaches outside the walked range: a clear coarsened the directory since the walk began.
                return null;
            }

            if (!promoted)
            {
                // Look again either way: a promotion or a split has published a successor for this position.
                promoted = PromoteIfPending(shard);
                continue;
            }

            next = i + run;
            return shard.Slots;
        }
    }

    /// <summary>
    /// A walk's promotion of one shard: under the shard's lock, promotes it if keys are pending there; the telemetry is
    /// raised after the lock is released.
    /// </summary>
    /// <returns><c>false</c> when the shard was retired (its successors must be looked up), <c>true</c> otherwise.</returns>
    private bool PromoteIfPending(Shard<TKey> shard)
    {
        SlowPathEvents events = default;
        bool retired;
        shard.Lock.Enter();
        try
        {
            retired = shard.Retired;
            if (!retired && shard.AmendedLocked)
            {
                PromoteLocked(shard, ref events);
            }
        }
        finally
        {
            shard.Lock.Exit();
        }

        Report(events);
        return !retired;
    }
}
