using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using static SyncMapRegistry.SyncMapRegistryTelemetry;

namespace SyncMapRegistry.Telemetry;

/// <summary>
/// Where the maps' telemetry goes: the process-wide <c>SyncMapRegistry</c> activity source, and one
/// <see cref="SyncMapMetrics"/> per meter: one per <see cref="IMeterFactory"/> (a silo's, in a dependency-injected
/// host), and a process-wide one, made on first use, for maps given no factory.
/// </summary>
internal static class SyncMapInstrumentation
{
    /// <summary>The version both the meter and the activity source carry: this assembly's.</summary>
    internal static readonly string? Version = typeof(SyncMapInstrumentation).Assembly.GetName().Version?.ToString();

    internal static readonly ActivitySource ActivitySource = new(ActivitySourceName, Version);

    /// <summary>
    /// The metrics of each factory, on the meter it created. Keyed weakly: a disposed silo's factory and its metrics go
    /// with it. A factory is asked once, so even one that does not cache its meters gives its maps a single meter.
    /// </summary>
    private static readonly ConditionalWeakTable<IMeterFactory, SyncMapMetrics> s_byFactory = [];

    /// <summary>The process-wide meter, for maps without a factory; created when the first such map is named.</summary>
    internal static SyncMapMetrics Shared => SharedHolder.Metrics;

    /// <summary>The metrics of <paramref name="factory"/>'s <c>SyncMapRegistry</c> meter, or the process-wide ones when it is <c>null</c>.</summary>
    internal static SyncMapMetrics For(IMeterFactory? factory) =>
        factory is null ? Shared : s_byFactory.GetValue(factory, static f => new SyncMapMetrics(f.Create(new MeterOptions(MeterName) { Version = Version })));

    /// <summary>Holds the process-wide meter, so that it exists only once a map without a factory needs it.</summary>
    private static class SharedHolder
    {
        internal static readonly SyncMapMetrics Metrics = new(new Meter(MeterName, Version));
    }
}
