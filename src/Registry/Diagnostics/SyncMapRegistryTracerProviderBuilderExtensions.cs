using SyncMapRegistry;

namespace OpenTelemetry.Trace;

/// <summary>Extension methods to add SyncMapRegistry's spans to a <see cref="TracerProviderBuilder"/>.</summary>
public static class SyncMapRegistryTracerProviderBuilderExtensions
{
    /// <summary>
    /// Enables the spans of every named <see cref="SyncMap{TKey, TValue}"/> and of the registry
    /// (the maps' spans and <c>syncmap_registry.purge</c>): the <c>SyncMapRegistry</c>
    /// activity source (<see cref="SyncMapRegistryTelemetry.ActivitySourceName"/>).
    /// </summary>
    /// <param name="builder">The <see cref="TracerProviderBuilder"/> being configured.</param>
    /// <returns>The same <paramref name="builder"/>, so calls can be chained.</returns>
    public static TracerProviderBuilder AddSyncMapRegistryInstrumentation(this TracerProviderBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddSource(SyncMapRegistryTelemetry.ActivitySourceName);
    }
}
