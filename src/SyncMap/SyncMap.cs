using System.Collections;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using SyncMapRegistry.Telemetry;

namespace SyncMapRegistry;

/// <summary>
/// A concurrent map for read-mostly workloads: Go's <c>sync.Map</c> read/dirty design, carried into .NET.
/// </summary>
/// <remarks>
/// <para>
/// Choose it over <see cref="System.Collections.Concurrent.ConcurrentDictionary{TKey, TValue}"/> when
/// (1) a key is written once and read many times, as in caches that only grow, or (2) threads read,
/// write and overwrite disjoint sets of keys. Then a lookup that hits the read snapshot takes no lock,
/// allocates nothing and writes no shared memory, and updates of existing keys take no lock either.
/// Do not choose it for workloads that keep adding new keys: every new key takes its shard's lock, lookups of the
/// new keys take it too until their shard is promoted, and each promotion copies the shard's snapshot and the
/// directory of shards.
/// </para>
/// <para>
/// Departures from Go: the map is split into shards of at most 1,024 keys, each promoted and rebuilt on its own, so no operation copies more than one shard
/// (plus, for a promotion or split, the directory of shard references) however big the map grows. A shard's dirty
/// map holds only the keys added since its snapshot was built, not a copy of the snapshot as Go's does: a new key
/// copies nothing, and the promotion, which the misses have paid for, merges the two tables into the next snapshot. String keys with
/// the default comparer hash non-randomized until colliding keys switch the map to randomized hashing.
/// And while new keys are pending, a lookup of a key that is in neither table is answered
/// without the lock when a Bloom filter of the pending keys rules it out (<see cref="PendingKeys"/>). Go sends
/// every such lookup under the lock and counts it as a miss, which is what makes its adversarial workloads slow.
/// </para>
/// <para>
/// Memory model: a write happens-before any read that observes it. <see cref="LoadOrStore"/> is a write
/// only when it stores; <see cref="CompareAndSwap"/> and <see cref="CompareAndDelete"/> only when they succeed.
/// </para>
/// <para>A <c>null</c> value is a value like any other; a <c>null</c> key throws <see cref="ArgumentNullException"/>.</para>
/// </remarks>
/// <typeparam name="TKey">The key type.</typeparam>
/// <typeparam name="TValue">The value type. A value type of at most 4 bytes without references lives inline in the entry; a larger value type is boxed once per store; a reference type is stored as is.</typeparam>
[SuppressMessage("Naming", "CA1710:Identifiers should have correct suffix", Justification = "The name carries Go's sync.Map, which the type ports.")]
[DebuggerDisplay("Shards = {_shards.Length}, AmendedShards = {_amendedShards}")]
public sealed class SyncMap<TKey, TValue> : IReadOnlyDictionary<TKey, TValue>
    where TKey : notnull
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
    /// The comparer the tables hash with: <c>null</c> for a value-type key with the default comparer, so the JIT can
    /// devirtualize it; <see cref="NonRandomizedStringComparer"/> for string keys with the default comparer, until a
    /// long probe sequence switches the map to the randomized default (<see cref="SwitchToRandomizedHashing"/>).
    /// Written only then, with every shard's lock and the directory lock held, after every shard's filter is saturated
    /// and before any entry is rehashed or the rehashed directory is published. A reader loads it before the snapshots; a miss made with a comparer
    /// that is no longer current looks again under its shard's lock.
    /// </summary>
    private IEqualityComparer<TKey>? _keyComparer;

    /// <summary>
    /// Which read path <see cref="TryGetValue"/> takes, in one load and one compare. The inlined one serves exactly
    /// two cases, those whose hash and equality it inlines, and then counts nothing: a value-type key with the
    /// default comparer (this is <c>null</c>) and a string key with the non-randomized comparer (this is
    /// <see cref="NonRandomizedStringComparer.Instance"/>). Any other value sends the read out of line
    /// (<see cref="TryGetValueGeneral"/>): another comparer, or a map that counts read hits, which then holds
    /// <see cref="EqualityComparer{T}.Default"/> here. Written with <see cref="_keyComparer"/>, after it
    /// (<see cref="SetKeyComparer"/>), so that a reader that sees the inlined path's comparer here and misses finds
    /// out from <see cref="_keyComparer"/> whether it has changed since.
    /// </summary>
    private IEqualityComparer<TKey>? _inlineReadComparer;

    /// <summary>Probe sequences longer than this in a dirty table of non-randomized string hashes switch the map to randomized hashing.</summary>
    private const int MaximumNonRandomizedProbe = 64;

    private readonly IEqualityComparer<TValue> _valueComparer;

    /// <summary>Read-hit counts in per-thread cells; <c>null</c> unless <see cref="SyncMapOptions.CountReadHits"/>.</summary>
    private readonly PerThreadCounter? _readHits;

    /// <summary>The statistics, written only on slow paths, with interlocked operations under a shard's lock; read by anyone without one.</summary>
    private readonly SyncMapCounters _counters;

    /// <summary>The map's instruments; <c>null</c> when it has no <see cref="SyncMapOptions.Name"/>. Called only while the map holds no lock.</summary>
    private readonly SyncMapTelemetry? _telemetry;

    // One constructor per arity, so that no call is ambiguous: `new SyncMap<TKey, TValue>(null)` is the map without options.

    /// <summary>Creates an empty map with the default comparers and no telemetry.</summary>
    public SyncMap()
        : this(null, null, null)
    {
    }

    /// <summary>Creates an empty map with telemetry settings and the default comparers.</summary>
    /// <param name="options">The map's name in telemetry and whether it counts read hits; <c>null</c> for none.</param>
    public SyncMap(SyncMapOptions? options)
        : this(options, null, null)
    {
    }

    /// <summary>Creates an empty map with the given comparers and no telemetry.</summary>
    /// <param name="keyComparer">Compares keys; <c>null</c> for <see cref="EqualityComparer{T}.Default"/>.</param>
    /// <param name="valueComparer">Compares values for <see cref="CompareAndSwap"/> and <see cref="CompareAndDelete"/>; <c>null</c> for the default.</param>
    public SyncMap(IEqualityComparer<TKey>? keyComparer, IEqualityComparer<TValue>? valueComparer)
        : this(null, keyComparer, valueComparer)
    {
    }

    /// <summary>Creates an empty map with telemetry settings and comparers.</summary>
    /// <param name="options">The map's name in telemetry and whether it counts read hits; <c>null</c> for none.</param>
    /// <param name="keyComparer">Compares keys; <c>null</c> for <see cref="EqualityComparer{T}.Default"/>.</param>
    /// <param name="valueComparer">Compares values for <see cref="CompareAndSwap"/> and <see cref="CompareAndDelete"/>; <c>null</c> for the default.</param>
    public SyncMap(SyncMapOptions? options, IEqualityComparer<TKey>? keyComparer, IEqualityComparer<TValue>? valueComparer)
    {
        _valueComparer = valueComparer ?? EqualityComparer<TValue>.Default;
        if (options?.CountReadHits == true)
        {
            _readHits = new PerThreadCounter();
        }

        if (typeof(TKey).IsValueType)
        {
            SetKeyComparer(keyComparer is null || ReferenceEquals(keyComparer, EqualityComparer<TKey>.Default) ? null : keyComparer);
        }
        else if (typeof(TKey) == typeof(string) && (keyComparer is null || ReferenceEquals(keyComparer, EqualityComparer<TKey>.Default)))
        {
            SetKeyComparer((IEqualityComparer<TKey>)(object)NonRandomizedStringComparer.Instance);
        }
        else
        {
            SetKeyComparer(keyComparer ?? EqualityComparer<TKey>.Default);
        }

        _counters = new SyncMapCounters(_readHits, CurrentSizes);
        (_shards, _snapshots) = EmptyDirectory();
        if (options?.Name is { } name)
        {
            _telemetry = new SyncMapTelemetry(name, _counters);
        }
    }

    // Every public method checks its key with `!typeof(TKey).IsValueType && key is null`: the JIT folds the
    // check away for value-type keys, and unoptimized (Debug) code never reaches the `box` that `key is null`
    // compiles to for a generic key, so the read path allocates nothing in any build.

    /// <summary>The comparer that decides key equality.</summary>
    public IEqualityComparer<TKey> KeyComparer =>
        _keyComparer is null || _keyComparer is NonRandomizedStringComparer ? EqualityComparer<TKey>.Default : _keyComparer;

    /// <summary>The map's name in telemetry, or <c>null</c>.</summary>
    public string? Name => _telemetry?.Name;


    /// <summary>
    /// The number of live entries. O(n), and it takes shards' locks one at a time, for shards with pending
    /// keys. Not a snapshot: under concurrent writes it reflects each entry at some moment during the call.
    /// </summary>
    public int Count
    {
        get
        {
            int count = 0;
            ForEachWithoutPromoting((_, _) =>
            {
                count++;
                return true;
            });
            return count;
        }
    }

    /// <summary>Gets a value (O(1), lock-free on a read hit), or stores one (<see cref="Store"/>).</summary>
    /// <exception cref="KeyNotFoundException">On get, when the key is absent.</exception>
    public TValue this[TKey key]
    {
        get
        {
            if (!TryGetValue(key, out TValue? value))
            {
                ThrowHelper.ThrowKeyNotFound(key);
            }

            return value;
        }
        set => Store(key, value);
    }

    /// <summary>The keys of live entries, with <see cref="Range"/>'s semantics. Allocates an iterator.</summary>
    public IEnumerable<TKey> Keys
    {
        get
        {
            foreach (KeyValuePair<TKey, TValue> pair in this)
            {
                yield return pair.Key;
            }
        }
    }

    /// <summary>The values of live entries, with <see cref="Range"/>'s semantics. Allocates an iterator.</summary>
    public IEnumerable<TValue> Values
    {
        get
        {
            foreach (KeyValuePair<TKey, TValue> pair in this)
            {
                yield return pair.Value;
            }
        }
    }

    /// <summary>
    /// Gets the value stored for a key (Go's <c>Load</c>). A hit in the read snapshot takes no lock,
    /// allocates nothing and writes no shared memory. A key missing from the snapshot while new keys are
    /// pending in its shard is looked up in the shard's dirty map under the shard's lock, and counts a miss.
    /// </summary>
    public bool TryGetValue(TKey key, [MaybeNullWhen(false)] out TValue value)
    {
        if (!typeof(TKey).IsValueType && key is null)
        {
            ThrowHelper.ThrowKeyNull();
        }

        IEqualityComparer<TKey>? comparer = _inlineReadComparer;
        if (typeof(TKey).IsValueType ? comparer is null : ReferenceEquals(comparer, NonRandomizedStringComparer.Instance))
        {
            // A constant null for a value-type key lets the JIT drop every comparer test.
            return TryGetValueCore(key, typeof(TKey).IsValueType ? null : comparer, countHit: false, out value);
        }

        // Through a local of its own, so that the inlined path's value is never address-exposed (spilled to the stack).
        bool found = TryGetValueGeneral(key, out TValue? other);
        value = other!;
        return found;
    }

    /// <summary>Any other comparer, or a map that counts read hits: <see cref="TryGetValueCore"/> out of line, so that the inlined read stays small.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool TryGetValueGeneral(TKey key, [MaybeNullWhen(false)] out TValue value) =>
        TryGetValueCore(key, Volatile.Read(ref _keyComparer), countHit: _readHits is not null, out value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TryGetValueCore(TKey key, IEqualityComparer<TKey>? comparer, bool countHit, [MaybeNullWhen(false)] out TValue value)
    {
        int hashCode = SyncTable<TKey>.Hash(key, comparer);
        Entry<TKey>?[] slots = SnapshotOf(hashCode);
        Entry<TKey>? entry = SyncTable<TKey>.Find(slots, key, hashCode, comparer);

        // TryLoad spelled out, so that the JIT branches on the slot's state instead of building and testing a bool.
        if (entry is not null)
        {
            if (Inline)
            {
                long word = entry.LoadWord();
                if (InlineWord.IsLive(word))
                {
                    value = InlineWord.ValueOf<TValue>(word);
                    return !countHit || CountReadHit();
                }
            }
            else
            {
                object? p = entry.Load();
                if (EntryState.IsLive(p))
                {
                    value = Unwrap(p);
                    return !countHit || CountReadHit();
                }
            }
        }

        // Through a local of its own, as in TryGetValue.
        bool found = TryGetValueMissed(key, hashCode, slots, entry, comparer, out TValue? missed);
        value = missed!;
        return found;
    }

    /// <summary>Opt-in read-hit counting (<see cref="SyncMapOptions.CountReadHits"/>): one increment of this thread's cell; always <c>true</c>.</summary>
    private bool CountReadHit()
    {
        _readHits!.Increment();
        return true;
    }

    /// <summary>
    /// No live value in the key's snapshot entry: absent at once when the snapshot holds the key deleted but not
    /// expunged (<paramref name="found"/>), or lacks it or holds it expunged and the shard cannot hold it as a pending
    /// key (<see cref="AbsentFromSnapshot"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool TryGetValueMissed(TKey key, int hashCode, Entry<TKey>?[] searched, Entry<TKey>? found, IEqualityComparer<TKey>? comparer, [MaybeNullWhen(false)] out TValue value)
    {
        if (!AbsentFromSnapshot(found) || !MayBePending(hashCode, searched, comparer))
        {
            value = default;
            return false;
        }

        return TryGetValueLocked(key, out value);
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
    private bool MayBePending(int hashCode, Entry<TKey>?[] searched, IEqualityComparer<TKey>? comparer)
    {
        // The search's loads of hash codes, which the switch to randomized hashing rewrites, before the loads that
        // tell whether it has begun (free on x64, whose loads are not reordered with each other).
        Volatile.ReadBarrier();
        if (!ReferenceEquals(Volatile.Read(ref _keyComparer), comparer))
        {
            return true;
        }

        Shard<TKey>[] shards = Volatile.Read(ref _shards);
        Shard<TKey> shard = shards[SyncTable<TKey>.ShardIndex(hashCode, shards.Length)];
        if (!ReferenceEquals(shard.Slots, searched))
        {
            return true;
        }

        PendingKeys? pending = Volatile.Read(ref shard.Pending);
        return pending is not null && pending.MayContain(hashCode);
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

    /// <summary>Whether the map holds a live value for the key. The cost of <see cref="TryGetValue"/>.</summary>
    public bool ContainsKey(TKey key) => TryGetValue(key, out _);

    /// <summary>
    /// Sets the value for a key (Go's <c>Store</c>). Over an existing, non-expunged key it is a lock-free
    /// CAS that allocates nothing for a reference-type value; a new key takes its shard's lock.
    /// </summary>
    public void Store(TKey key, TValue value) => Swap(key, value, out _);

    /// <summary>
    /// Stores a value and returns the previous one (Go's <c>Swap</c>). Lock-free on a snapshot entry that is
    /// not expunged, reviving a deleted one.
    /// </summary>
    /// <returns><c>true</c> when the key held a live value, which is then in <paramref name="previous"/>.</returns>
    public bool Swap(TKey key, TValue value, [MaybeNullWhen(false)] out TValue previous)
    {
        if (!typeof(TKey).IsValueType && key is null)
        {
            ThrowHelper.ThrowKeyNull();
        }

        IEqualityComparer<TKey>? comparer = _keyComparer;
        int hashCode = SyncTable<TKey>.Hash(key, comparer);
        Entry<TKey>? entry = FindInSnapshot(key, hashCode, comparer, out _);
        if (entry is not null)
        {
            if (Inline)
            {
                if (entry.TrySwapWord(InlineWord.Of(value), out long word))
                {
                    return TryUnwrap(word, out previous);
                }
            }
            else if (entry.TrySwap(Wrap(value), out object? p))
            {
                return TryUnwrap(p, out previous);
            }
        }

        return SwapSlow(key, hashCode, value, out previous);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool SwapSlow(TKey key, int hashCode, TValue value, [MaybeNullWhen(false)] out TValue previous)
    {
        bool swapped = false;
        bool colliding = false;
        previous = default;

        // The comparer may have switched to randomized hashing since the caller hashed the key: this hashes again.
        Shard<TKey> shard = EnterShardWithRoom(key, out hashCode);
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

    /// <summary>
    /// Returns the existing value for a key if present; otherwise stores and returns <paramref name="value"/>
    /// (Go's <c>LoadOrStore</c>). Lock-free when the key is in the snapshot and not expunged.
    /// </summary>
    /// <param name="key">The key.</param>
    /// <param name="value">The value to store when the key has none.</param>
    /// <param name="loaded"><c>true</c> when the value was loaded, <c>false</c> when it was stored.</param>
    public TValue LoadOrStore(TKey key, TValue value, out bool loaded)
    {
        if (!typeof(TKey).IsValueType && key is null)
        {
            ThrowHelper.ThrowKeyNull();
        }

        IEqualityComparer<TKey>? comparer = _keyComparer;
        int hashCode = SyncTable<TKey>.Hash(key, comparer);
        Entry<TKey>? entry = FindInSnapshot(key, hashCode, comparer, out _);
        if (entry is not null && TryLoadOrStore(entry, value, out TValue actual, out loaded))
        {
            return actual;
        }

        return LoadOrStoreSlow(key, hashCode, value, out loaded);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private TValue LoadOrStoreSlow(TKey key, int hashCode, TValue value, out bool loaded)
    {
        SlowPathEvents events = default;
        TValue actual;
        bool colliding = false;

        // The comparer may have switched to randomized hashing since the caller hashed the key: this hashes again.
        Shard<TKey> shard = EnterShardWithRoom(key, out hashCode);
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

    /// <summary>
    /// Gets the value for a key, or stores the factory's value when absent. The cost of
    /// <see cref="TryGetValue"/> on a hit. Under a race the factory may run and its value be discarded,
    /// as with <see cref="System.Collections.Concurrent.ConcurrentDictionary{TKey, TValue}.GetOrAdd(TKey, Func{TKey, TValue})"/>.
    /// </summary>
    public TValue GetOrAdd(TKey key, Func<TKey, TValue> valueFactory)
    {
        ArgumentNullException.ThrowIfNull(valueFactory);
        return TryGetValue(key, out TValue? value) ? value : LoadOrStore(key, valueFactory(key), out _);
    }

    /// <summary>
    /// Deletes a key and returns its value (Go's <c>LoadAndDelete</c>). A snapshot hit CASes the value
    /// out without a lock, and the key stays in the snapshot until the shard's next promotion expunges it.
    /// </summary>
    /// <returns><c>true</c> when a live value was removed; it is then in <paramref name="value"/>.</returns>
    public bool LoadAndDelete(TKey key, [MaybeNullWhen(false)] out TValue value)
    {
        if (!typeof(TKey).IsValueType && key is null)
        {
            ThrowHelper.ThrowKeyNull();
        }

        IEqualityComparer<TKey>? comparer = _keyComparer;
        int hashCode = SyncTable<TKey>.Hash(key, comparer);
        Entry<TKey>? entry = FindInSnapshot(key, hashCode, comparer, out Entry<TKey>?[] searched);
        if (AbsentFromSnapshot(entry) && MayBePending(hashCode, searched, comparer))
        {
            entry = FindSlow(key, hashCode, removeFromDirty: true);
        }

        if (Inline)
        {
            return TryUnwrap(entry?.DeleteWord() ?? InlineWord.Deleted, out value);
        }

        return TryUnwrap(entry?.Delete(), out value);
    }

    /// <summary>Deletes a key (Go's <c>Delete</c>); the cost of <see cref="LoadAndDelete"/>.</summary>
    /// <returns><c>true</c> when a live value was removed.</returns>
    public bool Delete(TKey key) => LoadAndDelete(key, out _);

    /// <summary>
    /// Replaces a key's value when it equals <paramref name="expected"/> under the value comparer
    /// (Go's <c>CompareAndSwap</c>). Lock-free on a snapshot hit. Never succeeds on an absent, deleted or
    /// expunged key.
    /// </summary>
    public bool CompareAndSwap(TKey key, TValue expected, TValue value)
    {
        if (!typeof(TKey).IsValueType && key is null)
        {
            ThrowHelper.ThrowKeyNull();
        }

        IEqualityComparer<TKey>? comparer = _keyComparer;
        int hashCode = SyncTable<TKey>.Hash(key, comparer);
        Entry<TKey>? entry = FindInSnapshot(key, hashCode, comparer, out Entry<TKey>?[] searched);
        if (!AbsentFromSnapshot(entry))
        {
            return TryCompareAndReplace(entry, expected, value, delete: false);
        }

        return MayBePending(hashCode, searched, comparer) && CompareAndSwapSlow(key, hashCode, expected, value);
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
    /// Deletes a key when its value equals <paramref name="expected"/> under the value comparer
    /// (Go's <c>CompareAndDelete</c>). Lock-free on a snapshot hit. Like <see cref="Delete"/> on a snapshot
    /// key, it leaves the key in the tables until a rebuild expunges it.
    /// </summary>
    public bool CompareAndDelete(TKey key, TValue expected)
    {
        if (!typeof(TKey).IsValueType && key is null)
        {
            ThrowHelper.ThrowKeyNull();
        }

        IEqualityComparer<TKey>? comparer = _keyComparer;
        int hashCode = SyncTable<TKey>.Hash(key, comparer);
        Entry<TKey>? entry = FindInSnapshot(key, hashCode, comparer, out Entry<TKey>?[] searched);
        if (AbsentFromSnapshot(entry) && MayBePending(hashCode, searched, comparer))
        {
            entry = FindSlow(key, hashCode, removeFromDirty: false);
        }

        return entry is not null && TryCompareAndReplace(entry, expected, default!, delete: true);
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

    /// <summary>Enumerates live entries with <see cref="Range"/>'s semantics. The struct enumerator allocates nothing.</summary>
    public Enumerator GetEnumerator() => new(this);

    IEnumerator<KeyValuePair<TKey, TValue>> IEnumerable<KeyValuePair<TKey, TValue>>.GetEnumerator() => GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>
    /// Removes every entry. Returns at once, allocating nothing, when the map is already empty; otherwise
    /// takes every shard's lock and publishes an empty directory.
    /// </summary>
    public void Clear()
    {
        Shard<TKey>[] shards = Volatile.Read(ref _shards);
        if (shards.Length == 1 && shards[0].Count == 0 && Volatile.Read(ref shards[0].Pending) is null)
        {
            // One shard with an empty snapshot that never had a pending key: it is current and empty.
            return;
        }

        shards = EnterAllShards();
        try
        {
            // Every current shard is locked, so nobody changes the count until the empty directory is out.
            Volatile.Write(ref _amendedShards, 0);
            (Shard<TKey>[] empty, Entry<TKey>?[][] snapshots) = EmptyDirectory();
            lock (_directoryLock)
            {
                // The snapshots first, unlike Publish: a clear drops its entries without expunging them, so no reader may
                // load the old snapshots (and a live entry there) once a writer can have found the new shards.
                Volatile.Write(ref _snapshots, snapshots);
                Volatile.Write(ref _shards, empty);
            }
        }
        finally
        {
            ExitAllShards(shards, retire: true);
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

    /// <summary>
    /// The read/dirty machinery's counters and sizes, read without a lock; the counters are maintained
    /// on slow paths only, never on the read-hit path, and the sizes are summed over the shards (O(shards): about
    /// one per 500-1,000 keys).
    /// </summary>
    public SyncMapStatistics GetStatistics() => _counters.Read();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Entry<TKey>? FindInSnapshot(TKey key, int hashCode, IEqualityComparer<TKey>? comparer, out Entry<TKey>?[] slots)
    {
        slots = SnapshotOf(hashCode);
        return SyncTable<TKey>.Find(slots, key, hashCode, comparer);
    }

    /// <summary>
    /// The snapshot array of a hash code's shard, lock-free. <see cref="SyncTable{TKey}.ShardIndex"/> takes the top
    /// log2(length) bits of a mix, so it is always within the directory: the element is read without a bounds check.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Entry<TKey>?[] SnapshotOf(int hashCode)
    {
        Entry<TKey>?[][] snapshots = Volatile.Read(ref _snapshots);
        ref Entry<TKey>?[] first = ref MemoryMarshal.GetArrayDataReference(snapshots);

        // One shard (a map of at most 1,024 keys) reads its snapshot at a fixed offset, which the CPU can load while
        // it checks the length, instead of one computed from the length.
        return snapshots.Length == 1 ? first : Unsafe.Add(ref first, SyncTable<TKey>.ShardIndex(hashCode, snapshots.Length));
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
    /// <see cref="SyncTable{TKey}.MaximumShardEntries"/>) is split first (O(shard)), and the key's half is locked instead.
    /// </summary>
    private Shard<TKey> EnterShardWithRoom(TKey key, out int hashCode)
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
                SplitLocked(shard);
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
    /// Counts a miss and promotes the shard once its misses reach the size of the table the promotion builds, its
    /// snapshot's keys plus its dirty map's (Go's <c>missLocked</c>, whose dirty map holds both): the misses pay for the copy.
    /// </summary>
    private void MissLocked(Shard<TKey> shard, ref SlowPathEvents events)
    {
        shard.Misses++;
        _counters.Missed();
        events.Misses++;
        if (shard.Misses < shard.Count + shard.Dirty!.Count)
        {
            return;
        }

        PromoteLocked(shard, ref events);
    }

    /// <summary>
    /// Promotes an amended shard: publishes in its place a new shard whose snapshot merges the old snapshot's live
    /// entries with the dirty map's (<see cref="SyncTable{TKey}.Merge"/>, expunging the deleted ones), with no dirty map
    /// and no pending keys. Caller holds the shard's lock. O(shard + directory).
    /// </summary>
    private void PromoteLocked(Shard<TKey> shard, ref SlowPathEvents events)
    {
        DateTime start = SpanStartLocked();
        SyncTable<TKey> dirty = shard.Dirty!;
        SyncTable<TKey> merged = SyncTable<TKey>.Merge(shard.Slots, shard.Count, dirty, Inline, out int expunged);
        DateTime merging = start == default ? default : DateTime.UtcNow;
        Replace(shard, new Shard<TKey>(merged.Slots, merged.Count, shard.Depth, shard.Prefix, dirty: null, pending: null), second: null);
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

    /// <summary>
    /// Leaves non-randomized string hashing for the randomized default comparer: with every shard locked, rehashes
    /// every entry in place and publishes a fresh directory of promoted shards (each key in a snapshot, no dirty maps).
    /// O(n), once per map, and only when keys collide (as crafted keys would): the bounded-pause guarantee gives way to
    /// resistance against hash flooding, as in the BCL's dictionaries.
    /// </summary>
    /// <remarks>
    /// Lock-free operations go on meanwhile, on the old snapshots or the new ones, hashing with either comparer, and a
    /// key they do not find in a snapshot must not be reported absent while it is in the map. So the order is: first
    /// everything that can fail (allocations, hashing), with the map untouched; then every shard gets a filter of
    /// pending keys that may contain any key (<see cref="PendingKeys.Saturated"/>), then the comparer changes, and
    /// only then are entries rehashed and the new directory published. A reader that missed because it hashed with
    /// the other comparer, or because the entry it looked for was rehashed already, then finds the comparer changed
    /// or the key maybe pending (<see cref="MayBePending"/>), and looks again under the shard's lock, which it gets
    /// once the shard is retired and the new directory published. The read path pays nothing for this.
    /// </remarks>
    private void SwitchToRandomizedHashing()
    {
        Shard<TKey>[] shards = EnterAllShards();
        bool switched = false;
        try
        {
            if (_keyComparer is not NonRandomizedStringComparer)
            {
                // Another thread switched first.
                return;
            }

            EqualityComparer<TKey> randomized = EqualityComparer<TKey>.Default;
            var rehashed = new List<(Entry<TKey> Entry, int HashCode)>();
            for (int i = 0; i < shards.Length; i += shards.Length >> shards[i].Depth)
            {
                // A current shard's keys: its snapshot's (none expunged) and its dirty map's.
                foreach (Entry<TKey>? entry in shards[i].Slots.Concat(shards[i].Dirty?.Slots ?? []))
                {
                    if (entry is not null)
                    {
                        rehashed.Add((entry, randomized.GetHashCode(entry.Key)));
                    }
                }
            }

            int depth = 0;
            while (depth < MaximumDepth && rehashed.Count >> depth > SyncTable<TKey>.MaximumShardEntries / 2)
            {
                depth++;
            }

            int[] counts = new int[1 << depth];
            foreach ((_, int hashCode) in rehashed)
            {
                counts[SyncTable<TKey>.ShardIndex(hashCode, counts.Length)]++;
            }

            var tables = new SyncTable<TKey>[counts.Length];
            var newShards = new Shard<TKey>[counts.Length];
            var snapshots = new Entry<TKey>?[counts.Length][];
            for (int i = 0; i < counts.Length; i++)
            {
                tables[i] = new SyncTable<TKey>(counts[i]);
                newShards[i] = new Shard<TKey>(tables[i].Slots, counts[i], depth, i, dirty: null, pending: null);
                snapshots[i] = tables[i].Slots;
            }

            // From here on nothing allocates. The saturated filters, then the comparer, then the hash codes: see the
            // remarks. The barrier keeps the plain stores of the hash codes behind the volatile ones on any processor.
            // All under the directory lock, so that a walk loads its directory and the comparer that built it together
            // (LoadDirectory).
            lock (_directoryLock)
            {
                for (int i = 0; i < shards.Length; i += shards.Length >> shards[i].Depth)
                {
                    Volatile.Write(ref shards[i].Pending, PendingKeys.Saturated);
                }

                SetKeyComparer(randomized);
                Interlocked.MemoryBarrier();
                foreach ((Entry<TKey> entry, int hashCode) in rehashed)
                {
                    entry.HashCode = hashCode;
                    tables[SyncTable<TKey>.ShardIndex(hashCode, tables.Length)].Add(entry);
                }

                Volatile.Write(ref _amendedShards, 0);
                Publish(newShards, snapshots);
            }

            switched = true;
        }
        finally
        {
            ExitAllShards(shards, retire: switched);
        }
    }

    /// <summary>
    /// Sets <see cref="_keyComparer"/>, then <see cref="_inlineReadComparer"/> from it: the same comparer when the inlined
    /// read path serves it and the map counts no read hits, else <see cref="EqualityComparer{T}.Default"/>, which is
    /// neither <c>null</c> nor the non-randomized string comparer. In the constructor, or with every shard's lock held.
    /// </summary>
    private void SetKeyComparer(IEqualityComparer<TKey>? comparer)
    {
        Volatile.Write(ref _keyComparer, comparer);
        bool inlined = typeof(TKey).IsValueType ? comparer is null : comparer is NonRandomizedStringComparer;
        Volatile.Write(ref _inlineReadComparer, inlined && _readHits is null ? comparer : EqualityComparer<TKey>.Default);
    }

    /// <summary>Whether the map has left non-randomized string hashing (for tests).</summary>
    internal bool HashesStringsRandomized => typeof(TKey) == typeof(string) && _keyComparer is not NonRandomizedStringComparer;

    /// <summary>
    /// Marks a shard amended: an empty dirty map and an empty filter of pending keys, where Go's <c>dirtyLocked</c>
    /// copies the whole snapshot (the copy happens at the promotion here). Caller holds the shard's lock. O(1).
    /// </summary>
    private void AmendLocked(Shard<TKey> shard)
    {
        shard.Dirty = new SyncTable<TKey>(0);
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

    /// <summary>Go's <c>tryLoadOrStore</c>: fails, leaving the entry unchanged, only when it is expunged.</summary>
    private static bool TryLoadOrStore(Entry<TKey> entry, TValue value, out TValue actual, out bool loaded)
    {
        if (Inline)
        {
            return TryLoadOrStoreWord(entry, value, out actual, out loaded);
        }

        object? p = entry.Load();
        object? boxed = null;
        while (!ReferenceEquals(p, EntryState.Expunged))
        {
            if (p is not null)
            {
                actual = Unwrap(p);
                loaded = true;
                return true;
            }

            boxed ??= Wrap(value);
            p = entry.CompareExchange(boxed, null);
            if (p is null)
            {
                actual = value;
                loaded = false;
                return true;
            }
        }

        actual = default!;
        loaded = false;
        return false;
    }

    /// <summary><see cref="TryLoadOrStore"/> of an inline value.</summary>
    private static bool TryLoadOrStoreWord(Entry<TKey> entry, TValue value, out TValue actual, out bool loaded)
    {
        long w = entry.LoadWord();
        while (w != InlineWord.Expunged)
        {
            if (w != InlineWord.Deleted)
            {
                actual = InlineWord.ValueOf<TValue>(w);
                loaded = true;
                return true;
            }

            w = entry.CompareExchangeWord(InlineWord.Of(value), InlineWord.Deleted);
            if (w == InlineWord.Deleted)
            {
                actual = value;
                loaded = false;
                return true;
            }
        }

        actual = default!;
        loaded = false;
        return false;
    }

    /// <summary>
    /// CASes a live value equal to <paramref name="expected"/> to <paramref name="value"/>, or to deleted when
    /// <paramref name="delete"/>. The replacement is boxed only once the comparison has passed.
    /// </summary>
    private bool TryCompareAndReplace(Entry<TKey> entry, TValue expected, TValue value, bool delete)
    {
        if (Inline)
        {
            return TryCompareAndReplaceWord(entry, expected, value, delete);
        }

        object? p = entry.Load();
        object? replacement = null;
        while (EntryState.IsLive(p) && _valueComparer.Equals(Unwrap(p), expected))
        {
            if (!delete)
            {
                replacement ??= Wrap(value);
            }

            object? seen = entry.CompareExchange(replacement, p);
            if (ReferenceEquals(seen, p))
            {
                return true;
            }

            p = seen;
        }

        return false;
    }

    /// <summary><see cref="TryCompareAndReplace"/> of an inline value.</summary>
    private bool TryCompareAndReplaceWord(Entry<TKey> entry, TValue expected, TValue value, bool delete)
    {
        long w = entry.LoadWord();
        while (InlineWord.IsLive(w) && _valueComparer.Equals(InlineWord.ValueOf<TValue>(w), expected))
        {
            long seen = entry.CompareExchangeWord(delete ? InlineWord.Deleted : InlineWord.Of(value), w);
            if (seen == w)
            {
                return true;
            }

            w = seen;
        }

        return false;
    }

    /// <summary>
    /// Whether values live inline in <see cref="Entry{TKey}"/>'s word (<see cref="InlineWord"/>) instead of boxed in its
    /// object slot: a value type of at most 4 bytes without references. A JIT-time constant, so each instantiation
    /// compiles only its own path; every other instantiation keeps the boxed slot.
    /// </summary>
    private static bool Inline
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => BitConverter.IsLittleEndian && !RuntimeHelpers.IsReferenceOrContainsReferences<TValue>() && Unsafe.SizeOf<TValue>() <= sizeof(int);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool TryLoad([NotNullWhen(true)] Entry<TKey>? entry, [MaybeNullWhen(false)] out TValue value)
    {
        if (entry is null)
        {
            value = default;
            return false;
        }

        return Inline ? TryUnwrap(entry.LoadWord(), out value) : TryUnwrap(entry.Load(), out value);
    }

    /// <summary>The value of an inline word, when it is live.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool TryUnwrap(long word, [MaybeNullWhen(false)] out TValue value)
    {
        if (InlineWord.IsLive(word))
        {
            value = InlineWord.ValueOf<TValue>(word);
            return true;
        }

        value = default;
        return false;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool TryUnwrap(object? p, [MaybeNullWhen(false)] out TValue value)
    {
        if (EntryState.IsLive(p))
        {
            value = Unwrap(p);
            return true;
        }

        value = default;
        return false;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static object Wrap(TValue value) => (object?)value ?? EntryState.NullValue;

    /// <summary>
    /// The value in a live slot. Only a <c>TValue</c> that can be null (a reference type or a nullable value
    /// type) can meet <see cref="EntryState.NullValue"/>; for other value types the test folds away. The slot's
    /// object is known to be a <c>TValue</c> or its box (only <see cref="Wrap"/> writes it), so a reference needs no cast check.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TValue Unwrap(object p)
    {
        if (default(TValue) is null && ReferenceEquals(p, EntryState.NullValue))
        {
            return default!;
        }

        if (!typeof(TValue).IsValueType)
        {
            return Unsafe.As<object, TValue>(ref p);
        }

        // A box of a non-nullable value type is laid out like a StrongBox<TValue> (the method table, then the value):
        // reading it that way skips the unbox type check, which only Wrap's own boxes could pass anyway. A nullable
        // TValue boxes as its underlying type, so it is unboxed the ordinary way.
        return default(TValue) is null ? (TValue)p : Unsafe.As<StrongBox<TValue>>(p).Value!;
    }


    /// <summary>A struct enumerator over live entries with <see cref="Range"/>'s semantics.</summary>
    /// <remarks>
    /// It walks the directory of snapshots loaded when it starts, shard by shard. At the end of a shard's snapshot, if
    /// the shard may have gained keys since (pending keys, or a promotion or split by another thread), it catches up:
    /// it promotes the shards that now cover the same range (<see cref="CatchUpSnapshot"/>) and walks their snapshots,
    /// skipping the keys the first snapshot holds (visited, or deleted during the walk). A key stays in its range of
    /// the directory, which only gets finer while the comparer cannot change, so no key is visited twice. A map whose
    /// comparer may still switch to randomized hashing (string keys) is promoted as a whole before the walk instead
    /// (<see cref="LoadForRange"/>), and its walk never catches up.
    /// </remarks>
    public struct Enumerator : IEnumerator<KeyValuePair<TKey, TValue>>
    {
        /// <summary>The map, for catching up; <c>null</c> when the whole map was promoted before the walk.</summary>
        private readonly SyncMap<TKey, TValue>? _map;

        /// <summary>The directory of snapshots loaded once; each shard's snapshot fills a run of equal entries.</summary>
        private readonly Entry<TKey>?[][] _snapshots;

        /// <summary>The comparer of the walked snapshots' hash codes: the map's, which cannot change while <see cref="_map"/> is set.</summary>
        private readonly IEqualityComparer<TKey>? _comparer;

        /// <summary>The current run of <see cref="_snapshots"/>: entries [<see cref="_shard"/>, <see cref="_end"/>), snapshot <see cref="_slots"/>.</summary>
        private int _shard;
        private int _end;
        private Entry<TKey>?[] _slots;
        private int _index;

        /// <summary>The snapshot being caught up with after <see cref="_slots"/>, or <c>null</c>; its position, and the catch-up's (see <see cref="CatchUpSnapshot"/>).</summary>
        private Entry<TKey>?[]? _catchUp;
        private int _catchUpIndex;
        private int _next;
        private int _length;

        private KeyValuePair<TKey, TValue> _current;

        /// <summary>Set once <see cref="MoveNext"/> has returned <c>false</c>: later calls return <c>false</c> too, and catch up with nothing.</summary>
        private bool _done;

        internal Enumerator(SyncMap<TKey, TValue> map)
        {
            // Only the non-randomized string comparer is ever replaced (once, by the randomized one).
            bool lazy = Volatile.Read(ref map._keyComparer) is not NonRandomizedStringComparer;
            _map = lazy ? map : null;
            _comparer = null;
            _snapshots = lazy ? map.LoadDirectory(out _comparer) : map.LoadForRange();
            _shard = 0;
            _end = RunEnd(_snapshots, 0);
            _slots = _snapshots[0];
            _index = -1;
            _catchUp = null;
            _catchUpIndex = -1;
            _next = 0;
            _length = 0;
            _current = default;
            _done = false;
        }

        /// <inheritdoc/>
        public readonly KeyValuePair<TKey, TValue> Current => _current;

        readonly object IEnumerator.Current => _current;

        /// <inheritdoc/>
        public bool MoveNext()
        {
            while (!_done)
            {
                if (_catchUp is { } catchUp)
                {
                    while (++_catchUpIndex < catchUp.Length)
                    {
                        Entry<TKey>? entry = catchUp[_catchUpIndex];
                        if (entry is not null && TryLoad(entry, out TValue? value) && SyncTable<TKey>.Find(_slots, entry.Key, entry.HashCode, _comparer) is null)
                        {
                            _current = new KeyValuePair<TKey, TValue>(entry.Key, value);
                            return true;
                        }
                    }

                    _catchUp = _map!.CatchUpSnapshot(_shard, _end, _snapshots.Length, ref _next, ref _length);
                    _catchUpIndex = -1;
                    if (_catchUp is not null)
                    {
                        continue;
                    }
                }
                else
                {
                    while (++_index < _slots.Length)
                    {
                        Entry<TKey>? entry = _slots[_index];
                        if (TryLoad(entry, out TValue? value))
                        {
                            _current = new KeyValuePair<TKey, TValue>(entry.Key, value);
                            return true;
                        }
                    }

                    if (_map is not null && _map.MayHaveKeysBeyond(_snapshots, _shard, _slots))
                    {
                        _next = _shard;
                        _length = _snapshots.Length;
                        _catchUp = _map.CatchUpSnapshot(_shard, _end, _snapshots.Length, ref _next, ref _length);
                        _catchUpIndex = -1;
                        if (_catchUp is not null)
                        {
                            continue;
                        }
                    }
                }

                // The next run.
                if (_end >= _snapshots.Length)
                {
                    _done = true;
                    break;
                }

                _shard = _end;
                _end = RunEnd(_snapshots, _shard);
                _slots = _snapshots[_shard];
                _index = -1;
            }

            return false;
        }

        /// <inheritdoc/>
        public void Reset() => throw new NotSupportedException();

        /// <inheritdoc/>
        public readonly void Dispose()
        {
        }

        /// <summary>The end of the run of equal snapshots that starts at <paramref name="start"/>.</summary>
        private static int RunEnd(Entry<TKey>?[][] snapshots, int start)
        {
            int end = start + 1;
            while (end < snapshots.Length && ReferenceEquals(snapshots[end], snapshots[start]))
            {
                end++;
            }

            return end;
        }
    }
}
