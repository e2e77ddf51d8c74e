using System.Diagnostics;
using System.Numerics;
using SyncMapRegistry.Telemetry;

namespace SyncMapRegistry;

// The walks: Range, foreach (SyncMap.Enumerator.cs), Keys, Values, Count, IsEmpty and ForEachWithoutPromoting (the
// registry's eviction, purge and statistics walks). All of them move one WalkCursor, whose catch-up is the only code
// that finds the keys a shard gained, or moved, while a walk ran.
public sealed partial class SyncMap<TKey, TValue>
{
    /// <summary>
    /// Calls <paramref name="visit"/> for each live entry until it returns <c>false</c> (Go's <c>Range</c>).
    /// Go's <c>Range</c> promotes first when keys are pending; here each shard that has pending keys is promoted when
    /// the walk reaches the end of its snapshot, under its own lock (a copy of the shard and one of the directory), and
    /// the walk then visits the keys that the promotion brought in. So a walk that stops early promotes only the shards
    /// it walked to the end, and a whole walk promotes them all. The walk runs <paramref name="visit"/> under no lock,
    /// so it may call any method of the map, <see cref="Range"/> included. It is not a snapshot; its guarantees are
    /// <see cref="WalkCursor"/>'s. Allocates nothing unless it catches up with keys that its snapshots lacked (then one
    /// list, reused for the walk).
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
    /// walks (eviction, purge, statistics) that must not make the next new key pay a promotion. Guarantees as
    /// <see cref="WalkCursor"/>'s; the keys pending in a shard's dirty map are copied out under the shard's lock (one
    /// shard's worth at most) and visited after releasing it, so <paramref name="visit"/> runs under no lock and may
    /// call any method of the map.
    /// </summary>
    internal void ForEachWithoutPromoting(Func<TKey, TValue, bool> visit)
    {
        ArgumentNullException.ThrowIfNull(visit);
        var cursor = new WalkCursor(this, WalkMode.Copy);
        while (cursor.MoveNext(this))
        {
            if (!visit(cursor.Entry.Key, cursor.Value))
            {
                return;
            }
        }
    }

    /// <summary>
    /// <see cref="ForEachWithoutPromoting"/> as a lazy sequence, for observers that must not change the map they watch
    /// (the registry's read contract, the host's STATUS lines). Same guarantees; allocates the iterator, and a shard's
    /// pending keys when it copies them out. Each step runs under no lock of the map's once it returns.
    /// </summary>
    internal IEnumerable<KeyValuePair<TKey, TValue>> EnumerateWithoutPromoting()
    {
        var cursor = new WalkCursor(this, WalkMode.Copy);
        while (cursor.MoveNext(this))
        {
            yield return new(cursor.Entry.Key, cursor.Value);
        }
    }

    /// <summary>What a <see cref="WalkCursor"/> does with a shard's pending keys when it catches up.</summary>
    private enum WalkMode : byte
    {
        /// <summary>Promotes the shard first (<see cref="Range"/>, the enumerator): the keys are then in its snapshot.</summary>
        Promote,

        /// <summary>Copies the keys out of the dirty map under the shard's lock, leaving it in place (<see cref="ForEachWithoutPromoting"/>).</summary>
        Copy,

        /// <summary>Counts the live entries under the shard's lock and yields none (<see cref="Count"/>, <see cref="IsEmpty"/>): allocates nothing.</summary>
        Count,
    }

    private enum WalkPhase : byte
    {
        /// <summary>The walk is over (the phase of a <c>default</c> cursor too).</summary>
        Done,

        /// <summary>Walking a run's snapshot, without a lock.</summary>
        Snapshot,

        /// <summary>At the end of a run whose shard may hold keys its snapshot lacks: the next chunk is due.</summary>
        CatchUp,

        /// <summary>Visiting the entries of a chunk copied out under its shard's lock.</summary>
        Chunk,
    }

    /// <summary>
    /// The directory's positions: a key's position is the top <see cref="MaximumDepth"/> bits of its shard mix
    /// (<see cref="SyncTable{TKey}.ShardIndex"/> in a directory of the deepest length), so entry <c>i</c> of a directory
    /// of length L covers positions [i * 2^16 / L, (i + 1) * 2^16 / L), and a shard of depth d and prefix x covers
    /// [x * 2^(16 - d), (x + 1) * 2^(16 - d)), whatever the directory's length is now.
    /// </summary>
    private static int PositionOf(int hashCode) => SyncTable<TKey>.ShardIndex(hashCode, 1 << MaximumDepth);

    /// <summary>
    /// One walk of the map: the directory loaded when it starts, walked run by run (each run one shard's snapshot), and
    /// at the end of each run the catch-up, the one place that finds what a walk's snapshots lack.
    /// </summary>
    /// <remarks>
    /// <para>
    /// The guarantees, for every walk: (1) every key live from the start of the walk until the walk reaches it is visited
    /// exactly once; (2) no key is visited twice (under the key comparer), whatever the walk meets: promotions, splits,
    /// a <see cref="Clear"/> and a regrowth, the switch to randomized hashing; (3) nothing is visited that never existed:
    /// each visit is an entry of the map with the value it held at that moment (after a <see cref="Clear"/> it may be
    /// one the clear dropped, which existed during the walk); keys added or deleted during the walk may or may not be
    /// visited. So a <see cref="Count"/> lies between the number of keys live throughout the call and the number of
    /// distinct keys live at some moment of it: between the counts before and after, when keys are only added (or only
    /// deleted) meanwhile.
    /// </para>
    /// <para>
    /// How: every key has a position (<see cref="PositionOf"/>) under the comparer of the walked directory, and a run of
    /// the directory is a range of positions. A run's snapshot is walked without a lock. Then, if its shard may hold keys
    /// the snapshot lacks (<see cref="MayHaveKeysBeyond"/>), the catch-up takes the current shard that holds the run's
    /// next position not yet caught up, under that shard's lock (one shard at a time, never the directory lock), and
    /// takes out its entries (snapshot and dirty map) whose positions lie in both the shard and the rest of the run, and
    /// that the run's snapshot lacks; then it moves its position to the end of that range. Promotions, splits and a
    /// clear change which shard holds a position, never a key's position, so the ranges taken are disjoint and cover the
    /// run: each key is taken once, in its own run only. A shard found retired under its lock has published its
    /// successors, and is looked up again at the same position.
    /// </para>
    /// <para>
    /// The switch to randomized hashing changes every key's position. The catch-up checks the comparer under the shard's
    /// lock (the switch holds every shard's lock, and retires them all), so it never takes a chunk across the switch.
    /// When it finds the comparer changed, the walk starts over on the new directory, skipping what it has visited: the
    /// keys whose old positions lie before the catch-up's position, and the keys of the run's snapshot
    /// (<see cref="VisitedBeforeSwitch"/>, which allocates a set of one shard's keys, once per map at most).
    /// </para>
    /// </remarks>
    private struct WalkCursor
    {
        private readonly WalkMode _mode;

        private WalkPhase _phase;

        /// <summary>The walked directory of snapshots; a run is a range of equal entries, one shard's snapshot.</summary>
        private Entry<TKey>?[][] _snapshots;

        /// <summary>The comparer that built <see cref="_snapshots"/>, whose hash codes give the positions.</summary>
        private IEqualityComparer<TKey>? _comparer;

        /// <summary>The current run: entries [<see cref="_run"/>, <see cref="_runEnd"/>) of the directory, snapshot <see cref="_slots"/>.</summary>
        private int _run;
        private int _runEnd;
        private Entry<TKey>?[] _slots;

        /// <summary>The index reached in <see cref="_slots"/> or in <see cref="_chunk"/>.</summary>
        private int _index;

        /// <summary>The catch-up's position: every position of the run below it is caught up.</summary>
        private int _next;

        /// <summary>Whether the catch-up promoted the shard at <see cref="_next"/> already (once per position, so that new keys cannot hold it there).</summary>
        private bool _promoted;

        /// <summary>The entries of the last chunk taken (<see cref="WalkMode.Promote"/>, <see cref="WalkMode.Copy"/>); allocated at the first chunk that has any.</summary>
        private List<Entry<TKey>>? _chunk;

        /// <summary>What the walk visited before the switch to randomized hashing, when it has started over since; otherwise <c>null</c>.</summary>
        private VisitedBeforeSwitch? _visited;

        /// <summary>The current entry, with the value it held when the cursor reached it (not in <see cref="WalkMode.Count"/>).</summary>
        internal Entry<TKey> Entry;
        internal TValue Value;

        /// <summary>Live entries counted so far (<see cref="WalkMode.Count"/>).</summary>
        internal int Counted;

        /// <summary>Starts a walk of <paramref name="map"/>: loads its directory (<see cref="LoadDirectory"/>). O(1).</summary>
        internal WalkCursor(SyncMap<TKey, TValue> map, WalkMode mode)
        {
            _mode = mode;
            _snapshots = map.LoadDirectory(out _comparer);
            _slots = [];
            Entry = null!;
            Value = default!;
            StartRun(0);
        }

        /// <summary>
        /// Moves to the next live entry (<see cref="Entry"/>, <see cref="Value"/>); in <see cref="WalkMode.Count"/>,
        /// to the next count of at least one (<see cref="Counted"/>). <c>false</c> once the walk is over. Runs no code
        /// of the caller, so the caller may do anything with the map between calls.
        /// </summary>
        internal bool MoveNext(SyncMap<TKey, TValue> map)
        {
            while (true)
            {
                switch (_phase)
                {
                    case WalkPhase.Snapshot:
                        while (++_index < _slots.Length)
                        {
                            Entry<TKey>? entry = _slots[_index];
                            if (TryLoad(entry, out TValue? value) && (_visited is null || !_visited.Contains(entry.Key)))
                            {
                                return Yield(entry, value);
                            }
                        }

                        if (map.MayHaveKeysBeyond(_snapshots, _run, _slots))
                        {
                            _phase = WalkPhase.CatchUp;
                            _next = _run << (MaximumDepth - BitOperations.Log2((uint)_snapshots.Length));
                            _promoted = false;
                        }
                        else
                        {
                            StartRun(_runEnd);
                        }

                        break;

                    case WalkPhase.CatchUp:
                        int counted = Counted;
                        if (!TakeChunk(map))
                        {
                            StartRun(_runEnd);
                        }
                        else if (_mode == WalkMode.Count)
                        {
                            if (Counted > counted)
                            {
                                return true;
                            }
                        }
                        else if (_chunk is { Count: > 0 })
                        {
                            _phase = WalkPhase.Chunk;
                            _index = -1;
                        }

                        break;

                    case WalkPhase.Chunk:
                        while (++_index < _chunk!.Count)
                        {
                            Entry<TKey> entry = _chunk[_index];
                            if (TryLoad(entry, out TValue? value))
                            {
                                return Yield(entry, value);
                            }
                        }

                        _phase = WalkPhase.CatchUp;
                        break;

                    default:
                        return false;
                }
            }
        }

        private bool Yield(Entry<TKey> entry, TValue value)
        {
            if (_mode == WalkMode.Count)
            {
                Counted++;
            }
            else
            {
                Entry = entry;
                Value = value;
            }

            return true;
        }

        /// <summary>Starts the run at directory entry <paramref name="run"/>, or ends the walk past the last one.</summary>
        private void StartRun(int run)
        {
            if (run >= _snapshots.Length)
            {
                _phase = WalkPhase.Done;
                return;
            }

            _run = run;
            _slots = _snapshots[run];
            _runEnd = run + 1;
            while (_runEnd < _snapshots.Length && ReferenceEquals(_snapshots[_runEnd], _slots))
            {
                _runEnd++;
            }

            _index = -1;
            _phase = WalkPhase.Snapshot;
        }

        /// <summary>
        /// The catch-up's step: takes the next chunk of the run (see the remarks on <see cref="WalkCursor"/>) into
        /// <see cref="_chunk"/>, or counts it into <see cref="Counted"/>, under its shard's lock; promotes the shard
        /// first in <see cref="WalkMode.Promote"/>. <c>false</c> once the run is caught up. When the map has switched to
        /// randomized hashing since the directory was loaded, starts the walk over instead (and returns <c>true</c> with an
        /// empty chunk).
        /// </summary>
        private bool TakeChunk(SyncMap<TKey, TValue> map)
        {
            int stop = _runEnd << (MaximumDepth - BitOperations.Log2((uint)_snapshots.Length));
            while (_next < stop)
            {
                // The comparer before the directory (see the publication protocol in SyncMap.Shards.cs): then a shard found
                // current under its lock with this comparer still the map's was built with it.
                IEqualityComparer<TKey>? comparer = Volatile.Read(ref map._keyComparer);
                if (!ReferenceEquals(comparer, _comparer))
                {
                    StartOverAfterSwitch(map);
                    return true;
                }

                map.Stall(StallPoint.CatchUpLoadedComparer);
                Shard<TKey>[] shards = Volatile.Read(ref map._shards);
                Shard<TKey> shard = shards[_next >> (MaximumDepth - BitOperations.Log2((uint)shards.Length))];
                SlowPathEvents events = default;
                bool taken = false;
                shard.Lock.Enter();
                try
                {
                    // Not retired: current, so it holds every key of its positions. The comparer changes only with every
                    // shard's lock held, and retires them all: if it is still this one, the entries' hash codes are its.
                    if (!shard.Retired && ReferenceEquals(_comparer, map._keyComparer))
                    {
                        if (_mode == WalkMode.Promote && !_promoted && shard.AmendedLocked)
                        {
                            // Its successor holds the same positions: look it up again, and take it as it is then (keys
                            // pending there now were added after this promotion, so after the walk started).
                            map.PromoteLocked(shard, ref events);
                            _promoted = true;
                        }
                        else
                        {
                            int end = Math.Min(stop, (shard.Prefix + 1) << (MaximumDepth - shard.Depth));
                            Debug.Assert(shard.Prefix << (MaximumDepth - shard.Depth) <= _next && _next < end, "The shard found for a position does not hold it.");
                            _chunk?.Clear();

                            // The run's own shard still current: its snapshot is the one walked, and only its dirty map is new.
                            if (!ReferenceEquals(shard.Slots, _slots))
                            {
                                Take(shard.Slots, end);
                            }

                            if (shard.Dirty is { } dirty)
                            {
                                Take(dirty.Slots, end);
                            }

                            _next = end;
                            _promoted = false;
                            taken = true;
                        }
                    }
                }
                finally
                {
                    shard.Lock.Exit();
                }

                map.Report(events);
                if (taken)
                {
                    map.Stall(StallPoint.CatchUpTookChunk);
                    return true;
                }
            }

            return false;
        }

        /// <summary>
        /// Takes the entries of <paramref name="slots"/> (a current shard's table, whose lock the caller holds) at positions
        /// [<see cref="_next"/>, <paramref name="end"/>) that the run's snapshot lacks, and that were not visited before a
        /// switch: into <see cref="_chunk"/>, or counted live. O(table).
        /// </summary>
        private void Take(Entry<TKey>?[] slots, int end)
        {
            foreach (Entry<TKey>? entry in slots)
            {
                if (entry is null)
                {
                    continue;
                }

                int position = PositionOf(entry.HashCode);
                if (position < _next || position >= end
                    || SyncTable<TKey>.Find(_slots, entry.Key, entry.HashCode, _comparer) is not null
                    || (_visited is not null && _visited.Contains(entry.Key)))
                {
                    continue;
                }

                if (_mode != WalkMode.Count)
                {
                    (_chunk ??= []).Add(entry);
                }
                else if (TryLoad(entry, out _))
                {
                    Counted++;
                }
            }
        }

        /// <summary>
        /// The map switched to randomized hashing after the walk loaded its directory: the walk goes on over the new
        /// directory (loaded now, with the new comparer, which never changes again), skipping what it has visited. Every
        /// key with an old position below <see cref="_next"/> was visited or taken (or was not live throughout), and so was
        /// every key of the run's snapshot; no other key was.
        /// </summary>
        private void StartOverAfterSwitch(SyncMap<TKey, TValue> map)
        {
            Debug.Assert(_visited is null, "The map switched to randomized hashing twice.");
            // The default comparer: the one the map switched to, with the old one's equality (only string keys switch),
            // and randomized, so that the colliding keys that made the switch do not collide here.
            var keys = new HashSet<TKey>(EqualityComparer<TKey>.Default);
            foreach (Entry<TKey>? entry in _slots)
            {
                if (entry is not null)
                {
                    keys.Add(entry.Key);
                }
            }

            _visited = new VisitedBeforeSwitch(_comparer!, _next, keys);
            _chunk?.Clear();
            _snapshots = map.LoadDirectory(out _comparer);
            StartRun(0);
        }
    }

    /// <summary>
    /// The keys a walk visited before the switch to randomized hashing (see <see cref="WalkCursor"/>): those whose
    /// positions under the old comparer lie before the position reached, and the keys of the run it was catching up with.
    /// </summary>
    private sealed class VisitedBeforeSwitch(IEqualityComparer<TKey> comparer, int reached, HashSet<TKey> runKeys)
    {
        internal bool Contains(TKey key) => PositionOf(SyncTable<TKey>.Hash(key, comparer)) < reached || runKeys.Contains(key);
    }

    /// <summary>
    /// Whether the shard that owned <paramref name="slots"/> at directory index <paramref name="index"/> of
    /// <paramref name="snapshots"/> may now hold keys that <paramref name="slots"/> lacks: <c>false</c> only when the
    /// same shard is still current and has never had a pending key (the switch to randomized hashing saturates every
    /// filter before it publishes, and a promotion, a split or a clear publishes other shards).
    /// </summary>
    private bool MayHaveKeysBeyond(Entry<TKey>?[][] snapshots, int index, Entry<TKey>?[] slots)
    {
        Shard<TKey>[] shards = Volatile.Read(ref _shards);
        return shards.Length != snapshots.Length
            || !ReferenceEquals(shards[index].Slots, slots)
            || Volatile.Read(ref shards[index].Pending) is not null;
    }

    /// <summary>
    /// The snapshots and the comparer that built them, under <see cref="_directoryLock"/>, which every publication
    /// and the whole switch to randomized hashing hold: so the snapshots are a whole publication, at least as new as
    /// any shard found in <see cref="_shards"/> before this call, and the comparer is theirs. Where a walk starts. O(1).
    /// </summary>
    private Entry<TKey>?[][] LoadDirectory(out IEqualityComparer<TKey>? comparer)
    {
        lock (_directoryLock)
        {
            comparer = _keyComparer;
            return _snapshots;
        }
    }
}
