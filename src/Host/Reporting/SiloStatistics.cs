using Microsoft.Extensions.DependencyInjection;

namespace SyncMapRegistry.Host.Reporting;

/// <summary>
/// One silo's statistics at one moment, cumulative since the silo started: its registry's (when it runs
/// SyncMapRegistry) and Orleans' own directory counters (whichever cache it runs). Every report shows them through
/// <see cref="StatisticColumns"/>.
/// </summary>
/// <param name="Silo">The silo's name.</param>
/// <param name="Available">Whether the silo runs SyncMapRegistry and its statistics could be read.</param>
/// <param name="Entries">Grain addresses held now.</param>
/// <param name="Hits">Lookups the registry answered.</param>
/// <param name="Misses">Lookups the registry could not answer (Orleans then asked the grain directory).</param>
/// <param name="ReadHits">Lookups served by the SyncMap's lock-free read snapshot (0 unless counted).</param>
/// <param name="DirtyHits">Lookups that missed the read snapshot and were found in the dirty map under the lock.</param>
/// <param name="LookupMisses">Lookups that went under the lock and found nothing.</param>
/// <param name="Promotions">Times the dirty map was promoted to the read snapshot (each one also rebuilt it).</param>
/// <param name="Purged">Entries removed because their silo left the cluster.</param>
/// <param name="Removals">Entries removed by Orleans (an invalidated address, for example after a failed call).</param>
/// <param name="Evicted">Entries removed by the entry cap.</param>
/// <param name="LocalActivations">Activations on this silo, from the registry's local-activation index.</param>
/// <param name="Directory">Orleans' own directory counters of this silo, for either cache.</param>
public readonly record struct SiloStatistics(
    string Silo,
    bool Available,
    int Entries,
    long Hits,
    long Misses,
    long ReadHits,
    long DirtyHits,
    long LookupMisses,
    long Promotions,
    long Purged,
    long Removals,
    long Evicted,
    int LocalActivations,
    DirectoryLookups Directory)
{
    /// <summary>A silo whose registry could not be read (it runs Orleans' cache), with Orleans' counters.</summary>
    public static SiloStatistics WithoutRegistry(string silo, DirectoryLookups directory = default) => new(silo, false, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, directory);

    /// <summary>Reads one silo's statistics: the registry's through its public read contract, Orleans' from <paramref name="directory"/>.</summary>
    internal static SiloStatistics Read(IServiceProvider services, string silo, DirectoryCounters? directory)
    {
        ArgumentNullException.ThrowIfNull(services);
        DirectoryLookups lookups = directory?.Read(services) ?? default;
        if (services.GetService<ISyncMapRegistry>() is not { } registry)
        {
            return WithoutRegistry(silo, lookups);
        }

        SyncMapRegistryStatistics statistics = registry.GetStatistics();
        GrainRegistryStatistics cache = statistics.DirectoryCache;
        return new SiloStatistics(
            silo,
            Available: true,
            Entries: cache.Count,
            Hits: cache.LookupHits,
            Misses: cache.LookupMisses,
            ReadHits: cache.Map.ReadHits,
            DirtyHits: cache.Map.DirtyHits,
            LookupMisses: cache.Map.LookupMisses,
            Promotions: cache.Map.Promotions,
            Purged: cache.Purged,
            Removals: cache.Removals,
            Evicted: cache.Evicted,
            LocalActivations: statistics.LocalActivations.Count,
            Directory: lookups);
    }

    /// <summary>Sums the statistics of several silos.</summary>
    public static SiloStatistics Total(IEnumerable<SiloStatistics> silos)
    {
        ArgumentNullException.ThrowIfNull(silos);
        SiloStatistics total = WithoutRegistry("total");
        foreach (SiloStatistics s in silos)
        {
            total = new SiloStatistics(
                "total",
                total.Available || s.Available,
                total.Entries + s.Entries,
                total.Hits + s.Hits,
                total.Misses + s.Misses,
                total.ReadHits + s.ReadHits,
                total.DirtyHits + s.DirtyHits,
                total.LookupMisses + s.LookupMisses,
                total.Promotions + s.Promotions,
                total.Purged + s.Purged,
                total.Removals + s.Removals,
                total.Evicted + s.Evicted,
                total.LocalActivations + s.LocalActivations,
                total.Directory + s.Directory);
        }

        return total;
    }
}
