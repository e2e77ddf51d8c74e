namespace SyncMapRegistry.Host.Registry;

/// <summary>
/// The one place where the host plugs SyncMapRegistry into a silo and reads its statistics back.
/// </summary>
internal static class RegistryWiring
{
    /// <summary>The registry's name in telemetry for silo <paramref name="siloName"/>.</summary>
    public static string TelemetryName(string siloName) => $"grain-directory-cache.{siloName}";

    /// <summary>Adds SyncMapRegistry to a silo's services.</summary>
    public static void AddRegistry(ISiloBuilder silo, string siloName)
    {
        ArgumentNullException.ThrowIfNull(silo);
        _ = siloName;
        // TODO(registry): silo.Services.AddSyncMapRegistry(o => o.Name = TelemetryName(siloName));
    }

    /// <summary>Reads one silo's registry statistics.</summary>
    public static SiloRegistrySnapshot Read(IServiceProvider services, string siloName)
    {
        ArgumentNullException.ThrowIfNull(services);
        return SiloRegistrySnapshot.Unavailable(siloName);
    }
}
