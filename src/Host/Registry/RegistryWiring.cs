using Microsoft.Extensions.DependencyInjection;

namespace SyncMapRegistry.Host.Registry;

/// <summary>
/// The one place where the host plugs SyncMapRegistry into a silo and reads its statistics back.
/// </summary>
internal static class RegistryWiring
{
    /// <summary>
    /// The directory cache's name in telemetry for one silo. Each silo has a meter of its own (from its
    /// <c>IMeterFactory</c>); the silo in the name tells the series apart where a backend shows several silos together.
    /// </summary>
    public static string DirectoryCacheName(string siloName) => $"{SyncMapRegistryOptions.DefaultName}.{siloName}";

    /// <summary>The local-activation index's name in telemetry for one silo.</summary>
    public static string LocalActivationsName(string siloName) => $"{SyncMapRegistryOptions.DefaultLocalActivationsName}.{siloName}";

    /// <summary>
    /// Adds SyncMapRegistry to a silo's services, named after the silo. The host counts read hits too (off by
    /// default in the library), so the table can show every lookup by result.
    /// </summary>
    public static void AddRegistry(ISiloBuilder silo, string siloName)
    {
        ArgumentNullException.ThrowIfNull(silo);
        silo.Services.AddSyncMapRegistry(options =>
        {
            options.Name = DirectoryCacheName(siloName);
            options.LocalActivationsName = LocalActivationsName(siloName);
            options.CountReadHits = true;
        });
    }

    /// <summary>Reads one silo's registry statistics through the registry's public read contract.</summary>
    public static SiloRegistrySnapshot Read(IServiceProvider services, string siloName)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (services.GetService<ISyncMapRegistry>() is not { } registry)
        {
            return SiloRegistrySnapshot.Unavailable(siloName);
        }

        SyncMapRegistryStatistics statistics = registry.GetStatistics();
        GrainRegistryStatistics cache = statistics.DirectoryCache;
        return new SiloRegistrySnapshot(
            siloName,
            Available: true,
            Entries: cache.Count,
            Hits: cache.LookupHits,
            Misses: cache.LookupMisses,
            ReadHits: cache.Map.ReadHits,
            DirtyHits: cache.Map.DirtyHits,
            LookupMisses: cache.Map.LookupMisses,
            Promotions: cache.Map.Promotions,
            EntriesCopied: cache.Map.EntriesCopied,
            Purged: cache.Purged,
            Removals: cache.Removals,
            Evicted: cache.Evicted,
            LocalActivations: statistics.LocalActivations.Count);
    }

    /// <summary>The directory cache's entries, counted by the silo address they point at (<c>none</c>: no silo); empty without a registry.</summary>
    public static Dictionary<string, int> EntriesBySilo(IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(services);
        var bySilo = new Dictionary<string, int>(StringComparer.Ordinal);
        if (services.GetService<ISyncMapRegistry>() is { } registry)
        {
            foreach (KeyValuePair<GrainId, GrainAddress> entry in registry.DirectoryCache)
            {
                string key = entry.Value.SiloAddress?.ToParsableString() ?? "none";
                bySilo[key] = bySilo.GetValueOrDefault(key) + 1;
            }
        }

        return bySilo;
    }
}
