using System.Collections;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
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
/// Do not choose it for workloads that keep adding new keys: every first new key after a promotion copies
/// the snapshot (O(n)), and lookups of the new keys take the one lock until they are promoted.
/// </para>
/// <para>
/// One departure from Go: while new keys are pending, a lookup of a key that is in neither table is answered
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
/// <typeparam name="TValue">The value type. A value type is boxed once per store; a reference type is stored as is.</typeparam>
[SuppressMessage("Naming", "CA1710:Identifiers should have correct suffix", Justification = "The name carries Go's sync.Map, which the type ports.")]
[DebuggerDisplay("Read = {_read.Count}, Dirty = {_dirty?.Count ?? 0}")]
public sealed class SyncMap<TKey, TValue> : IReadOnlyDictionary<TKey, TValue>
    where TKey : notnull
{
    /// <summary>
    /// Guards <see cref="_dirty"/>, <see cref="_misses"/>, the statistics, and every store to <see cref="_read"/>.
    /// Nothing foreign runs while it is held: slow paths collect what they did in a <see cref="SlowPathEvents"/>
    /// and hand it to the telemetry after releasing the lock.
    /// </summary>
    private readonly Lock _lock = new();

    /// <summary>
    /// The read snapshot, always safe to load without the lock, but stored only with <see cref="_lock"/> held.
    /// Its table is never written after it is published, so a reader loads this field once into a local and
    /// then reads the snapshot lock-free. Entries in it may be updated concurrently (a CAS on the shared
    /// <see cref="Entry"/>) without the lock. An entry is expunged only while <see cref="_dirty"/> is non-null
    /// and lacks the key; storing to it then requires the lock (to put it back into dirty first).
    /// The snapshot is amended (carries a filter of pending keys) exactly while <see cref="_dirty"/> is non-null.
    /// </summary>
    private ReadOnly _read = ReadOnly.Empty;

    /// <summary>
    /// Every live key: the read snapshot's non-expunged entries plus the keys added since the last
    /// promotion, or <c>null</c> right after a promotion. Accessed only with <see cref="_lock"/> held.
    /// It shares its <see cref="Entry"/> objects with the snapshot, so a lock-free CAS through either is seen
    /// by both. When it is <c>null</c>, the next new key first rebuilds it from the snapshot (O(n)),
    /// expunging deleted entries. Promotion publishes its table as the next snapshot without copying.
    /// </summary>
    private SyncTable<TKey>? _dirty;

    /// <summary>
    /// Operations since the last promotion that had to look past the snapshot into <see cref="_dirty"/>.
    /// Accessed only with <see cref="_lock"/> held. Once it reaches <c>_dirty.Count</c> the dirty map is
    /// promoted: by then the misses have paid for the O(n) rebuild that created it. A lookup that the
    /// pending-key filter answers without the lock counts no miss: it had nothing to gain from a promotion.
    /// </summary>
    private int _misses;

    /// <summary><c>null</c> for a value-type key with the default comparer, so the JIT can devirtualize it.</summary>
    private readonly IEqualityComparer<TKey>? _keyComparer;

    private readonly IEqualityComparer<TValue> _valueComparer;

    /// <summary>Read-hit counts in per-core cells; <c>null</c> unless <see cref="SyncMapOptions.CountReadHits"/>.</summary>
    private readonly StripedCounter? _readHits;

    /// <summary>The statistics, written only on slow paths with <see cref="_lock"/> held, read by anyone without it.</summary>
    private readonly SyncMapCounters _counters;

    /// <summary>The map's instruments; <c>null</c> when it has no <see cref="SyncMapOptions.Name"/>. Called only outside <see cref="_lock"/>.</summary>
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
        if (typeof(TKey).IsValueType)
        {
            _keyComparer = keyComparer is null || ReferenceEquals(keyComparer, EqualityComparer<TKey>.Default) ? null : keyComparer;
        }
        else
        {
            _keyComparer = keyComparer ?? EqualityComparer<TKey>.Default;
        }

        _valueComparer = valueComparer ?? EqualityComparer<TValue>.Default;
        if (options?.CountReadHits == true)
        {
            _readHits = new StripedCounter();
        }

        _counters = new SyncMapCounters(_readHits);
        if (options?.Name is { } name)
        {
            _telemetry = new SyncMapTelemetry(name, _counters);
        }
    }

    // Every public method checks its key with `!typeof(TKey).IsValueType && key is null`: the JIT folds the
    // check away for value-type keys, and unoptimized (Debug) code never reaches the `box` that `key is null`
    // compiles to for a generic key, so the read path allocates nothing in any build.

    /// <summary>The comparer that decides key equality.</summary>
    public IEqualityComparer<TKey> KeyComparer => _keyComparer ?? EqualityComparer<TKey>.Default;

    /// <summary>The map's name in telemetry, or <c>null</c>.</summary>
    public string? Name => _telemetry?.Name;

    /// <summary>
    /// The number of live entries. O(n): it walks the snapshot lock-free when no new keys are pending,
    /// and otherwise walks the dirty map under the lock. Not a snapshot: under concurrent writes it reflects
    /// each entry at some moment during the call.
    /// </summary>
    public int Count
    {
        get
        {
            ReadOnly read = Volatile.Read(ref _read);
            if (!read.Amended)
            {
                return CountLive(read.Slots);
            }

            lock (_lock)
            {
                return _dirty is { } dirty ? CountLive(dirty.Slots) : CountLive(_read.Slots);
            }
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
    /// pending is looked up in the dirty map under the lock, and counts a miss.
    /// </summary>
    public bool TryGetValue(TKey key, [MaybeNullWhen(false)] out TValue value)
    {
        if (!typeof(TKey).IsValueType && key is null)
        {
            ThrowHelper.ThrowKeyNull();
        }

        int hashCode = SyncTable<TKey>.Hash(key, _keyComparer);
        ReadOnly read = Volatile.Read(ref _read);
        Entry? entry = SyncTable<TKey>.Find(read.Slots, read.Shift, key, hashCode, _keyComparer);
        if (entry is not null)
        {
            object? p = entry.Load();
            if (Entry.IsLive(p))
            {
                if (_readHits is not null)
                {
                    CountReadHit();
                }

                value = Unwrap(p);
                return true;
            }

            value = default;
            return false;
        }

        if (!read.MayBePending(hashCode))
        {
            value = default;
            return false;
        }

        return TryGetValueSlow(key, hashCode, out value);
    }

    /// <summary>Opt-in read-hit counting: one increment of this core's striped cell, out of line.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void CountReadHit() => _readHits!.Increment();

    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool TryGetValueSlow(TKey key, int hashCode, [MaybeNullWhen(false)] out TValue value)
    {
        SlowPathEvents events = default;
        bool found;
        lock (_lock)
        {
            // Look again: dirty may have been promoted while we waited for the lock, and then the
            // key is in the snapshot and this is no miss.
            ReadOnly read = _read;
            Entry? entry = SyncTable<TKey>.Find(read.Slots, read.Shift, key, hashCode, _keyComparer);
            if (entry is null && read.Amended)
            {
                entry = _dirty!.Find(key, hashCode, _keyComparer);
                found = TryLoad(entry, out value);
                if (found)
                {
                    _counters.DirtyHitLocked();
                }
                else
                {
                    _counters.LookupMissedLocked();
                }

                MissLocked(ref events);
            }
            else
            {
                found = TryLoad(entry, out value);
            }
        }

        Report(events);
        return found;
    }

    /// <summary>Whether the map holds a live value for the key. The cost of <see cref="TryGetValue"/>.</summary>
    public bool ContainsKey(TKey key) => TryGetValue(key, out _);

    /// <summary>
    /// Sets the value for a key (Go's <c>Store</c>). Over an existing, non-expunged key it is a lock-free
    /// CAS that allocates nothing for a reference-type value; a new key takes the lock.
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

        int hashCode = SyncTable<TKey>.Hash(key, _keyComparer);
        object boxed = Wrap(value);
        ReadOnly read = Volatile.Read(ref _read);
        Entry? entry = SyncTable<TKey>.Find(read.Slots, read.Shift, key, hashCode, _keyComparer);
        object? p;
        if (entry is null || !entry.TrySwap(boxed, out p))
        {
            p = SwapSlow(key, hashCode, boxed);
        }

        return TryUnwrap(p, out previous);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private object? SwapSlow(TKey key, int hashCode, object boxed)
    {
        SlowPathEvents events = default;
        object? previous = null;
        lock (_lock)
        {
            ReadOnly read = _read;
            Entry? entry = SyncTable<TKey>.Find(read.Slots, read.Shift, key, hashCode, _keyComparer);
            if (entry is not null)
            {
                if (entry.UnexpungeLocked())
                {
                    // The entry was expunged, so dirty is non-null and lacks the key: put it back first.
                    AddToDirtyLocked(key, hashCode, entry);
                }

                previous = entry.SwapLocked(boxed);
            }
            else if (_dirty?.Find(key, hashCode, _keyComparer) is { } dirtyEntry)
            {
                previous = dirtyEntry.SwapLocked(boxed);
            }
            else
            {
                AddNewKeyLocked(read, key, hashCode, new Entry(boxed), ref events);
            }
        }

        Report(events);
        return previous;
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

        int hashCode = SyncTable<TKey>.Hash(key, _keyComparer);
        ReadOnly read = Volatile.Read(ref _read);
        Entry? entry = SyncTable<TKey>.Find(read.Slots, read.Shift, key, hashCode, _keyComparer);
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
        lock (_lock)
        {
            ReadOnly read = _read;
            Entry? entry = SyncTable<TKey>.Find(read.Slots, read.Shift, key, hashCode, _keyComparer);
            if (entry is not null)
            {
                if (entry.UnexpungeLocked())
                {
                    AddToDirtyLocked(key, hashCode, entry);
                }

                TryLoadOrStore(entry, value, out actual, out loaded);
            }
            else if (_dirty?.Find(key, hashCode, _keyComparer) is { } dirtyEntry)
            {
                TryLoadOrStore(dirtyEntry, value, out actual, out loaded);
                MissLocked(ref events);
            }
            else
            {
                // A new key is no miss: the caller had nothing to find.
                AddNewKeyLocked(read, key, hashCode, new Entry(Wrap(value)), ref events);
                actual = value;
                loaded = false;
            }
        }

        Report(events);
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
    /// out without the lock, and the key stays in both tables until the next rebuild expunges it.
    /// </summary>
    /// <returns><c>true</c> when a live value was removed; it is then in <paramref name="value"/>.</returns>
    public bool LoadAndDelete(TKey key, [MaybeNullWhen(false)] out TValue value)
    {
        if (!typeof(TKey).IsValueType && key is null)
        {
            ThrowHelper.ThrowKeyNull();
        }

        int hashCode = SyncTable<TKey>.Hash(key, _keyComparer);
        ReadOnly read = Volatile.Read(ref _read);
        Entry? entry = SyncTable<TKey>.Find(read.Slots, read.Shift, key, hashCode, _keyComparer);
        if (entry is null && read.MayBePending(hashCode))
        {
            entry = FindSlow(key, hashCode, removeFromDirty: true);
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

        int hashCode = SyncTable<TKey>.Hash(key, _keyComparer);
        ReadOnly read = Volatile.Read(ref _read);
        Entry? entry = SyncTable<TKey>.Find(read.Slots, read.Shift, key, hashCode, _keyComparer);
        if (entry is not null)
        {
            return TryCompareAndReplace(entry, expected, value, delete: false);
        }

        return read.MayBePending(hashCode) && CompareAndSwapSlow(key, hashCode, expected, value);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool CompareAndSwapSlow(TKey key, int hashCode, TValue expected, TValue value)
    {
        SlowPathEvents events = default;
        bool swapped = false;
        lock (_lock)
        {
            ReadOnly read = _read;
            Entry? entry = SyncTable<TKey>.Find(read.Slots, read.Shift, key, hashCode, _keyComparer);
            if (entry is not null)
            {
                swapped = TryCompareAndReplace(entry, expected, value, delete: false);
            }
            else if (_dirty?.Find(key, hashCode, _keyComparer) is { } dirtyEntry)
            {
                swapped = TryCompareAndReplace(dirtyEntry, expected, value, delete: false);
                MissLocked(ref events);
            }
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

        int hashCode = SyncTable<TKey>.Hash(key, _keyComparer);
        ReadOnly read = Volatile.Read(ref _read);
        Entry? entry = SyncTable<TKey>.Find(read.Slots, read.Shift, key, hashCode, _keyComparer);
        if (entry is null && read.MayBePending(hashCode))
        {
            entry = FindSlow(key, hashCode, removeFromDirty: false);
        }

        return entry is not null && TryCompareAndReplace(entry, expected, default!, delete: true);
    }

    /// <summary>
    /// The slow path of <see cref="LoadAndDelete"/> and <see cref="CompareAndDelete"/>: looks again in the snapshot
    /// under the lock, then in dirty, counting a miss. With <paramref name="removeFromDirty"/> a dirty-only key is
    /// removed outright (unlike a snapshot key, no snapshot refers to it); the caller then deletes the entry's value.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private Entry? FindSlow(TKey key, int hashCode, bool removeFromDirty)
    {
        SlowPathEvents events = default;
        Entry? entry;
        lock (_lock)
        {
            ReadOnly read = _read;
            entry = SyncTable<TKey>.Find(read.Slots, read.Shift, key, hashCode, _keyComparer);
            if (entry is null && read.Amended)
            {
                if (removeFromDirty)
                {
                    entry = _dirty!.Remove(key, hashCode, _keyComparer);
                    _counters.DirtyCountLocked = _dirty.Count;
                }
                else
                {
                    entry = _dirty!.Find(key, hashCode, _keyComparer);
                }

                MissLocked(ref events);
            }
        }

        Report(events);
        return entry;
    }

    /// <summary>
    /// Calls <paramref name="visit"/> for each live entry until it returns <c>false</c> (Go's <c>Range</c>).
    /// If new keys are pending, it first promotes the dirty map under the lock (O(1)); the walk itself takes
    /// no lock. It is not a snapshot: no key is visited twice, a value may reflect any mapping during the call,
    /// and keys added after the call starts are not seen. <paramref name="visit"/> may call any method of the
    /// map, <see cref="Range"/> included. Allocates nothing.
    /// </summary>
    public void Range(Func<TKey, TValue, bool> visit)
    {
        ArgumentNullException.ThrowIfNull(visit);
        Slot<TKey>[] slots = LoadForRange().Slots;
        foreach (ref readonly Slot<TKey> slot in slots.AsSpan())
        {
            if (TryLoad(slot.Entry, out TValue? value) && !visit(slot.Key, value))
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
    /// visited; no key is visited twice. The read snapshot is walked without the lock; the keys that only the
    /// dirty map holds are copied out under the lock (a bounded batch at a time) and visited after releasing it,
    /// so <paramref name="visit"/> never runs under the lock and may call any method of the map.
    /// </remarks>
    internal void ForEachWithoutPromoting(Func<TKey, TValue, bool> visit)
    {
        ArgumentNullException.ThrowIfNull(visit);
        ReadOnly read = Volatile.Read(ref _read);
        foreach (ref readonly Slot<TKey> slot in read.Slots.AsSpan())
        {
            if (TryLoad(slot.Entry, out TValue? value) && !visit(slot.Key, value))
            {
                return;
            }
        }

        if (!read.Amended)
        {
            return;
        }

        foreach ((TKey key, Entry entry) in CopyKeysMissingFrom(read))
        {
            if (TryLoad(entry, out TValue? value) && !visit(key, value))
            {
                return;
            }
        }
    }

    /// <summary>
    /// The entries that the map holds now and that <paramref name="walked"/> lacks: the dirty map's, or (after a
    /// promotion since) the current snapshot's. Keys are matched by their entry's stored hash and the key comparer.
    /// </summary>
    private List<(TKey Key, Entry Entry)> CopyKeysMissingFrom(ReadOnly walked)
    {
        var missing = new List<(TKey, Entry)>();
        lock (_lock)
        {
            Slot<TKey>[] slots = _dirty?.Slots ?? _read.Slots;
            foreach (ref readonly Slot<TKey> slot in slots.AsSpan())
            {
                if (slot.Entry is not null && SyncTable<TKey>.Find(walked.Slots, walked.Shift, slot.Key, slot.HashCode, _keyComparer) is null)
                {
                    missing.Add((slot.Key, slot.Entry));
                }
            }
        }

        return missing;
    }

    /// <summary>Enumerates live entries with <see cref="Range"/>'s semantics. The struct enumerator allocates nothing.</summary>
    public Enumerator GetEnumerator() => new(LoadForRange().Slots);

    IEnumerator<KeyValuePair<TKey, TValue>> IEnumerable<KeyValuePair<TKey, TValue>>.GetEnumerator() => GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>
    /// Removes every entry. Returns at once, allocating nothing, when the map is already empty; otherwise
    /// takes the lock and publishes an empty snapshot.
    /// </summary>
    public void Clear()
    {
        ReadOnly read = Volatile.Read(ref _read);
        if (read.Count == 0 && !read.Amended)
        {
            return;
        }

        lock (_lock)
        {
            Volatile.Write(ref _read, ReadOnly.Empty);
            _dirty = null;
            _misses = 0;
            _counters.ReadCountLocked = 0;
            _counters.DirtyCountLocked = 0;
        }
    }

    /// <summary>
    /// The read/dirty machinery's counters and sizes, read without the lock; the counters are maintained
    /// on slow paths only, never on the read-hit path.
    /// </summary>
    public SyncMapStatistics GetStatistics() => _counters.Read();

    /// <summary>The snapshot to walk: promotes the dirty map first when new keys are pending.</summary>
    private ReadOnly LoadForRange()
    {
        ReadOnly read = Volatile.Read(ref _read);
        if (!read.Amended)
        {
            return read;
        }

        SlowPathEvents events = default;
        lock (_lock)
        {
            if (_read.Amended)
            {
                PromoteLocked(ref events);
            }

            read = _read;
        }

        Report(events);
        return read;
    }

    /// <summary>Hands what a slow path did to the telemetry. Call it only after releasing <see cref="_lock"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Report(in SlowPathEvents events)
    {
        if (_telemetry is not null && events.Any)
        {
            _telemetry.Report(events);
        }
    }

    /// <summary>Counts a miss and promotes the dirty map once the misses reach its size (Go's <c>missLocked</c>).</summary>
    private void MissLocked(ref SlowPathEvents events)
    {
        _misses++;
        _counters.MissedLocked();
        events.Misses++;
        if (_misses < _dirty!.Count)
        {
            return;
        }

        PromoteLocked(ref events);
    }

    /// <summary>Publishes the dirty map as the new snapshot (O(1): its table becomes the snapshot) and drops it.</summary>
    private void PromoteLocked(ref SlowPathEvents events)
    {
        SyncTable<TKey> dirty = _dirty!;
        DateTime start = _telemetry is not null && SyncMapTelemetry.TracesSpans ? DateTime.UtcNow : default;
        Volatile.Write(ref _read, ReadOnly.FromTable(dirty));
        _dirty = null;
        events.Promoted = true;
        events.PromotedEntries = dirty.Count;
        events.PromotedMisses = _misses;
        events.PromoteStart = start;
        events.PromoteEnd = start == default ? default : DateTime.UtcNow;
        _misses = 0;
        _counters.PromotedLocked();
        _counters.ReadCountLocked = dirty.Count;
        _counters.DirtyCountLocked = 0;
    }

    /// <summary>Adds a key absent from both tables, rebuilding dirty first if this is the first new key since a promotion.</summary>
    private void AddNewKeyLocked(ReadOnly read, TKey key, int hashCode, Entry entry, ref SlowPathEvents events)
    {
        if (read.Pending is { } pending)
        {
            pending.Add(hashCode);
        }
        else
        {
            // The first new key since the snapshot was published: rebuild dirty, then publish the snapshot
            // as amended, with a filter that already holds this key.
            DirtyLocked(read, ref events);
            pending = new PendingKeys(read.Count);
            pending.Add(hashCode);
            Volatile.Write(ref _read, read.WithPending(pending));
        }

        AddToDirtyLocked(key, hashCode, entry);
    }

    private void AddToDirtyLocked(TKey key, int hashCode, Entry entry)
    {
        _dirty!.Add(key, hashCode, entry);
        _counters.DirtyCountLocked = _dirty.Count;
    }

    /// <summary>Rebuilds the dirty map from the snapshot if there is none (Go's <c>dirtyLocked</c>): O(n).</summary>
    private void DirtyLocked(ReadOnly read, ref SlowPathEvents events)
    {
        if (_dirty is not null)
        {
            return;
        }

        DateTime start = _telemetry is not null && SyncMapTelemetry.TracesSpans ? DateTime.UtcNow : default;
        _dirty = SyncTable<TKey>.RebuildFrom(read.Slots, read.Count, out int expunged);
        events.Rebuilt = true;
        events.RebuildCopied = _dirty.Count;
        events.RebuildExpunged = expunged;
        events.RebuildStart = start;
        events.RebuildEnd = start == default ? default : DateTime.UtcNow;
        _counters.RebuiltLocked(_dirty.Count, expunged);
        _counters.DirtyCountLocked = _dirty.Count;
    }

    private static int CountLive(Slot<TKey>[] slots)
    {
        int count = 0;
        foreach (ref readonly Slot<TKey> slot in slots.AsSpan())
        {
            if (slot.Entry is not null && Entry.IsLive(slot.Entry.Load()))
            {
                count++;
            }
        }

        return count;
    }

    /// <summary>Go's <c>tryLoadOrStore</c>: fails, leaving the entry unchanged, only when it is expunged.</summary>
    private static bool TryLoadOrStore(Entry entry, TValue value, out TValue actual, out bool loaded)
    {
        object? p = entry.Load();
        object? boxed = null;
        while (!ReferenceEquals(p, Entry.Expunged))
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

    /// <summary>
    /// CASes a live value equal to <paramref name="expected"/> to <paramref name="value"/>, or to deleted when
    /// <paramref name="delete"/>. The replacement is boxed only once the comparison has passed.
    /// </summary>
    private bool TryCompareAndReplace(Entry entry, TValue expected, TValue value, bool delete)
    {
        object? p = entry.Load();
        object? replacement = null;
        while (Entry.IsLive(p) && _valueComparer.Equals(Unwrap(p), expected))
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

    private static bool TryLoad(Entry? entry, [MaybeNullWhen(false)] out TValue value) =>
        TryUnwrap(entry?.Load(), out value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool TryUnwrap(object? p, [MaybeNullWhen(false)] out TValue value)
    {
        if (Entry.IsLive(p))
        {
            value = Unwrap(p);
            return true;
        }

        value = default;
        return false;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static object Wrap(TValue value) => (object?)value ?? Entry.NullValue;

    /// <summary>
    /// The value in a live slot. Only a <c>TValue</c> that can be null (a reference type or a nullable value
    /// type) can meet <see cref="Entry.NullValue"/>; for other value types the test folds away. The slot's
    /// object is known to be a <c>TValue</c> or its box (only <see cref="Wrap"/> writes it), so a reference needs no cast check.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TValue Unwrap(object p)
    {
        if (default(TValue) is null && ReferenceEquals(p, Entry.NullValue))
        {
            return default!;
        }

        return typeof(TValue).IsValueType ? (TValue)p : Unsafe.As<object, TValue>(ref p);
    }

    /// <summary>
    /// Go's <c>readOnly</c>: an immutable snapshot table plus <see cref="Amended"/> (here: the filter of pending
    /// keys, non-null exactly when amended). Both are swapped together by replacing the whole object, so a
    /// reader sees a consistent pair.
    /// </summary>
    private sealed class ReadOnly(Slot<TKey>[] slots, int shift, int count, PendingKeys? pending)
    {
        internal static readonly ReadOnly Empty = FromTable(new SyncTable<TKey>(0));

        /// <summary>The snapshot's slots. Never written after this object is published.</summary>
        internal readonly Slot<TKey>[] Slots = slots;

        internal readonly int Shift = shift;

        /// <summary>Keys in the snapshot, deleted and expunged entries included.</summary>
        internal readonly int Count = count;

        /// <summary>
        /// The keys added to dirty since <see cref="Slots"/> was published, as a Bloom filter; <c>null</c> when
        /// there are none. Only writers holding the lock add to it, each before adding its key to dirty.
        /// </summary>
        internal readonly PendingKeys? Pending = pending;

        /// <summary>
        /// <c>true</c> whenever the dirty map holds a key the snapshot lacks (it may stay <c>true</c> after such
        /// keys are deleted, until the next promotion). While it is <c>false</c>, a key missing from the snapshot
        /// is missing from the map, and no reader needs the lock.
        /// </summary>
        internal bool Amended => Pending is not null;

        internal static ReadOnly FromTable(SyncTable<TKey> table) => new(table.Slots, table.Shift, table.Count, pending: null);

        /// <summary>
        /// Whether a key missing from the snapshot may be in dirty, so that the caller must take the lock to know.
        /// <c>false</c> is certain: no key with this hash code was pending at any moment since this snapshot was loaded.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal bool MayBePending(int hashCode) => Pending is { } pending && pending.MayContain(hashCode);

        internal ReadOnly WithPending(PendingKeys pendingKeys) => new(Slots, Shift, Count, pendingKeys);
    }

    /// <summary>A struct enumerator over live entries with <see cref="Range"/>'s semantics.</summary>
    public struct Enumerator : IEnumerator<KeyValuePair<TKey, TValue>>
    {
        private readonly Slot<TKey>[] _slots;
        private int _index;
        private KeyValuePair<TKey, TValue> _current;

        internal Enumerator(Slot<TKey>[] slots)
        {
            _slots = slots;
            _index = -1;
            _current = default;
        }

        /// <inheritdoc/>
        public readonly KeyValuePair<TKey, TValue> Current => _current;

        readonly object IEnumerator.Current => _current;

        /// <inheritdoc/>
        public bool MoveNext()
        {
            while (++_index < _slots.Length)
            {
                ref readonly Slot<TKey> slot = ref _slots[_index];
                if (TryLoad(slot.Entry, out TValue? value))
                {
                    _current = new KeyValuePair<TKey, TValue>(slot.Key, value);
                    return true;
                }
            }

            return false;
        }

        /// <inheritdoc/>
        public void Reset() => throw new NotSupportedException();

        /// <inheritdoc/>
        public readonly void Dispose()
        {
        }
    }
}
