using System.Collections;
using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Runtime.GrainDirectory;
using SyncMapRegistry.Telemetry;

namespace SyncMapRegistry;

/// <summary>
/// Orleans' silo-local grain directory cache (<see cref="IGrainDirectoryCache"/>) on a read-mostly
/// <see cref="SyncMap{TKey, TValue}"/>: the lookup on a cross-silo call takes no lock and writes nothing shared.
/// A hit writes only its own thread's memory: it counts itself there and samples one hit in
/// <see cref="HitSampler.SampleEvery"/> for the evictor (<see cref="HitSampler"/>). With lookups not counted
/// (<see cref="SyncMapRegistryOptions.CountLookups"/> off) it writes nothing until the cache first holds
/// <see cref="SamplingShare"/> of its cap, when eviction comes near and the evictor needs the samples.
/// </summary>
/// <remarks>
/// <para>
/// Semantics are Orleans' own (<c>LruGrainDirectoryCache</c>), checked by a test suite that runs against both:
/// <see cref="AddOrUpdate"/> overwrites; <see cref="Remove(GrainId)"/> removes whatever is cached;
/// <see cref="Remove(GrainAddress)"/> removes only when the cached entry is for the same grain on the same silo,
/// as a compare-and-delete on the very entry it read, so it never removes a newer entry written meanwhile;
/// <see cref="KeyValues"/> tolerates concurrent mutation. Unlike Orleans' LRU, entries do not expire with time:
/// stale entries are corrected by Orleans' invalidation on a misdirected message, and entries for dead silos
/// are purged by the registry's maintenance service (<see cref="Purge"/>).
/// </para>
/// <para>
/// Eviction policy: 2Q (Johnson and Shasha) with first-in first-out queues, from what the write path knows, plus
/// a second chance for entries read lately, from the readers' per-thread samples. A new grain enters the
/// probation queue, unless it is a ghost (one of the last <see cref="MaxEntries"/> keys evicted): then it was
/// wanted again and enters the protected queue. An entry whose insertion number the evictor finds among the
/// samples (a replaced value keeps its key's number) is written back as the newest protected entry before the walk orders the queues (a compare-and-swap, so a
/// newer value written meanwhile wins). With the samples, the hit ratio at the same cap comes within 1.1
/// points of Orleans' LRU at Zipf 0.7-1.2 (docs/benchmarks.md, "Hit ratio"); without them it was 1.2-2.6
/// points below. An insert
/// or update that finds the count over <see cref="MaxEntries"/> only signals the evictor and returns: the
/// eviction runs on a thread-pool thread, never on Orleans' message path. It walks the entries once, sorts them
/// by insertion number, and evicts down to 98% of the cap: first the oldest probation entries beyond 5% of the
/// cap, then the oldest protected ones, then the rest of probation, keeping the newest insert; each evicted key
/// becomes a ghost, and the count drops with each batch of <see cref="EvictionBatch"/>. Inserts that arrive while
/// it runs may take the count past the cap for that long: the cap is a target, not a hard bound.
/// </para>
/// <para>
/// Counting. <see cref="Count"/> is kept by the writers, each add and each removal counted once by the writer
/// that made it. <see cref="Clear"/> removes entry by entry for that reason: a writer still holding the map as
/// it was before the clear then changes an entry that the clear also visits, never an orphan the count has
/// forgotten. <see cref="Recount"/> heals the count, should it ever drift, across a quiet spell.
/// </para>
/// <para>
/// Walks. Eviction, purges, recounts and <see cref="Clear"/> walk the map without promoting its pending keys
/// (<c>ForEachWithoutPromoting</c>), so they never force a promotion. Enumeration (<see cref="KeyValues"/>, which
/// Orleans walks on membership changes, and the read contract) uses the map's enumerator, which promotes each shard
/// with pending keys as it reaches the end of that shard.
/// </para>
/// </remarks>
internal sealed partial class SyncMapGrainDirectoryCache : IGrainDirectoryCache, IGrainRegistryView<GrainAddress>
{
    /// <summary>The count drops, and the evicted counter rises, after each batch of this many evictions.</summary>
    internal const int EvictionBatch = 1_024;

    /// <summary>Evictions bring the count down to this share of the cap.</summary>
    internal const double EvictionLowWatermark = 0.98;

    /// <summary>
    /// With lookups not counted, hits are sampled once the count first reaches this share of the cap: the rings keep
    /// only a thread's last hits, so samples taken long before the first eviction would be gone by then anyway.
    /// </summary>
    internal const double SamplingShare = 0.5;

    /// <summary>Eviction spares the newest probation entries up to this share of the cap (2Q's A1in).</summary>
    private const double ProbationShare = 0.05;

    /// <summary>
    /// The entries. Values are compared by reference, so a compare-and-delete removes exactly the entry that
    /// was read and never an equal one written since.
    /// </summary>
    private readonly SyncMap<GrainId, CachedAddress> _map;

    private readonly RegistryCounters _counters;
    private readonly int _maxEntries;
    private readonly int _lowWatermark;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;

    /// <summary>Runs <see cref="EvictOverCap"/>, one run at a time, when a write finds the count over the cap.</summary>
    private readonly BackgroundWork _evictor;

    /// <summary>
    /// The ghosts: keys evicted recently, each with the number of its eviction. An inserter removes the key it
    /// finds here (it was wanted again); the evictor adds, and trims the oldest by <see cref="_ghostOrder"/> with a
    /// compare-and-remove, so a key evicted again since keeps its newer entry. Never more than <see cref="_ghostOrder"/> holds.
    /// </summary>
    private readonly ConcurrentDictionary<GrainId, long> _ghosts = new();

    /// <summary>The last <see cref="MaxEntries"/> evictions, oldest first. Touched by the evictor only.</summary>
    private readonly Queue<(GrainId Grain, long Eviction)> _ghostOrder = new();

    /// <summary>The entries of one eviction walk, by queue; reused, and emptied after each run. Touched by the evictor only.</summary>
    private readonly List<KeyValuePair<GrainId, CachedAddress>> _probation = [], _protected = [];

    /// <summary>Sampled read hits: the evictor's view of recency. Written by readers, each in a ring of its own thread.</summary>
    private readonly HitSampler _hits = new();

    /// <summary>The count at which <see cref="_recordHits"/> turns on, when lookups are not counted (<see cref="SamplingShare"/> of the cap).</summary>
    private readonly int _samplingThreshold;

    /// <summary>
    /// Whether a hit is recorded in <see cref="_hits"/>. Always when lookups are counted (their hit count is the
    /// sampler's). Otherwise it turns on when an insert first takes the count to <see cref="_samplingThreshold"/>, and
    /// stays on; until then no eviction is near, and a hit writes nothing at all. Written once by an inserter, read by
    /// every hit: a hit that still reads <c>false</c> just after it turned on loses one sample.
    /// </summary>
    private bool _recordHits;

    /// <summary>The insertion numbers sampled from read hits; reused, and emptied after each run. Touched by the evictor only.</summary>
    private readonly HashSet<long> _recentlyRead = [];

    /// <summary>Insertion numbers, the order of the queues. Incremented by inserters of new keys.</summary>
    private long _inserted;

    /// <summary>Evictions so far, the order of the ghosts. Touched by the evictor only.</summary>
    private long _evictions;

    /// <summary>The value of the latest write over the cap: the evictor keeps it. Written by writers, read by the evictor.</summary>
    private CachedAddress? _newest;

    /// <summary>
    /// The live count and <see cref="RegistryCounters.CountChanges"/> seen by the last <see cref="Recount"/> that
    /// found the count off; <c>null</c> when it was right. Touched only by <see cref="Recount"/>'s one caller.
    /// </summary>
    private (int Live, long Changes)? _suspectedDrift;

    /// <summary>Creates an empty cache.</summary>
    /// <param name="options">The cap, the telemetry name and the counting switches; validated here.</param>
    /// <param name="directoryOptions">Orleans' directory options: their <see cref="GrainDirectoryOptions.CacheSize"/> is the cap when <see cref="SyncMapRegistryOptions.MaxEntries"/> is not set.</param>
    /// <param name="timeProvider">The clock of the purge span; <see cref="TimeProvider.System"/> when <c>null</c>.</param>
    /// <param name="logger">Where a failed eviction is reported.</param>
    /// <param name="scheduleEviction">Queues an eviction run; the thread pool when <c>null</c>. Tests drive it by hand.</param>
    /// <param name="meterFactory">The silo's meter factory, which makes the meter of the cache's instruments; the process-wide meter when <c>null</c>.</param>
    /// <exception cref="OptionsValidationException">When <paramref name="options"/> are invalid.</exception>
    public SyncMapGrainDirectoryCache(
        SyncMapRegistryOptions options,
        GrainDirectoryOptions? directoryOptions = null,
        TimeProvider? timeProvider = null,
        ILogger<SyncMapGrainDirectoryCache>? logger = null,
        Action<Action>? scheduleEviction = null,
        IMeterFactory? meterFactory = null)
    {
        RegistryOptionsGuard.Validated(options);
        _maxEntries = ResolveMaxEntries(options, directoryOptions ?? new GrainDirectoryOptions());
        _lowWatermark = Math.Max(1, (int)(_maxEntries * EvictionLowWatermark));
        _samplingThreshold = (int)(_maxEntries * SamplingShare);
        _recordHits = options.CountLookups;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger<SyncMapGrainDirectoryCache>.Instance;
        _map = new SyncMap<GrainId, CachedAddress>(
            new SyncMapOptions { Name = options.Name, CountReadHits = options.CountReadHits, MeterFactory = meterFactory },
            keyComparer: null,
            valueComparer: ReferenceEqualityComparer.Instance);
        _counters = new RegistryCounters(options.Name, options.CountLookups, _hits.Hits, meterFactory);
        _evictor = new BackgroundWork(EvictOverCap, exception => LogErrorEviction(exception), scheduleEviction);
    }

    /// <inheritdoc/>
    public string Name => _counters.Name;

    /// <inheritdoc/>
    public int Count => _counters.Count;

    /// <summary>The cap on entries: <see cref="SyncMapRegistryOptions.MaxEntries"/>, or else <see cref="GrainDirectoryOptions.CacheSize"/>.</summary>
    public int MaxEntries => _maxEntries;

    /// <inheritdoc/>
    public IEnumerable<(GrainAddress ActivationAddress, int Version)> KeyValues
    {
        get
        {
            foreach (KeyValuePair<GrainId, CachedAddress> pair in _map)
            {
                yield return (pair.Value.Address, pair.Value.Version);
            }
        }
    }

    /// <summary>The precedence of the cap: the registry's own option when set, else Orleans' cache size.</summary>
    internal static int ResolveMaxEntries(SyncMapRegistryOptions options, GrainDirectoryOptions directoryOptions) =>
        options.MaxEntries ?? directoryOptions.CacheSize;

    /// <inheritdoc/>
    /// <remarks>
    /// The map's cost of a write (a new key takes its shard's lock, and may split the shard: at most one shard's
    /// copy, 1,024 keys), also over the cap: eviction only gets signalled (see the type's remarks).
    /// </remarks>
    public void AddOrUpdate(GrainAddress value, int version)
    {
        ArgumentNullException.ThrowIfNull(value);
        CachedAddress cached = _map.TryGetValue(value.GrainId, out CachedAddress? current)
            ? new CachedAddress(value, version, current.Inserted, current.Protected)
            : new CachedAddress(value, version, Interlocked.Increment(ref _inserted), _ghosts.TryRemove(value.GrainId, out _));
        bool replaced = _map.Swap(value.GrainId, cached, out _);
        int count = _counters.Updated(added: !replaced);
        if (count >= _samplingThreshold && !_recordHits)
        {
            Volatile.Write(ref _recordHits, true);
        }

        if (count > _maxEntries)
        {
            Volatile.Write(ref _newest, cached);
            _evictor.Signal();
        }
    }

    /// <inheritdoc/>
    public bool Remove(GrainId key)
    {
        if (_map.Delete(key))
        {
            _counters.Removed();
            return true;
        }

        return false;
    }

    /// <inheritdoc/>
    /// <remarks>Removes the cached entry only when it is for the same grain on the same silo, as Orleans' cache does.</remarks>
    public bool Remove(GrainAddress key)
    {
        ArgumentNullException.ThrowIfNull(key);
        while (_map.TryGetValue(key.GrainId, out CachedAddress? cached))
        {
            if (!MatchesGrainIdAndSilo(key, cached.Address))
            {
                return false;
            }

            if (_map.CompareAndDelete(key.GrainId, cached))
            {
                _counters.Removed();
                return true;
            }

            // The entry was replaced or removed since we read it: judge the current one.
        }

        return false;
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Removes entry by entry (O(n)), so that the count stays exact under writers that race with it (see the
    /// type's remarks). Orleans clears the cache when its directory stops.
    /// </remarks>
    public void Clear()
    {
        var removals = new Batch(this, static (counters, entries) => counters.Removed(entries));
        try
        {
            _map.ForEachWithoutPromoting((grain, cached) =>
            {
                if (_map.CompareAndDelete(grain, cached))
                {
                    removals.Add();
                }

                return true;
            });
        }
        finally
        {
            // Removals made before a failure are counted too, or the count would stay high until a quiet recount.
            removals.Flush();
        }
    }

    /// <inheritdoc/>
    public bool LookUp(GrainId key, [NotNullWhen(true)] out GrainAddress? result, out int version)
    {
        if (_map.TryGetValue(key, out CachedAddress? cached))
        {
            if (_recordHits)
            {
                _hits.Record(cached.Inserted);
            }

            result = cached.Address;
            version = cached.Version;
            return true;
        }

        _counters.Miss();
        result = null;
        version = 0;
        return false;
    }

    /// <inheritdoc/>
    public bool TryLookUp(GrainId grainId, [NotNullWhen(true)] out GrainAddress? value) => LookUp(grainId, out value, out _);

    /// <summary>
    /// Removes, in one walk, every entry whose silo <paramref name="membership"/> reports dead by Orleans' own rule
    /// for a cached address (<c>LocalGrainDirectory.IsDefunctActivation</c>): the silo is <see cref="SiloStatus.Dead"/>,
    /// or it is absent from the table although the table is newer than the address's
    /// <see cref="GrainAddress.MembershipVersion"/>. Unlike Orleans' rule, an address without a silo is kept: no
    /// membership change can make it defunct. An entry replaced meanwhile by a newer one is kept. Counts the
    /// entries as purged, and records a <c>syncmap_registry.purge</c> span when something listens.
    /// </summary>
    /// <returns>The entries removed, by silo; empty when none.</returns>
    public IReadOnlyDictionary<SiloAddress, int> Purge(ClusterMembershipSnapshot membership)
    {
        ArgumentNullException.ThrowIfNull(membership);
        DateTimeOffset started = _timeProvider.GetUtcNow();
        var statuses = new Dictionary<SiloAddress, SiloStatus>();
        Dictionary<SiloAddress, int>? removedBySilo = null;
        var purges = new Batch(this, static (counters, entries) => counters.Purged(entries));
        try
        {
            _map.ForEachWithoutPromoting((grain, cached) =>
            {
                GrainAddress address = cached.Address;
                if (address.SiloAddress is { } silo
                    && IsDefunct(membership, statuses, silo, address.MembershipVersion)
                    && _map.CompareAndDelete(grain, cached))
                {
                    removedBySilo ??= [];
                    removedBySilo[silo] = removedBySilo.GetValueOrDefault(silo) + 1;
                    purges.Add();
                }

                return true;
            });
        }
        finally
        {
            // As in Clear: removals made before a failure are counted.
            purges.Flush();
        }

        if (removedBySilo is null)
        {
            return new Dictionary<SiloAddress, int>();
        }

        RegistryInstrumentation.RecordPurge(_counters, started, purges.Total, [.. removedBySilo.Keys.Select(silo => silo.ToString())]);
        return removedBySilo;
    }

    /// <summary>
    /// Counts the live entries (O(n)) and, when the count is off by the same amount as at the previous call and no
    /// write has changed it in between, corrects it. A single walk cannot tell drift from a writer in flight;
    /// two walks with no count change between them can.
    /// </summary>
    /// <returns>The correction applied (live minus counted), or 0.</returns>
    public int Recount()
    {
        long changes = _counters.CountChanges;
        int live = 0;
        _map.ForEachWithoutPromoting((_, _) =>
        {
            live++;
            return true;
        });

        if (_suspectedDrift == (live, changes))
        {
            _suspectedDrift = null;
            return _counters.Corrected(live, changes);
        }

        _suspectedDrift = live != _counters.Count && _counters.CountChanges == changes ? (live, changes) : null;
        return 0;
    }

    /// <inheritdoc/>
    public GrainRegistryStatistics GetStatistics() => _counters.Snapshot(_map.GetStatistics());

    /// <inheritdoc/>
    public IEnumerator<KeyValuePair<GrainId, GrainAddress>> GetEnumerator()
    {
        foreach (KeyValuePair<GrainId, CachedAddress> pair in _map)
        {
            yield return new(pair.Key, pair.Value.Address);
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Orleans' <c>GrainAddress.MatchesGrainIdAndSilo</c> (internal there): same grain, same silo, any activation.</summary>
    private static bool MatchesGrainIdAndSilo(GrainAddress address, GrainAddress other) =>
        address.GrainId.Equals(other.GrainId)
        && (address.SiloAddress is null ? other.SiloAddress is null : address.SiloAddress.Equals(other.SiloAddress));

    /// <summary>Orleans' <c>GetSiloStatus(silo, seenAtVersion) == Dead</c>, with the version-free part computed once per silo and walk.</summary>
    private static bool IsDefunct(ClusterMembershipSnapshot membership, Dictionary<SiloAddress, SiloStatus> statuses, SiloAddress silo, MembershipVersion seenAt)
    {
        if (!statuses.TryGetValue(silo, out SiloStatus status))
        {
            status = membership.GetSiloStatus(silo);
            statuses[silo] = status;
        }

        return status == SiloStatus.Dead || (status == SiloStatus.None && membership.Version > seenAt);
    }

    /// <summary>Evicts down to the low watermark by the 2Q order, keeping the newest insert. Runs on the evictor only. See the type's remarks.</summary>
    private void EvictOverCap()
    {
        if (_counters.Count <= _maxEntries)
        {
            return;
        }

        _hits.CopyTo(_recentlyRead);
        _map.ForEachWithoutPromoting((grain, cached) =>
        {
            if (_recentlyRead.Contains(cached.Inserted))
            {
                // Read lately: a second chance, as the newest protected entry (written back, so the next walk knows).
                var refreshed = new CachedAddress(cached.Address, cached.Version, Interlocked.Increment(ref _inserted), isProtected: true);
                cached = _map.CompareAndSwap(grain, cached, refreshed) ? refreshed : cached;
            }

            (cached.Protected ? _protected : _probation).Add(new(grain, cached));
            return true;
        });
        _recentlyRead.Clear();
        Comparison<KeyValuePair<GrainId, CachedAddress>> byInsertion = static (a, b) => a.Value.Inserted.CompareTo(b.Value.Inserted);
        _probation.Sort(byInsertion);
        _protected.Sort(byInsertion);
        var evictions = new Batch(this, static (counters, entries) => counters.Evicted(entries), countEvicted: true);
        try
        {
            CachedAddress? keep = Volatile.Read(ref _newest);
            int spared = Math.Max(0, _probation.Count - (int)(_maxEntries * ProbationShare));
            int next = EvictFrom(_probation, 0, spared, evictions, keep);
            EvictFrom(_protected, 0, _protected.Count, evictions, keep);
            EvictFrom(_probation, next, _probation.Count, evictions, keep);
        }
        finally
        {
            evictions.Flush();
            _probation.Clear();
            _protected.Clear();
        }
    }

    /// <summary>Evicts <paramref name="entries"/>[start, end), oldest first, while the count is above the low watermark.</summary>
    /// <returns>The position after the last entry visited.</returns>
    private int EvictFrom(List<KeyValuePair<GrainId, CachedAddress>> entries, int start, int end, Batch evictions, CachedAddress? keep)
    {
        int position = start;
        for (; position < end && _counters.Count - evictions.Unflushed > _lowWatermark; position++)
        {
            (GrainId grain, CachedAddress cached) = entries[position];
            if (!ReferenceEquals(cached, keep) && _map.CompareAndDelete(grain, cached))
            {
                evictions.Add();
                AddGhost(grain);
            }
        }

        return position;
    }

    /// <summary>Remembers an evicted key, forgetting the oldest ghost beyond <see cref="MaxEntries"/>.</summary>
    private void AddGhost(GrainId grain)
    {
        long eviction = ++_evictions;
        _ghosts[grain] = eviction;
        _ghostOrder.Enqueue((grain, eviction));
        if (_ghostOrder.Count > _maxEntries)
        {
            (GrainId oldest, long evicted) = _ghostOrder.Dequeue();
            _ghosts.TryRemove(new KeyValuePair<GrainId, long>(oldest, evicted));
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Evicting from the SyncMap grain directory cache failed; the next insert over the cap tries again")]
    private partial void LogErrorEviction(Exception exception);

    /// <summary>
    /// Removals made by one walk, applied to the counters a batch at a time, so that the count drops as the walk
    /// goes rather than at its end.
    /// </summary>
    private sealed class Batch(SyncMapGrainDirectoryCache cache, Action<RegistryCounters, int> apply, bool countEvicted = false)
    {
        /// <summary>Removals made and not yet applied.</summary>
        internal int Unflushed { get; private set; }

        /// <summary>Removals applied.</summary>
        internal int Total { get; private set; }

        internal void Add()
        {
            if (++Unflushed == EvictionBatch)
            {
                Flush();
            }
        }

        internal void Flush()
        {
            if (Unflushed == 0)
            {
                return;
            }

            apply(cache._counters, Unflushed);
            if (countEvicted)
            {
                RegistryInstrumentation.CountEvicted(cache._counters, Unflushed);
            }

            Total += Unflushed;
            Unflushed = 0;
        }
    }

    /// <summary>
    /// One cached address with the version its writer passed, its insertion number and its queue (protected when
    /// it was a ghost at insertion); an update keeps both. Immutable, compared by reference.
    /// </summary>
    private sealed class CachedAddress(GrainAddress address, int version, long inserted, bool isProtected)
    {
        internal GrainAddress Address { get; } = address;

        internal int Version { get; } = version;

        internal long Inserted { get; } = inserted;

        internal bool Protected { get; } = isProtected;
    }
}
