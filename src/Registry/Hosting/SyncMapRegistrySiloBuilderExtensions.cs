using Microsoft.Extensions.DependencyInjection;
using SyncMapRegistry;

namespace Orleans.Hosting;

/// <summary>Registers the SyncMap grain registry from a silo builder.</summary>
public static class SyncMapRegistrySiloBuilderExtensions
{
    /// <summary>The same as <see cref="SyncMapRegistryServiceCollectionExtensions.AddSyncMapRegistry"/> on the silo's services.</summary>
    /// <param name="builder">The silo builder.</param>
    /// <param name="configure">Configures the registry's options; <c>null</c> for the defaults.</param>
    /// <returns><paramref name="builder"/>, so calls chain.</returns>
    public static ISiloBuilder UseSyncMapRegistry(this ISiloBuilder builder, Action<SyncMapRegistryOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSyncMapRegistry(configure);
        return builder;
    }
}
