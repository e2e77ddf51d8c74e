using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using BitFaster.Caching.Lfu;
using BitFaster.Caching.Lru;
using Orleans.Runtime.GrainDirectory;

namespace SyncMapRegistry.Benchmarks.Registry;

/// <summary>
/// The registry peers that Orleans does not ship, each behind <see cref="IGrainDirectoryCache"/>: a lookup or an
/// update is one call on the underlying map. A removal by address removes the entry only while it still holds
/// that activation, as Orleans' caches do.
/// </summary>
internal abstract class DirectoryCacheBase : IGrainDirectoryCache
{
    public abstract IEnumerable<(GrainAddress ActivationAddress, int Version)> KeyValues { get; }

    public abstract void AddOrUpdate(GrainAddress value, int version);

    public abstract bool LookUp(GrainId key, [NotNullWhen(true)] out GrainAddress? result, out int version);

    public abstract bool Remove(GrainId key);

    public bool Remove(GrainAddress key) =>
        LookUp(key.GrainId, out GrainAddress? cached, out _) && key.Matches(cached) && Remove(key.GrainId);

    public abstract void Clear();

    /// <summary>Fills a hit's out parameters from the cached pair.</summary>
    private protected static bool Hit((GrainAddress Address, int Version) entry, out GrainAddress result, out int version)
    {
        result = entry.Address;
        version = entry.Version;
        return true;
    }

    /// <summary>Fills a miss's out parameters.</summary>
    private protected static bool Miss(out GrainAddress? result, out int version)
    {
        result = null;
        version = 0;
        return false;
    }
}

/// <summary>The baseline: a <see cref="ConcurrentDictionary{TKey, TValue}"/> with no eviction.</summary>
internal sealed class ConcurrentDictionaryDirectoryCache : DirectoryCacheBase
{
    private readonly ConcurrentDictionary<GrainId, (GrainAddress Address, int Version)> _map = new();

    public override IEnumerable<(GrainAddress ActivationAddress, int Version)> KeyValues => _map.Values;

    public override void AddOrUpdate(GrainAddress value, int version) => _map[value.GrainId] = (value, version);

    public override bool LookUp(GrainId key, [NotNullWhen(true)] out GrainAddress? result, out int version) =>
        _map.TryGetValue(key, out var entry) ? Hit(entry, out result, out version) : Miss(out result, out version);

    public override bool Remove(GrainId key) => _map.TryRemove(key, out _);

    public override void Clear() => _map.Clear();
}

/// <summary>BitFaster.Caching's <see cref="ConcurrentLru{K, V}"/> (a pseudo-LRU), at Orleans' default capacity.</summary>
internal sealed class BitFasterDirectoryCache(int capacity) : DirectoryCacheBase
{
    private readonly ConcurrentLru<GrainId, (GrainAddress Address, int Version)> _lru = new(capacity);

    public override IEnumerable<(GrainAddress ActivationAddress, int Version)> KeyValues => _lru.Select(pair => pair.Value);

    public override void AddOrUpdate(GrainAddress value, int version) => _lru.AddOrUpdate(value.GrainId, (value, version));

    public override bool LookUp(GrainId key, [NotNullWhen(true)] out GrainAddress? result, out int version) =>
        _lru.TryGet(key, out var entry) ? Hit(entry, out result, out version) : Miss(out result, out version);

    public override bool Remove(GrainId key) => _lru.TryRemove(key);

    public override void Clear() => _lru.Clear();
}

/// <summary>
/// <see cref="SyncMap{TKey, TValue}"/> used directly as the cache, with no cap: a lookup is one
/// <see cref="SyncMap{TKey, TValue}.TryGetValue"/>: the bare map, beside the registry's own cache
/// (SyncMapGrainDirectoryCache, with its cap and lookup counters), to show what those cost.
/// </summary>
internal sealed class SyncMapDirectoryCache : DirectoryCacheBase
{
    private readonly SyncMap<GrainId, (GrainAddress Address, int Version)> _map = new();

    public override IEnumerable<(GrainAddress ActivationAddress, int Version)> KeyValues => _map.Values;

    public override void AddOrUpdate(GrainAddress value, int version) => _map.Store(value.GrainId, (value, version));

    public override bool LookUp(GrainId key, [NotNullWhen(true)] out GrainAddress? result, out int version) =>
        _map.TryGetValue(key, out var entry) ? Hit(entry, out result, out version) : Miss(out result, out version);

    public override bool Remove(GrainId key) => _map.Delete(key);

    public override void Clear() => _map.Clear();

    /// <summary>The map's read/dirty statistics.</summary>
    internal SyncMapStatistics GetStatistics() => _map.GetStatistics();
}

/// <summary>
/// BitFaster.Caching's <see cref="ConcurrentLfu{K, V}"/> (W-TinyLFU), built by the caller: with a
/// <see cref="BitFaster.Caching.Scheduler.ForegroundScheduler"/> it drains its buffers on each call (the hit ratio, which must not depend on the
/// thread pool's timing); with BitFaster's defaults its maintenance runs on the thread pool (what it costs).
/// </summary>
internal sealed class ConcurrentLfuDirectoryCache(ConcurrentLfu<GrainId, (GrainAddress Address, int Version)> lfu) : DirectoryCacheBase
{
    private readonly ConcurrentLfu<GrainId, (GrainAddress Address, int Version)> _lfu = lfu;

    public override IEnumerable<(GrainAddress ActivationAddress, int Version)> KeyValues => _lfu.Select(pair => pair.Value);

    public override void AddOrUpdate(GrainAddress value, int version) => _lfu.AddOrUpdate(value.GrainId, (value, version));

    public override bool LookUp(GrainId key, [NotNullWhen(true)] out GrainAddress? result, out int version) =>
        _lfu.TryGet(key, out var entry) ? Hit(entry, out result, out version) : Miss(out result, out version);

    public override bool Remove(GrainId key) => _lfu.TryRemove(key);

    public override void Clear() => _lfu.Clear();
}
