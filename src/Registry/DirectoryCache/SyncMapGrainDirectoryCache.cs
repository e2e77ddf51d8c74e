using System.Collections;
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
/// <see cref="SyncMap{TKey, TValue}"/>: the lookup on a cross-silo call takes no lock and allocates nothing.
/// What a hit does beyond the map's read (see "Hits" below): with lookups counted
/// (<see cref="SyncMapRegistryOptions.CountLookups"/>, the default) it counts itself and records a sample for the
/// policy in its own thread's ring (<see cref="HitSampler"/>, one thread-static access); with lookups not counted it
/// does so only once the cache has first held <see cref="SamplingShare"/> of its cap, when eviction comes near and the
/// policy needs the samples, and touches no per-thread state before. With idle expiry on, it stamps its entry with the
/// current access epoch when the stamp differs (a write at most once per epoch per entry, <see cref="EpochsPerTimeToIdle"/>
/// epochs per time to idle).
/// </summary>
/// <remarks>
/// <para>
/// An adapter: the entries live in the map, their order and the choice of victims in the policy
/// (<see cref="WindowTinyLfuPolicy"/>, W-TinyLFU with an adaptive window and expire-after-access). Each entry's value
/// (<see cref="CachedAddress"/>) carries its key's <see cref="PolicyNode"/>: a new key's value is its node itself, so
/// a cached grain is two objects (the map's entry and the node); an update stores an <see cref="UpdatedAddress"/>
/// that keeps the node.
/// </para>
/// <para>
/// Semantics are Orleans' own (<c>LruGrainDirectoryCache</c>), checked by a test suite that runs against both:
/// <see cref="AddOrUpdate"/> overwrites; <see cref="Remove(GrainId)"/> removes whatever is cached;
/// <see cref="Remove(GrainAddress)"/> removes only when the cached entry is for the same grain on the same silo,
/// as a compare-and-delete on the very entry it read, so it never removes a newer entry written meanwhile;
/// <see cref="KeyValues"/> tolerates concurrent mutation; an entry not read for
/// <see cref="GrainDirectoryOptions.MaximumCacheTTL"/> expires (approximately: see the policy). Entries for dead silos
/// are purged by the registry's maintenance service through <see cref="PurgeWhere"/>.
/// </para>
/// <para>
/// The cap. A write that adds a key and finds the count over <see cref="MaxEntries"/> evicts, on its own thread, up
/// to <see cref="EvictionsPerInsert"/> victims the policy picks in O(1) each; so the count never passes the cap by
/// more than the inserts in flight. The policy's lock is held only to pick; the map's removal and the telemetry come
/// after it. The rest of the policy's upkeep (draining the hit samples, the sketch's upkeep, the window's trimming) is
/// done a bounded step at a time by the writers themselves (<see cref="KeepUp"/>); what may cost O(cap) (sizing the
/// sketch) or O(expired) (idle expiry) runs in <see cref="Maintain"/>, on a thread-pool thread that one new key in
/// <see cref="MaintenanceEvery"/> signals, and every second from the maintenance service.
/// </para>
/// <para>
/// Hits. Counting each hit exactly needs per-thread state on every hit, and a thread-static access on Linux x64 is a
/// call into the runtime's TLS helper (about 2 ns, measured: more than the rest of the hit beyond the map; the
/// sample's store into the ring costs a fraction of that). So a hit that records pays that access once, and records
/// every hit. Sampling fewer hits saves little unless the choice takes no per-thread state (a choice by entry and
/// phase, 1 entry in 16 at a time, was measured: it cost 2 to 7 points of hit ratio on the <c>hitratio</c> traces, worth
/// far more than the nanoseconds it saved), so the policy gets every hit once it needs them, and none before.
/// </para>
/// <para>
/// Idle expiry (expire after access, <see cref="GrainDirectoryOptions.MaximumCacheTTL"/>). Samples are lossy (a
/// ring keeps a thread's last <see cref="HitSampler.RingSize"/> hits; unselected entries are not sampled), so they
/// only order the candidates. What decides is the access epoch: a counter that <see cref="Maintain"/> advances every
/// <see cref="EpochsPerTimeToIdle"/>th of the time to idle, remembering when it published each value. A hit stamps its
/// entry with the epoch it reads (<see cref="CachedAddress.AccessEpoch"/>) when the stamp differs; a new entry starts
/// with <see cref="NeverRead"/>. An entry stamped with epoch e was last read before epoch e + 1 was published (or at
/// any time up to now, when e is current). The rule: an entry expires only when its last sampled access (or its
/// insertion) and that bound both lie more than the time to idle in the past. So an entry read at least once per
/// time to idle never expires, however its reads were sampled, and one not read goes at most an epoch plus a
/// maintenance interval late. (A read that races with the sweep's removal of its entry, between the sweep's look at
/// the stamp and its removal, is missed: that read still hit, and the next one misses and reloads.)
/// </para>
/// <para>
/// Counting. <see cref="Count"/> is kept by the writers, each add and each removal counted once by the writer
/// that made it. <see cref="Clear"/> removes entry by entry for that reason: a writer still holding the map as
/// it was before the clear then changes an entry that the clear also visits, never an orphan the count has
/// forgotten. <see cref="Recount"/> heals the count, should it ever drift, across a quiet spell.
/// </para>
/// <para>
/// Walks. Purges, recounts and <see cref="Clear"/> walk the map without promoting its pending keys
/// (<c>ForEachWithoutPromoting</c>), so they never force a promotion. Enumeration (<see cref="KeyValues"/>, which
/// Orleans walks on membership changes, and the read contract) uses the map's enumerator, which promotes each shard
/// with pending keys as it reaches the end of that shard.
/// </para>
/// </remarks>
internal sealed partial class SyncMapGrainDirectoryCache : IGrainDirectoryCache, IGrainRegistryView<GrainAddress>
{
    /// <summary>A write that adds a key over the cap evicts at most this many entries itself.</summary>
    internal const int EvictionsPerInsert = 2;

    /// <summary>One new key in this many (a power of two) signals a <see cref="Maintain"/> run on the thread pool (<see cref="KeepUp"/>).</summary>
    internal const int MaintenanceEvery = 16_384;

    /// <summary>One new key in this many (a power of two) makes its writer do a bounded step of the upkeep (<see cref="KeepUp"/>).</summary>
    internal const int InlineUpkeepEvery = 64;

    /// <summary>The most threads' hit rings one writer drains at a time.</summary>
    internal const int InlineDrainRings = 4;

    /// <summary>
    /// With lookups not counted and no idle expiry, hits are sampled once the count first reaches this share of the
    /// cap: before that no eviction is near.
    /// </summary>
    internal const double SamplingShare = 0.5;

    /// <summary>Access epochs per time to idle: an idle entry goes at most this fraction of the time to idle late.</summary>
    internal const int EpochsPerTimeToIdle = 8;

    /// <summary>The access epoch of an entry not read since it was written; never published.</summary>
    internal const int NeverRead = int.MinValue;

    /// <summary>Publication times of the access epochs kept (a power of two): two times to idle.</summary>
    private const int EpochHistory = 2 * EpochsPerTimeToIdle;

    /// <summary>Idle entries judged per hold of the policy's lock.</summary>
    private const int ExpiryBatch = 256;

    /// <summary>Removals by a walk applied to the counters at a time, so the count drops as the walk goes.</summary>
    private const int RemovalBatch = 1_024;

    /// <summary>
    /// The entries. Values are compared by reference, so a compare-and-delete removes exactly the entry that
    /// was read and never an equal one written since.
    /// </summary>
    private readonly SyncMap<GrainId, CachedAddress> _map;

    private readonly RegistryCounters _counters;
    private readonly int _maxEntries;
    private readonly ILogger _logger;
    private readonly WindowTinyLfuPolicy _policy;

    /// <summary>Runs <see cref="Maintain"/> off the writer's thread, one run at a time, when a write signals it.</summary>
    private readonly BackgroundWork _maintenance;

    /// <summary>
    /// The drainer's role: held by <see cref="Maintain"/> (the background run, the maintenance service's timer) and, with
    /// <see cref="Lock.TryEnter()"/> only (a writer never waits for it), by a writer's bounded step (<see cref="KeepUp"/>)
    /// and its own samples' collection (<see cref="Link"/>). The hit sampler's drain position and buffer, and the
    /// policy's upkeep steps, are touched under it only.
    /// </summary>
    private readonly Lock _maintaining = new();

    /// <summary><see cref="WindowTinyLfuPolicy.OnSampledHits"/>, made into a delegate once.</summary>
    private readonly Action<ReadOnlySpan<long>> _onSampledHits;

    /// <summary>Idle candidates of one batch, then the expired among them; reused. Touched under <see cref="_maintaining"/> only.</summary>
    private readonly List<PolicyNode> _expired = [];

    /// <summary>Idle candidates found read after all, with the latest time their stamp allows; reused. Under <see cref="_maintaining"/> only.</summary>
    private readonly List<(PolicyNode Node, long Access)> _readAgain = [];

    /// <summary>
    /// When each of the last <see cref="EpochHistory"/> access epochs was published (the clock's timestamp), by epoch
    /// modulo the history. Written by <see cref="Maintain"/> only, under <see cref="_maintaining"/>.
    /// </summary>
    private readonly long[] _epochPublished = new long[EpochHistory];

    /// <summary>The time to idle over <see cref="EpochsPerTimeToIdle"/>, in timestamp ticks; 0 without idle expiry.</summary>
    private readonly long _epochLength;


    /// <summary>Sampled read hits: the policy's view of reads. Written by readers, each in a ring of its own thread.</summary>
    private readonly HitSampler _hits = new();

    /// <summary>The count at which <see cref="_recordHits"/> turns on, when it is not on from the start.</summary>
    private readonly int _samplingThreshold;

    /// <summary>
    /// The current access epoch, which every hit reads and stamps on its entry when the entry's differs (see the type's
    /// remarks). Written by <see cref="Maintain"/> only (under <see cref="_maintaining"/>), at most once per
    /// <see cref="_epochLength"/>; stays 0 without idle expiry, so that no hit ever writes a stamp. A hit that reads the
    /// previous value just as it changes stamps the previous epoch: its read is then bounded by this publication,
    /// which it preceded.
    /// </summary>
    private int _accessEpoch;

    /// <summary>
    /// Whether a hit is recorded in <see cref="_hits"/>. Always when lookups are counted (their hit count is the
    /// sampler's). Otherwise it turns on when an insert first takes the count to <see cref="_samplingThreshold"/>, and
    /// stays on; until then no eviction is near, and a hit touches no per-thread state. (Idle expiry does not need the
    /// samples: see the type's remarks.) Written once by an inserter, read by every hit: a hit that still reads
    /// <c>false</c> just after it turned on loses one sample.
    /// </summary>
    private bool _recordHits;

    /// <summary>
    /// The live count and <see cref="RegistryCounters.CountChanges"/> seen by the last <see cref="Recount"/> that
    /// found the count off; <c>null</c> when it was right. Touched only by <see cref="Recount"/>'s one caller.
    /// </summary>
    private (int Live, long Changes)? _suspectedDrift;

    /// <summary>Creates an empty cache.</summary>
    /// <param name="options">The cap, the telemetry name and the counting switches; validated here.</param>
    /// <param name="directoryOptions">
    /// Orleans' directory options: their <see cref="GrainDirectoryOptions.CacheSize"/> is the cap when
    /// <see cref="SyncMapRegistryOptions.MaxEntries"/> is not set, and their <see cref="GrainDirectoryOptions.MaximumCacheTTL"/>
    /// the time after which an entry not read expires.
    /// </param>
    /// <param name="timeProvider">The clock of idle expiry and of the purge span; <see cref="TimeProvider.System"/> when <c>null</c>.</param>
    /// <param name="logger">Where a failed maintenance run is reported.</param>
    /// <param name="scheduleEviction">
    /// Queues a run of <see cref="Maintain"/> (the policy's upkeep, and any eviction the writers' own left over); the
    /// thread pool when <c>null</c>. Tests drive it by hand or inline.
    /// </param>
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
        directoryOptions ??= new GrainDirectoryOptions();
        _maxEntries = ResolveMaxEntries(options, directoryOptions);
        TimeProvider = timeProvider ?? TimeProvider.System;
        _recordHits = options.CountLookups;
        _policy = new WindowTinyLfuPolicy(_maxEntries, directoryOptions.MaximumCacheTTL, TimeProvider);
        _onSampledHits = _policy.OnSampledHits;
        _samplingThreshold = (int)(_maxEntries * SamplingShare);
        _epochLength = _policy.TimeToIdle / EpochsPerTimeToIdle;
        _epochPublished[0] = TimeProvider.GetTimestamp();
        _logger = logger ?? NullLogger<SyncMapGrainDirectoryCache>.Instance;
        _map = new SyncMap<GrainId, CachedAddress>(
            new SyncMapOptions { Name = options.Name, CountReadHits = options.CountReadHits, MeterFactory = meterFactory },
            keyComparer: null,
            valueComparer: ReferenceEqualityComparer.Instance);
        _counters = new RegistryCounters(options.Name, options.CountLookups, _hits.Hits, meterFactory);
        _maintenance = new BackgroundWork(Maintain, exception => LogErrorMaintenance(exception), scheduleEviction);
    }

    /// <inheritdoc/>
    public string Name => _counters.Name;

    /// <inheritdoc/>
    public int Count => _counters.Count;

    /// <summary>The cap on entries: <see cref="SyncMapRegistryOptions.MaxEntries"/>, or else <see cref="GrainDirectoryOptions.CacheSize"/>.</summary>
    public int MaxEntries => _maxEntries;

    /// <summary>The counters and instruments of this cache (its <c>syncmap.name</c> tag and meter).</summary>
    internal RegistryCounters Counters => _counters;

    /// <summary>The clock of idle expiry and of the purge span.</summary>
    internal TimeProvider TimeProvider { get; }

    /// <summary>The eviction policy (for tests).</summary>
    internal WindowTinyLfuPolicy Policy => _policy;

    /// <summary>The per-thread rings the hits have recorded into (for tests: a hit that records nothing makes none).</summary>
    internal int HitRings => _hits.RingCount;


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
    /// An update swaps the entry (compare-and-swap, so an eviction of the entry it read is never undone). A new key
    /// costs the map's write (its shard's lock), an O(1) hold of the policy's slot table's lock (its node) and one of
    /// the policy's lock (its link); over the cap, up to
    /// <see cref="EvictionsPerInsert"/> O(1) evictions (see the type's remarks).
    /// </remarks>
    public void AddOrUpdate(GrainAddress value, int version)
    {
        ArgumentNullException.ThrowIfNull(value);
        GrainId key = value.GrainId;
        while (true)
        {
            bool present = _map.TryGetValue(key, out CachedAddress? current);
            if (present && !current!.Node.Taken)
            {
                // The replacement keeps the entry's access stamp: an update is not a read.
                if (_map.CompareAndSwap(key, current, new UpdatedAddress(value, version, current.Node, Volatile.Read(ref current.AccessEpoch))))
                {
                    _counters.Updated(added: false);
                    return;
                }

                continue; // replaced or removed since we read it
            }

            // A new key, or an entry whose node the policy took for removal: either way, a node of its own, which
            // is the entry's value too (one object per cached grain beside the map's entry).
            PolicyNode node = _policy.NewNode(value, version, NeverRead);
            int count;
            _counters.ChangeStarting();
            try
            {
                bool stored = present ? _map.CompareAndSwap(key, current!, node) : !LoadOrStore(key, node);
                if (!stored)
                {
                    _policy.Drop(node);
                    continue;
                }

                StallAfterMapChange();
                count = _counters.Updated(added: !present);
            }
            finally
            {
                _counters.ChangeEnded();
            }

            if (count >= _samplingThreshold && !_recordHits)
            {
                Volatile.Write(ref _recordHits, true);
            }

            // Before the link and the eviction it may start, so that the samples drained inform the contest.
            KeepUp(node);
            bool overCap = count > _maxEntries;
            PolicyNode? victim = Link(node, overCap);
            if (overCap)
            {
                EvictOverCap(EvictionsPerInsert, victim);
            }

            // After the eviction: where the run is inline (tests, the hit-ratio benchmark), it finds the count within the cap.
            if ((node.Number & (MaintenanceEvery - 1)) == 0 || (count >= _maxEntries / 2 && !_policy.HasSketch))
            {
                _maintenance.Signal();
            }

            return;
        }
    }

    /// <inheritdoc/>
    public bool Remove(GrainId key)
    {
        _counters.ChangeStarting();
        try
        {
            if (_map.LoadAndDelete(key, out CachedAddress? removed))
            {
                _counters.Removed();
                _policy.Drop(removed.Node);
                return true;
            }

            return false;
        }
        finally
        {
            _counters.ChangeEnded();
        }
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

            _counters.ChangeStarting();
            try
            {
                if (_map.CompareAndDelete(key.GrainId, cached))
                {
                    _counters.Removed();
                    _policy.Drop(cached.Node);
                    return true;
                }
            }
            finally
            {
                _counters.ChangeEnded();
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
    public void Clear() => RemoveWhere(static (_, _) => true, state: 0, static (counters, entries) => counters.Removed(entries), onRemoved: null);

    /// <inheritdoc/>
    public bool LookUp(GrainId key, [NotNullWhen(true)] out GrainAddress? result, out int version)
    {
        if (_map.TryGetValue(key, out CachedAddress? cached))
        {
            // The entry's access stamp, written only when it changes: at most once per epoch (see the type's remarks).
            int epoch = _accessEpoch;
            if (cached.AccessEpoch != epoch)
            {
                cached.AccessEpoch = epoch;
            }

            if (_recordHits)
            {
                _hits.Record(cached.Sample);
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
    /// Removes, in one walk, every entry whose address <paramref name="isDefunct"/> judges so, and counts them as
    /// purged; an entry replaced meanwhile by a newer one is kept. The maintenance service's primitive (the rule of
    /// what is defunct lives there: <see cref="DeadSiloPurge"/>).
    /// </summary>
    /// <param name="isDefunct">Judges an address; called on the walking thread, under no lock.</param>
    /// <param name="state">Passed to <paramref name="isDefunct"/> and <paramref name="onPurged"/>.</param>
    /// <param name="onPurged">Told of each address removed.</param>
    /// <returns>The entries removed.</returns>
    internal int PurgeWhere<TState>(Func<GrainAddress, TState, bool> isDefunct, TState state, Action<GrainAddress, TState> onPurged) =>
        RemoveWhere(isDefunct, state, static (counters, entries) => counters.Purged(entries), onPurged);

    /// <summary>
    /// The policy's upkeep, off the message path: drains the hit samples into it, runs the sketch's upkeep and the
    /// window's tuning, removes entries idle for longer than the time to idle, and evicts whatever is over the cap
    /// (should the writers' own evictions have fallen short). One caller at a time; each step holds the policy's lock
    /// for a bounded batch only.
    /// </summary>
    internal void Maintain()
    {
        lock (_maintaining)
        {
            _hits.Drain(_onSampledHits);

            while (_policy.Maintain())
            {
            }

            ExpireIdle();
            EvictOverCap(int.MaxValue);
        }
    }

    /// <summary>
    /// Counts the live entries (O(n)) and, when the count is off by the same amount as at the previous call and no
    /// write has changed it in between, corrects it. A single walk cannot tell drift from a writer in flight;
    /// two walks with no count change between them can.
    /// </summary>
    /// <returns>The correction applied (live minus counted), or 0.</returns>
    public int Recount()
    {
        // Quiet: no writer between a map change and its count update at either end of the walk, and no count
        // change across it (RegistryCounters._changesInFlight says why both are needed).
        long changes = _counters.CountChanges;
        bool quiet = !_counters.ChangesInFlight;
        int live = _map.Count;
        quiet = quiet && !_counters.ChangesInFlight && _counters.CountChanges == changes;

        if (quiet && _suspectedDrift == (live, changes))
        {
            _suspectedDrift = null;
            return _counters.Corrected(live, changes);
        }

        _suspectedDrift = quiet && live != _counters.Count ? (live, changes) : null;
        return 0;
    }

    /// <summary>Test seam: runs <see cref="AfterMapChangeForTests"/> between a new key's map write and the count's update. Debug builds only.</summary>
    [System.Diagnostics.Conditional("DEBUG")]
    private void StallAfterMapChange() => AfterMapChangeForTests?.Invoke();

    /// <summary>Test seam for <see cref="StallAfterMapChange"/>; read only in Debug builds.</summary>
    internal Action? AfterMapChangeForTests { get; set; }

    /// <inheritdoc/>
    public GrainRegistryStatistics GetStatistics() => _counters.Snapshot(_map.GetStatistics());

    /// <inheritdoc/>
    /// <remarks>Walks without promoting: watching the cache (the host's STATUS lines, a dashboard) never changes its map.</remarks>
    public IEnumerator<KeyValuePair<GrainId, GrainAddress>> GetEnumerator()
    {
        foreach (KeyValuePair<GrainId, CachedAddress> pair in _map.EnumerateWithoutPromoting())
        {
            yield return new(pair.Key, pair.Value.Address);
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Orleans' <c>GrainAddress.MatchesGrainIdAndSilo</c> (internal there): same grain, same silo, any activation.</summary>
    private static bool MatchesGrainIdAndSilo(GrainAddress address, GrainAddress other) =>
        address.GrainId.Equals(other.GrainId)
        && (address.SiloAddress is null ? other.SiloAddress is null : address.SiloAddress.Equals(other.SiloAddress));

    /// <returns>Whether <paramref name="key"/> was present (nothing stored).</returns>
    private bool LoadOrStore(GrainId key, CachedAddress cached)
    {
        _map.LoadOrStore(key, cached, out bool loaded);
        return loaded;
    }

    /// <summary>
    /// A new key's share of the policy's upkeep, so that no thread-pool run is needed per write. The writer hands the
    /// samples of its own thread's hits to the policy with its key (<see cref="Link"/>), and every
    /// <see cref="InlineUpkeepEvery"/>th new key it does a bounded step for everyone: it
    /// drains up to <see cref="InlineDrainRings"/> threads' hit rings, at most <see cref="HitSampler.RingSize"/>
    /// samples each, taken in turn, and runs one step of the policy's upkeep (a chunk of the sketch's halving, a batch
    /// of a shrunk region's excess), never an allocation. Neither waits: each is skipped while another thread
    /// maintains. A whole <see cref="Maintain"/> (the sketch's sizing, O(cap); idle expiry; any eviction the writers
    /// left over) runs on the thread pool when the sketch is due and every <see cref="MaintenanceEvery"/>th new key
    /// (<see cref="AddOrUpdate"/> signals it after its eviction), and every second from the maintenance service. Why
    /// not a thread-pool run per new key, as before: each run woke a pool thread, which then spun for more work before
    /// it slept, and under a stream of misses that cost more processor time than the rest of the cache (<c>pressure</c>
    /// benchmark, one thread: 920 ns a request against Orleans' cache's 220 ns; 385 ns with the upkeep made here).
    /// </summary>
    private void KeepUp(PolicyNode node)
    {
        if ((node.Number & (InlineUpkeepEvery - 1)) == 0 && _maintaining.TryEnter())
        {
            try
            {
                _hits.Drain(_onSampledHits, InlineDrainRings);
                _policy.Maintain(mayAllocate: false);
            }
            finally
            {
                _maintaining.Exit();
            }
        }
    }

    /// <summary>
    /// Links a new key's node, taking a victim in the same hold of the policy's lock when asked, and hands the policy
    /// the samples of this thread's own hits first (so its own reads count in the contest its insert starts), unless
    /// another thread is maintaining.
    /// </summary>
    private PolicyNode? Link(PolicyNode node, bool takeVictim)
    {
        if (!_recordHits || _hits.Backlog() == 0 || !_maintaining.TryEnter())
        {
            return _policy.Link(node, takeVictim);
        }

        try
        {
            return _policy.Link(node, takeVictim, _hits.CollectOwn());
        }
        finally
        {
            _maintaining.Exit();
        }
    }

    /// <summary>
    /// Evicts while the count is over the cap, at most <paramref name="budget"/> victims, each picked by the policy in
    /// O(1). Counts the evictions once, after the last.
    /// </summary>
    /// <param name="budget">The most victims, <paramref name="taken"/> included.</param>
    /// <param name="taken">A victim the policy already took for this call (with the new key's link), whose entry is still to remove.</param>
    private void EvictOverCap(int budget, PolicyNode? taken = null)
    {
        int evicted = 0;
        _counters.ChangeStarting();
        try
        {
            if (taken is not null)
            {
                evicted += RemoveTaken(taken) ? 1 : 0;
                budget--;
            }

            for (int i = 0; i < budget && _counters.Count - evicted > _maxEntries; i++)
            {
                if (_policy.TakeVictim() is not { } victim)
                {
                    break;
                }

                evicted += RemoveTaken(victim) ? 1 : 0;
            }
        }
        finally
        {
            CountEvicted(evicted);
            _counters.ChangeEnded();
        }
    }

    /// <summary>
    /// Publishes the next access epoch when the current one is <see cref="_epochLength"/> old, then removes the entries
    /// idle for longer than the time to idle by the rule of the type's remarks, a batch at a time: the policy names the
    /// candidates (their sampled access is old), the map's entries' stamps clear those read since (the policy moves
    /// them to their region's newest end), and the policy takes the rest, whose entries are then removed.
    /// </summary>
    private void ExpireIdle()
    {
        if (!_policy.Expires)
        {
            return;
        }

        long now = TimeProvider.GetTimestamp();
        int epoch = _accessEpoch;
        if (now - _epochPublished[epoch & (EpochHistory - 1)] >= _epochLength)
        {
            epoch = epoch + 1 == NeverRead ? epoch + 2 : epoch + 1;
            _epochPublished[epoch & (EpochHistory - 1)] = now;
            Volatile.Write(ref _accessEpoch, epoch);
        }

        long deadline = now - _policy.TimeToIdle;
        bool more = true;
        while (more)
        {
            _expired.Clear();
            _readAgain.Clear();
            more = _policy.FindIdle(_expired, ExpiryBatch, deadline);
            if (_expired.Count == 0)
            {
                break;
            }

            // Outside the policy's lock: the map's reads. A candidate whose entry is gone or carries another node stays
            // in the list: the policy's take finds it dropped, or drops it, and its removal is a no-op.
            int kept = 0;
            for (int i = 0; i < _expired.Count; i++)
            {
                PolicyNode node = _expired[i];
                if (_map.TryGetValue(node.Key, out CachedAddress? cached) && ReferenceEquals(cached.Node, node))
                {
                    long lastRead = LatestReadBefore(Volatile.Read(ref cached.AccessEpoch), epoch, now);
                    if (lastRead > deadline)
                    {
                        _readAgain.Add((node, lastRead));
                        continue;
                    }
                }

                _expired[kept++] = node;
            }

            _expired.RemoveRange(kept, _expired.Count - kept);
            _policy.Touch(_readAgain);
            _policy.TakeIdle(_expired, deadline);

            int expired = 0;
            _counters.ChangeStarting();
            try
            {
                foreach (PolicyNode node in _expired)
                {
                    expired += RemoveTaken(node) ? 1 : 0;
                }
            }
            finally
            {
                // An expiry is an eviction by time: counted with the evictions.
                CountEvicted(expired);
                _counters.ChangeEnded();
            }
        }

        _expired.Clear();
        _readAgain.Clear();
    }

    /// <summary>
    /// The latest time a read stamped <paramref name="stamp"/> can have happened, with <paramref name="current"/> the
    /// current epoch: <paramref name="now"/> for the current epoch; the publication of the next epoch for an older one
    /// (for an epoch older than the history, the oldest publication kept, which is later); <see cref="long.MinValue"/>
    /// for <see cref="NeverRead"/>.
    /// </summary>
    private long LatestReadBefore(int stamp, int current, long now)
    {
        if (stamp == NeverRead)
        {
            return long.MinValue;
        }

        int age = unchecked(current - stamp);
        if (age == 0)
        {
            return now;
        }

        int next = age > 0 && age < EpochHistory ? stamp + 1 : current - EpochHistory + 1;
        next = next == NeverRead ? next + 1 : next;
        return _epochPublished[next & (EpochHistory - 1)];
    }

    private void CountEvicted(int entries)
    {
        if (entries > 0)
        {
            _counters.Evicted(entries);
            RegistryInstrumentation.CountEvicted(_counters, entries);
        }
    }

    /// <summary>
    /// Removes the entry of a node the policy took (evicted or expired), whatever value it holds now, as long as it
    /// still carries that node: an update keeps the node and is removed with it; a writer that replaced the entry
    /// with a node of its own (it saw <see cref="PolicyNode.Taken"/>) keeps its entry.
    /// </summary>
    /// <returns>Whether this call removed the entry.</returns>
    private bool RemoveTaken(PolicyNode node)
    {
        while (_map.TryGetValue(node.Key, out CachedAddress? current) && ReferenceEquals(current.Node, node))
        {
            if (_map.CompareAndDelete(node.Key, current))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Removes every entry <paramref name="remove"/> selects, in one walk, counting the removals in batches.</summary>
    private int RemoveWhere<TState>(Func<GrainAddress, TState, bool> remove, TState state, Action<RegistryCounters, int> count, Action<GrainAddress, TState>? onRemoved)
    {
        int unflushed = 0, total = 0;
        _counters.ChangeStarting();
        try
        {
            _map.ForEachWithoutPromoting((grain, cached) =>
            {
                if (remove(cached.Address, state) && _map.CompareAndDelete(grain, cached))
                {
                    _policy.Drop(cached.Node);
                    onRemoved?.Invoke(cached.Address, state);
                    total++;
                    if (++unflushed == RemovalBatch)
                    {
                        count(_counters, unflushed);
                        unflushed = 0;
                    }
                }

                return true;
            });
        }
        finally
        {
            // Removals made before a failure are counted too, or the count would stay high until a quiet recount.
            if (unflushed > 0)
            {
                count(_counters, unflushed);
            }

            _counters.ChangeEnded();
        }

        return total;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Maintaining the SyncMap grain directory cache failed; the next write or tick tries again")]
    private partial void LogErrorMaintenance(Exception exception);
}
