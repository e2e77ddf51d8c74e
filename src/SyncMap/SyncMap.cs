using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
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
/// new keys look past the snapshot into the shard's dirty map (without the lock when they find the key live there)
/// until their shard is promoted, and each promotion copies the shard's snapshot and the directory of shards.
/// </para>
/// <para>
/// Departures from Go: the map is split into shards of at most 1,024 keys, each promoted and rebuilt on its own, so no operation copies more than one shard
/// (plus, for a promotion or split, the directory of shard references) however big the map grows. A shard's dirty
/// map holds only the keys added since its snapshot was built, not a copy of the snapshot as Go's does: a new key
/// copies nothing, and the promotion, which the misses have paid for, merges the two tables into the next snapshot. String keys with
/// the default comparer hash non-randomized until colliding keys switch the map to randomized hashing.
/// And while new keys are pending, a lookup of a key that is in neither table is answered
/// without the lock when a Bloom filter of the pending keys rules it out (<see cref="PendingKeys"/>), and a lookup
/// of a pending key that finds it live in the dirty map answers without the lock too, counting its miss
/// (<see cref="TryGetPendingLockFree"/>). Go sends every such lookup under the lock and counts it as a miss,
/// which is what makes its adversarial workloads slow.
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
[DebuggerDisplay("Shards = {ShardCount}, AmendedShards = {AmendedShards}")]
public sealed partial class SyncMap<TKey, TValue> : IReadOnlyDictionary<TKey, TValue>
    where TKey : notnull
{
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
        (_shards, Entry<TKey>?[][] snapshots) = EmptyDirectory();
        _snapshots = snapshots;
        StoreSnapshots(snapshots);
        if (options?.Name is { } name)
        {
            _telemetry = new SyncMapTelemetry(name, _counters, SyncMapInstrumentation.For(options.MeterFactory));
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
    /// The number of live entries: a walk without promoting (<see cref="WalkCursor"/>) that counts. O(n); it takes the
    /// directory lock once (O(1)), and each shard's lock in turn for a shard that has pending keys or was replaced during
    /// the walk. Allocates nothing. Not a snapshot: under concurrent writes it counts each key once, live at some moment
    /// during the call, and every key live throughout it.
    /// </summary>
    public int Count
    {
        get
        {
            var cursor = new WalkCursor(this, WalkMode.Count);
            while (cursor.MoveNext(this))
            {
            }

            return cursor.Counted;
        }
    }

    /// <summary>
    /// Whether the map holds no live entry: a walk that stops at the first one (<see cref="Count"/>'s, without its full
    /// count). O(1) on an empty map or one whose first snapshot slots hold a live entry; O(n) at worst (a map of deleted
    /// entries). Allocates nothing. Under concurrent writes, <c>false</c> means a key was live at some moment during the
    /// call, and <c>true</c> that no key was live throughout it.
    /// </summary>
    public bool IsEmpty
    {
        get
        {
            var cursor = new WalkCursor(this, WalkMode.Count);
            return !cursor.MoveNext(this);
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
    /// pending in its shard is looked up in the shard's dirty map, and counts a miss: without the lock when the key is
    /// found live there (an interlocked increment of the shard's count of misses), under the shard's lock otherwise, and
    /// for the miss that completes the price of the shard's promotion, which it then makes.
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
    /// <see cref="GetOrAdd(TKey, Func{TKey, TValue})"/> with an argument for the factory, so that the factory need not
    /// capture it (a static lambda allocates nothing), as with
    /// <see cref="System.Collections.Concurrent.ConcurrentDictionary{TKey, TValue}.GetOrAdd{TArg}(TKey, Func{TKey, TArg, TValue}, TArg)"/>.
    /// </summary>
    public TValue GetOrAdd<TArg>(TKey key, Func<TKey, TArg, TValue> valueFactory, TArg factoryArgument)
    {
        ArgumentNullException.ThrowIfNull(valueFactory);
        return TryGetValue(key, out TValue? value) ? value : LoadOrStore(key, valueFactory(key, factoryArgument), out _);
    }

    /// <summary>
    /// Stores <paramref name="addValue"/> when the key has no value, or else the value <paramref name="updateValueFactory"/>
    /// makes from the current one, atomically, and returns the value stored. See
    /// <see cref="AddOrUpdate(TKey, Func{TKey, TValue}, Func{TKey, TValue, TValue})"/>.
    /// </summary>
    public TValue AddOrUpdate(TKey key, TValue addValue, Func<TKey, TValue, TValue> updateValueFactory)
    {
        ArgumentNullException.ThrowIfNull(updateValueFactory);
        return AddOrUpdateLoop(key, static (_, addValue) => addValue, updateValueFactory, addValue);
    }

    /// <summary>
    /// Stores the value <paramref name="addValueFactory"/> makes when the key has no value, or else the value
    /// <paramref name="updateValueFactory"/> makes from the current one, atomically, and returns the value stored.
    /// </summary>
    /// <remarks>
    /// Atomic as Go's maps make such updates, with a loop of the map's own atomic operations and no lock: read the
    /// value (<see cref="TryGetValue"/>), compute the update, and <see cref="CompareAndSwap"/> it in; or, when the key
    /// has no value, <see cref="LoadOrStore"/> the added one. A swap that fails (another thread changed the value)
    /// or a store that finds a value (another thread added one) starts the loop over. So the operation takes effect at
    /// its successful swap or store, on the value the update was computed from (equal to it under the value comparer,
    /// as with <see cref="System.Collections.Concurrent.ConcurrentDictionary{TKey, TValue}"/>'s AddOrUpdate). The factories
    /// run under no lock, may run more than once under contention, and their unused results are dropped. The cost of a
    /// lookup plus a <see cref="CompareAndSwap"/> on a snapshot key (lock-free); a new key takes its shard's lock.
    /// </remarks>
    public TValue AddOrUpdate(TKey key, Func<TKey, TValue> addValueFactory, Func<TKey, TValue, TValue> updateValueFactory)
    {
        ArgumentNullException.ThrowIfNull(addValueFactory);
        ArgumentNullException.ThrowIfNull(updateValueFactory);
        return AddOrUpdateLoop(key, static (key, addValueFactory) => addValueFactory(key), updateValueFactory, addValueFactory);
    }

    /// <summary>The loop of <see cref="AddOrUpdate(TKey, Func{TKey, TValue}, Func{TKey, TValue, TValue})"/>, its add factory taking an argument.</summary>
    private TValue AddOrUpdateLoop<TArg>(TKey key, Func<TKey, TArg, TValue> addValueFactory, Func<TKey, TValue, TValue> updateValueFactory, TArg factoryArgument)
    {
        while (true)
        {
            if (TryGetValue(key, out TValue? current))
            {
                TValue updated = updateValueFactory(key, current);
                if (CompareAndSwap(key, current, updated))
                {
                    return updated;
                }
            }
            else
            {
                TValue added = addValueFactory(key, factoryArgument);
                LoadOrStore(key, added, out bool loaded);
                if (!loaded)
                {
                    return added;
                }
            }
        }
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
            (Shard<TKey>[] empty, Entry<TKey>?[][] snapshots) = EmptyDirectory();
            lock (_directoryLock)
            {
                // The snapshots first, unlike Publish: a clear drops its entries without expunging them, so no reader may
                // load the old snapshots (and a live entry there) once a writer can have found the new shards.
                StoreSnapshots(snapshots);
                Volatile.Write(ref _shards, empty);
            }

            Stall(StallPoint.Published);
        }
        finally
        {
            ExitAllShards(shards, retire: true);
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
        // One shard (a map of at most 1,024 keys): its snapshot straight from the map, without the directory.
        if (Volatile.Read(ref _singleSnapshot) is { } single)
        {
            return single;
        }

        Entry<TKey>?[][] snapshots = Volatile.Read(ref _snapshots);
        return Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(snapshots), SyncTable<TKey>.ShardIndex(hashCode, snapshots.Length));
    }
}
