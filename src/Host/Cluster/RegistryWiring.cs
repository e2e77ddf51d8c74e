using Microsoft.Extensions.DependencyInjection;

namespace SyncMapRegistry.Host.Cluster;

/// <summary>
/// The one place where the host plugs SyncMapRegistry into a silo, and the one place it walks a silo's cache
/// (<see cref="EntriesBySilo"/>). The statistics are read in <c>Reporting/SiloStatistics</c>.
/// </summary>
internal static class RegistryWiring
{
    /// <summary>The directory cache's name in telemetry for one silo: the silos of one process share the meter.</summary>
    public static string DirectoryCacheName(string siloName) => $"{SyncMapRegistryOptions.DefaultName}.{siloName}";

    /// <summary>The local-activation index's name in telemetry for one silo.</summary>
    public static string LocalActivationsName(string siloName) => $"{SyncMapRegistryOptions.DefaultLocalActivationsName}.{siloName}";

    /// <summary>
    /// Adds SyncMapRegistry to a silo's services, named after the silo, with the library's defaults otherwise:
    /// read hits are counted only when <paramref name="countReadHits"/> (<c>--count-read-hits</c>).
    /// </summary>
    public static void AddRegistry(ISiloBuilder silo, string siloName, bool countReadHits)
    {
        ArgumentNullException.ThrowIfNull(silo);
        silo.Services.AddSyncMapRegistry(options => Configure(options, siloName, countReadHits));
    }

    /// <summary>The host's settings of one silo's registry: its names, and <see cref="SyncMapRegistryOptions.CountReadHits"/> only when asked.</summary>
    internal static void Configure(SyncMapRegistryOptions options, string siloName, bool countReadHits)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Name = DirectoryCacheName(siloName);
        options.LocalActivationsName = LocalActivationsName(siloName);
        options.CountReadHits = countReadHits;
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
