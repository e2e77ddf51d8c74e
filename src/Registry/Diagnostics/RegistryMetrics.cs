using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using static SyncMapRegistry.SyncMapRegistryTelemetry;

namespace SyncMapRegistry.Telemetry;

/// <summary>
/// The registry's instruments (<see cref="GrainRegistryTelemetry.Instruments"/>) on one <c>SyncMapRegistry</c>
/// meter, the one its maps report on (<see cref="SyncMapMetrics"/>): a silo's, from its <c>IMeterFactory</c>, or the
/// process-wide one. Holds the registry maps its observable instrument reports on.
/// </summary>
internal sealed class RegistryMetrics
{
    /// <summary>The registry's instruments of each map meter, created with the first registry map on that meter.</summary>
    private static readonly ConditionalWeakTable<SyncMapMetrics, RegistryMetrics> s_byMeter = [];

    /// <summary>The registries that <c>syncmap_registry.lookups</c> reports on.</summary>
    private readonly ObservedSet<IObservedRegistry> _observed = new();

    private RegistryMetrics(Meter meter)
    {
        Purged = meter.CreateCounter<long>(
            GrainRegistryTelemetry.Instruments.Purged, "{entry}", "Registry entries removed because the silo they point at is dead.");
        Evicted = meter.CreateCounter<long>(
            GrainRegistryTelemetry.Instruments.Evicted, "{entry}", "Registry entries removed by the entry cap.");
        meter.CreateObservableCounter(
            GrainRegistryTelemetry.Instruments.Lookups, ObserveLookups, "{lookup}", "Registry lookups by result.");
    }

    internal Counter<long> Purged { get; }

    internal Counter<long> Evicted { get; }

    /// <summary>The registry's instruments on the meter of <paramref name="maps"/>.</summary>
    internal static RegistryMetrics For(SyncMapMetrics maps) => s_byMeter.GetValue(maps, static m => new RegistryMetrics(m.Meter));

    /// <summary>Adds a registry to those <c>syncmap_registry.lookups</c> reports; it is dropped once collected.</summary>
    internal void Observe(IObservedRegistry registry) => _observed.Add(registry);

    /// <summary>
    /// Registries that share a name on one meter are summed into one series: an observable callback must not report
    /// the same tag set twice.
    /// </summary>
    private IEnumerable<Measurement<long>> ObserveLookups()
    {
        var totals = new Dictionary<string, (long Hits, long Misses)>(StringComparer.Ordinal);
        foreach (IObservedRegistry registry in _observed.Live())
        {
            if (registry.CountsLookups)
            {
                totals.TryGetValue(registry.Name, out (long Hits, long Misses) sum);
                totals[registry.Name] = (sum.Hits + registry.LookupHits, sum.Misses + registry.LookupMisses);
            }
        }

        foreach ((string name, (long hits, long misses)) in totals)
        {
            yield return new(hits, new(Tags.Name, name), new(Tags.LookupResult, GrainRegistryTelemetry.Tags.Hit));
            yield return new(misses, new(Tags.Name, name), new(Tags.LookupResult, GrainRegistryTelemetry.Tags.Miss));
        }
    }
}
