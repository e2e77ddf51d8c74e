using System.Collections;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Options;
using Orleans.Runtime.GrainDirectory;
using SyncMapRegistry.Telemetry;

namespace SyncMapRegistry;

/// <summary>
/// Orleans' silo-local grain directory cache (<see cref="IGrainDirectoryCache"/>) on a read-mostly
/// <see cref="SyncMap{TKey, TValue}"/>: the lookup on a cross-silo call takes no lock and writes nothing shared
/// (apart from the per-core lookup counter, when <see cref="SyncMapRegistryOptions.CountLookups"/> is on).
/// </summary>
/// <remarks>
/// <para>
/// Semantics are Orleans' own (<c>LruGrainDirectoryCache</c>), checked by a test suite that runs against both:
/// <see cref="AddOrUpdate"/> overwrites; <see cref="Remove(GrainId)"/> removes whatever is cached;
/// <see cref="Remove(GrainAddress)"/> removes only when the cached entry is for the same grain on the same silo,
/// as a compare-and-delete on the very entry it read, so it never removes a newer entry written meanwhile;
/// <see cref="KeyValues"/> tolerates concurrent mutation. Unlike Orleans' LRU, entries do not expire with time:
/// stale entries are corrected by Orleans' invalidation on a misdirected message, and entries for dead silos
/// are purged by the registry's maintenance service (<see cref="PurgeSilo"/>).
/// </para>
/// <para>
/// Eviction policy. Reads record nothing, so there is no recency to evict by: eviction is random with respect
/// to use. An insert of a new key that takes the count over <see cref="SyncMapRegistryOptions.MaxEntries"/>
/// evicts, on that writer's thread, entries in hash-table order from a random starting point until the count is
/// back to 90% of the cap (the entry just inserted is kept). Evicting a batch amortizes the O(n) walk over many
/// inserts. One writer evicts at a time; other writers over the cap wait for it, so the cap is overshot by at
/// most one insert per concurrent writer. Reads never take part: they stay lock-free.
/// </para>
/// </remarks>
internal sealed class SyncMapGrainDirectoryCache : IGrainDirectoryCache, IGrainRegistryView<GrainAddress>
{
    /// <summary>Evictions bring the count down to this share of the cap.</summary>
    private const double EvictionLowWatermark = 0.9;

    /// <summary>
    /// The entries. Values are compared by reference, so a compare-and-delete removes exactly the entry that
    /// was read and never an equal one written since.
    /// </summary>
    private readonly SyncMap<GrainId, CachedAddress> _map;

    private readonly RegistryCounters _counters;
    private readonly int _maxEntries;
    private readonly int _lowWatermark;

    /// <summary>Held by the one writer that evicts; other writers over the cap wait on it. Never taken by reads.</summary>
    private readonly Lock _evictionLock = new();

    /// <summary>Creates an empty cache.</summary>
    /// <param name="options">The cap, the telemetry name and the counting switches; validated here.</param>
    /// <exception cref="OptionsValidationException">When <paramref name="options"/> are invalid.</exception>
    public SyncMapGrainDirectoryCache(SyncMapRegistryOptions options)
    {
        RegistryOptionsGuard.Validated(options);
        _maxEntries = options.MaxEntries;
        _lowWatermark = Math.Max(1, (int)(options.MaxEntries * EvictionLowWatermark));
        _map = new SyncMap<GrainId, CachedAddress>(
            new SyncMapOptions { Name = options.Name, CountReadHits = options.CountReadHits },
            keyComparer: null,
            valueComparer: ReferenceEqualityComparer.Instance);
        _counters = new RegistryCounters(options.Name, options.CountLookups);
    }

    /// <inheritdoc/>
    public string Name => _counters.Name;

    /// <inheritdoc/>
    public int Count => _counters.Count;

    /// <summary>The cap on entries (<see cref="SyncMapRegistryOptions.MaxEntries"/>).</summary>
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

    /// <inheritdoc/>
    public void AddOrUpdate(GrainAddress value, int version)
    {
        ArgumentNullException.ThrowIfNull(value);
        bool replaced = _map.Swap(value.GrainId, new CachedAddress(value, version), out _);
        if (_counters.Updated(added: !replaced) > _maxEntries)
        {
            EvictOverCap(value.GrainId);
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
    public void Clear()
    {
        _map.Clear();
        _counters.Cleared();
    }

    /// <inheritdoc/>
    public bool LookUp(GrainId key, [NotNullWhen(true)] out GrainAddress? result, out int version)
    {
        if (_map.TryGetValue(key, out CachedAddress? cached))
        {
            _counters.Hit();
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
    /// Removes every entry that points at <paramref name="silo"/>: a dead silo, or one that has left. Counts them as
    /// purged (<c>registry.purged</c>) inside a <c>registry.purge</c> span, created only when something listens.
    /// An entry replaced concurrently by one for another silo is kept.
    /// </summary>
    /// <returns>The number of entries removed.</returns>
    public int PurgeSilo(SiloAddress silo)
    {
        ArgumentNullException.ThrowIfNull(silo);
        Activity? span = RegistryInstrumentation.StartPurge(Name, silo);
        int removed = 0;
        foreach (KeyValuePair<GrainId, CachedAddress> pair in _map)
        {
            if (silo.Equals(pair.Value.Address.SiloAddress) && _map.CompareAndDelete(pair.Key, pair.Value))
            {
                removed++;
            }
        }

        _counters.Purged(removed);
        RegistryInstrumentation.Purge(span, _counters.NameTag, removed);
        return removed;
    }

    /// <summary>The distinct silos that cached entries point at and that <paramref name="isGone"/> selects. O(n), read-only.</summary>
    public IReadOnlyCollection<SiloAddress> FindSilos(Func<SiloAddress, bool> isGone)
    {
        ArgumentNullException.ThrowIfNull(isGone);
        HashSet<SiloAddress>? seen = null;
        HashSet<SiloAddress>? gone = null;
        foreach (KeyValuePair<GrainId, CachedAddress> pair in _map)
        {
            if (pair.Value.Address.SiloAddress is { } silo && (seen ??= []).Add(silo) && isGone(silo))
            {
                (gone ??= []).Add(silo);
            }
        }

        return (IReadOnlyCollection<SiloAddress>?)gone ?? [];
    }

    /// <summary>Counts the live entries (O(n)) and resets <see cref="Count"/> to it, correcting any drift from races with <see cref="Clear"/>.</summary>
    /// <returns>The live entry count.</returns>
    public int Recount()
    {
        int count = _map.Count;
        _counters.Recounted(count);
        return count;
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

    /// <summary>Evicts down to the low watermark, keeping <paramref name="keep"/>. See the type's remarks.</summary>
    private void EvictOverCap(GrainId keep)
    {
        // Writers over the cap wait here for the one evicting; most then find the count back under the
        // watermark. A writer blocks before its next insert, so the cap is overshot by at most one insert
        // per concurrent writer. Reads never come here.
        lock (_evictionLock)
        {
            int excess = _counters.Count - _lowWatermark;
            if (excess <= 0)
            {
                return;
            }

            // Start at a random live entry so that repeated evictions do not always hit the same hash range,
            // then wrap around to the entries before it.
            int skip = Random.Shared.Next(Math.Max(1, _counters.Count));
            int evicted = EvictBetween(keep, skip, int.MaxValue, excess);
            if (evicted < excess)
            {
                evicted += EvictBetween(keep, 0, skip, excess - evicted);
            }

            _counters.Evicted(evicted);
        }
    }

    /// <summary>Evicts up to <paramref name="wanted"/> of the live entries at positions [start, end) of the walk.</summary>
    private int EvictBetween(GrainId keep, int start, int end, int wanted)
    {
        int evicted = 0;
        int position = 0;
        foreach (KeyValuePair<GrainId, CachedAddress> pair in _map)
        {
            if (evicted >= wanted || position >= end)
            {
                break;
            }

            if (position++ < start)
            {
                continue;
            }

            if (!pair.Key.Equals(keep) && _map.CompareAndDelete(pair.Key, pair.Value))
            {
                evicted++;
            }
        }

        return evicted;
    }

    /// <summary>One cached address with the version its writer passed; immutable, compared by reference.</summary>
    private sealed class CachedAddress(GrainAddress address, int version)
    {
        internal GrainAddress Address { get; } = address;

        internal int Version { get; } = version;
    }
}
