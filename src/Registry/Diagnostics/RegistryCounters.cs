using System.Diagnostics.Metrics;
using SyncMapRegistry.Telemetry;
using static SyncMapRegistry.SyncMapRegistryTelemetry;

namespace SyncMapRegistry;

/// <summary>
/// The counters of one registry map. Lookups go to per-thread cells (no shared write on the read path); the
/// directory cache's hits to its hit sampler's cells. Everything else is counted with <see cref="Interlocked"/> on
/// write paths, which are rare. Nothing here raises telemetry: callers do, once they hold no lock
/// (<see cref="RegistryInstrumentation"/>).
/// </summary>
internal sealed class RegistryCounters : IObservedRegistry
{
    /// <summary>Read hits, summed when observed: <see cref="_ownHits"/>'s sum, or the owner's count (see the constructor).</summary>
    private readonly Func<long>? _hits;

    /// <summary>The hit counter when this map counts its own hits (<see cref="Hit"/>); <c>null</c> when the owner counts them.</summary>
    private readonly PerThreadCounter? _ownHits;

    private readonly PerThreadCounter? _misses;

    /// <summary>
    /// Entries held. Each add of a key and each removal of one is counted exactly once by the writer that made
    /// it, after its map operation, so it can lag the map by the writers in flight; it never drifts while the
    /// map is only changed entry by entry (the cache's <c>Clear</c> included). <see cref="Corrected"/> heals it
    /// should it ever drift.
    /// </summary>
    private int _count;

    /// <summary>Incremented by every change of <see cref="_count"/>: a recount applies only across a quiet spell.</summary>
    private long _countChanges;

    /// <summary>
    /// Writers between the start of a map change that may alter the count and the count's update (<see cref="ChangeStarting"/>,
    /// <see cref="ChangeEnded"/>). Their entries are in the map, or gone from it, before <see cref="_count"/> knows, and
    /// <see cref="_countChanges"/> cannot show them until they end: a recount walk that overlaps one would count its
    /// entry, and a correction would then count it twice once the writer updates the count. So a recount applies only
    /// when this is 0 before and after its walk, with <see cref="_countChanges"/> unchanged (all interlocked, so a
    /// writer that started after the first read changed the map after it, and is seen in flight or as a change at the end).
    /// </summary>
    private long _changesInFlight;

    private long _updates;
    private long _removals;
    private long _purged;
    private long _evicted;

    /// <summary>Counters whose hits <see cref="Hit"/> counts, when <paramref name="countLookups"/>.</summary>
    internal RegistryCounters(string name, bool countLookups, IMeterFactory? meterFactory = null)
        : this(name, countLookups, hits: null, meterFactory)
    {
    }

    /// <summary>
    /// Counters whose hits come from <paramref name="hits"/> (an owner that counts its read hits anyway, so that a hit
    /// pays one per-thread increment, not two), or from <see cref="Hit"/> when it is <c>null</c>. Lookups are
    /// published only when <paramref name="countLookups"/>. The instruments are on <paramref name="meterFactory"/>'s
    /// <c>SyncMapRegistry</c> meter (the silo's, from DI), or on the process-wide one when it is <c>null</c>.
    /// </summary>
    internal RegistryCounters(string name, bool countLookups, Func<long>? hits, IMeterFactory? meterFactory = null)
    {
        Name = name;
        NameTag = new(Tags.Name, name);
        if (countLookups)
        {
            _ownHits = hits is null ? new PerThreadCounter() : null;
            _hits = hits ?? _ownHits!.Sum;
            _misses = new PerThreadCounter();
        }

        Metrics = RegistryMetrics.For(SyncMapInstrumentation.For(meterFactory));
        Metrics.Observe(this);
    }

    public string Name { get; }

    /// <summary>The registry's instruments on this map's meter.</summary>
    internal RegistryMetrics Metrics { get; }

    /// <summary>The <c>syncmap.name</c> tag of this map's measurements.</summary>
    internal KeyValuePair<string, object?> NameTag { get; }

    public bool CountsLookups => _hits is not null;

    public long LookupHits => _hits?.Invoke() ?? 0;

    public long LookupMisses => _misses?.Sum() ?? 0;

    /// <summary>Entries held, never below 0 (a removal can be counted before the add it undoes).</summary>
    internal int Count => Math.Max(0, Volatile.Read(ref _count));

    /// <summary>See <see cref="_countChanges"/>.</summary>
    internal long CountChanges => Interlocked.Read(ref _countChanges);

    /// <summary>Whether a writer is between a count-changing map operation and its count update (<see cref="_changesInFlight"/>).</summary>
    internal bool ChangesInFlight => Interlocked.Read(ref _changesInFlight) != 0;

    /// <summary>Call before a map operation that may change the count; pair with <see cref="ChangeEnded"/> after the count's update, in a <c>finally</c>.</summary>
    internal void ChangeStarting() => Interlocked.Increment(ref _changesInFlight);

    /// <summary>Ends what <see cref="ChangeStarting"/> began, once the count reflects the operation (or it changed nothing).</summary>
    internal void ChangeEnded() => Interlocked.Decrement(ref _changesInFlight);

    /// <summary>Counts a read hit, unless the owner counts them itself.</summary>
    internal void Hit() => _ownHits?.Increment();

    internal void Miss() => _misses?.Increment();

    /// <summary>Counts an update; <paramref name="added"/> when it added a key rather than replaced a value.</summary>
    /// <returns>The entry count after the update.</returns>
    internal int Updated(bool added)
    {
        Interlocked.Increment(ref _updates);
        return added ? Change(1) : Volatile.Read(ref _count);
    }

    internal void Removed(int entries = 1)
    {
        Interlocked.Add(ref _removals, entries);
        Change(-entries);
    }

    internal void Purged(int entries)
    {
        Interlocked.Add(ref _purged, entries);
        Change(-entries);
    }

    internal void Evicted(int entries)
    {
        Interlocked.Add(ref _evicted, entries);
        Change(-entries);
    }

    /// <summary>
    /// Sets the count to <paramref name="live"/>, a count of the map's entries, unless the count changed since
    /// <paramref name="changesBefore"/> (a writer in flight would be counted twice or not at all).
    /// </summary>
    /// <returns>The correction applied: <paramref name="live"/> minus the count it replaced; 0 when it applied none.</returns>
    internal int Corrected(int live, long changesBefore)
    {
        int counted = Volatile.Read(ref _count);
        if (CountChanges != changesBefore || ChangesInFlight || counted == live || Interlocked.CompareExchange(ref _count, live, counted) != counted)
        {
            return 0;
        }

        Interlocked.Increment(ref _countChanges);
        return live - counted;
    }

    internal GrainRegistryStatistics Snapshot(SyncMapStatistics map) => new(
        Name,
        Count,
        LookupHits,
        LookupMisses,
        Interlocked.Read(ref _updates),
        Interlocked.Read(ref _removals),
        Interlocked.Read(ref _purged),
        Interlocked.Read(ref _evicted),
        map);

    private int Change(int delta)
    {
        Interlocked.Increment(ref _countChanges);
        return Interlocked.Add(ref _count, delta);
    }
}
