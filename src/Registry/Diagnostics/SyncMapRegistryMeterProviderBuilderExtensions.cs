using SyncMapRegistry;

namespace OpenTelemetry.Metrics;

/// <summary>Extension methods to add SyncMapRegistry's metrics to a <see cref="MeterProviderBuilder"/>.</summary>
public static class SyncMapRegistryMeterProviderBuilderExtensions
{
    /// <summary>
    /// Enables the metrics of every named <see cref="SyncMap{TKey, TValue}"/> and of the registry: the
    /// <c>SyncMapRegistry</c> meter (<see cref="SyncMapRegistryTelemetry.MeterName"/>).
    /// </summary>
    /// <param name="builder">The <see cref="MeterProviderBuilder"/> being configured.</param>
    /// <returns>The same <paramref name="builder"/>, so calls can be chained.</returns>
    public static MeterProviderBuilder AddSyncMapRegistryInstrumentation(this MeterProviderBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddMeter(SyncMapRegistryTelemetry.MeterName);
    }
}
