using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using Orleans.Runtime.GrainDirectory;
using SyncMapRegistry.Benchmarks.Registry;

namespace SyncMapRegistry.Benchmarks.Modes;

/// <summary>
/// A grain directory cache under test, driven through Orleans' <see cref="IGrainDirectoryCache"/>, with the
/// read/dirty statistics of its SyncMap where it has one.
/// </summary>
internal sealed class CachePeer(string name, IGrainDirectoryCache cache, Func<SyncMapStatistics>? statistics)
{
    internal string Name { get; } = name;

    internal IGrainDirectoryCache Cache { get; } = cache;

    /// <summary>Whether the cache is a read/dirty map that promotes.</summary>
    internal bool Promotes => statistics is not null;

    /// <summary>The SyncMap's statistics, for messages; <c>null</c> for a cache without one.</summary>
    internal SyncMapStatistics? Statistics => statistics?.Invoke();

    /// <summary>
    /// The peers, each for <paramref name="capacity"/> entries: a ConcurrentDictionary (the baseline), a bare
    /// SyncMap, the registry's cache (<see cref="SyncMapRegistryOptions.MaxEntries"/> = capacity) and Orleans' LRU
    /// cache (<c>GrainDirectoryOptions.CacheSize</c> = capacity), built one at a time so that only one is alive.
    /// </summary>
    internal static IEnumerable<Func<CachePeer>> All(int capacity) =>
    [
        () => new CachePeer("ConcurrentDictionary", new ConcurrentDictionaryDirectoryCache(), null),
        () =>
        {
            var map = new SyncMapDirectoryCache();
            return new CachePeer("SyncMap", map, () => map.GetStatistics());
        },
        () =>
        {
            var registry = new global::SyncMapRegistry.SyncMapGrainDirectoryCache(new SyncMapRegistryOptions { MaxEntries = capacity });
            return new CachePeer("SyncMapGrainDirectoryCache", registry, () => registry.GetStatistics().Map);
        },
        () => new CachePeer("OrleansLru", OrleansLru(capacity), null),
    ];

    /// <summary>
    /// Orleans' <c>LruGrainDirectoryCache</c> (internal to Orleans), through its public factory, with its default
    /// time-to-live.
    /// </summary>
    internal static IGrainDirectoryCache OrleansLru(int capacity) =>
        GrainDirectoryCacheFactory.CreateGrainDirectoryCache(
            new ServiceCollection().BuildServiceProvider(),
            new GrainDirectoryOptions { CachingStrategy = GrainDirectoryOptions.CachingStrategyType.LRU, CacheSize = capacity });

    /// <summary>
    /// Promotes a read/dirty map the way a silo's lookups do: looks up <paramref name="recent"/> (keys stored since
    /// the last promotion, so missing from the read snapshot) round and round until the map has promoted (it holds
    /// no dirty table), at most <paramref name="maxLookups"/> times. Does nothing for a cache that does not promote.
    /// With <paramref name="record"/>, each lookup is timed (<see cref="Stopwatch"/> ticks, and whether a garbage
    /// collection ran during it) and handed to it. Returns whether the map ended promoted.
    /// </summary>
    internal bool Promote(ReadOnlySpan<GrainAddress> recent, long maxLookups, Action<long, bool>? record = null)
    {
        if (statistics is null)
        {
            return true;
        }

        for (long n = 0; n < maxLookups && statistics().DirtyCount != 0; n++)
        {
            for (int i = 0; i < recent.Length; i++)
            {
                int collections = GC.CollectionCount(0);
                long start = Stopwatch.GetTimestamp();
                Cache.LookUp(recent[i].GrainId, out _, out _);
                record?.Invoke(Stopwatch.GetTimestamp() - start, GC.CollectionCount(0) != collections);
            }

            n += recent.Length;
        }

        return statistics().DirtyCount == 0;
    }
}
