using System.Diagnostics;
using System.Diagnostics.Metrics;
using static SyncMapRegistry.SyncMapRegistryTelemetry;

namespace SyncMapRegistry.Telemetry;

/// <summary>A registry map that <c>registry.lookups</c> reports on.</summary>
internal interface IObservedRegistry
{
    string Name { get; }

    /// <summary><c>false</c> when the registry does not count lookups; it then reports nothing.</summary>
    bool CountsLookups { get; }

    long LookupHits { get; }

    long LookupMisses { get; }
}

/// <summary>
/// The registry's instruments and spans, on <see cref="SyncMapInstrumentation"/>'s meter and activity source:
/// <c>registry.lookups</c> (observable, summed from each registry's striped cells when a listener collects),
/// <c>registry.purged</c>, <c>registry.evicted</c> and the <c>registry.purge</c> span.
/// </summary>
internal static class RegistryInstrumentation
{
    internal static readonly Counter<long> Purged = SyncMapInstrumentation.Meter.CreateCounter<long>(
        GrainRegistryTelemetry.Instruments.Purged, "{entry}", "Registry entries removed because the silo they point at is dead or has left.");

    internal static readonly Counter<long> Evicted = SyncMapInstrumentation.Meter.CreateCounter<long>(
        GrainRegistryTelemetry.Instruments.Evicted, "{entry}", "Registry entries removed by the entry cap.");

    /// <summary>The registries that <c>registry.lookups</c> reports on.</summary>
    private static readonly ObservedSet<IObservedRegistry> s_observed = new();

    static RegistryInstrumentation()
    {
        SyncMapInstrumentation.Meter.CreateObservableCounter(
            GrainRegistryTelemetry.Instruments.Lookups, ObserveLookups, "{lookup}", "Registry lookups by result.");
    }

    /// <summary>Adds a registry to those <c>registry.lookups</c> reports; it is dropped once collected.</summary>
    internal static void Observe(IObservedRegistry registry) => s_observed.Add(registry);

    /// <summary>Starts a <c>registry.purge</c> span, or returns <c>null</c> when nothing listens.</summary>
    internal static Activity? StartPurge(string name, object silo) =>
        SyncMapInstrumentation.ActivitySource.StartActivity(GrainRegistryTelemetry.Spans.Purge)
            ?.SetTag(Tags.Name, name)
            .SetTag(GrainRegistryTelemetry.Tags.Silo, silo.ToString());

    /// <summary>Counts purged entries and ends the span with the count.</summary>
    internal static void Purge(Activity? span, KeyValuePair<string, object?> nameTag, int removed)
    {
        if (removed > 0)
        {
            Purged.Add(removed, nameTag);
        }

        if (span is not null)
        {
            span.SetTag(GrainRegistryTelemetry.Tags.Removed, removed);
            span.Dispose();
        }
    }

    /// <summary>
    /// Registries that share a name (several silos in one process) are summed into one series: an observable
    /// callback must not report the same tag set twice.
    /// </summary>
    private static IEnumerable<Measurement<long>> ObserveLookups()
    {
        var totals = new Dictionary<string, (long Hits, long Misses)>(StringComparer.Ordinal);
        foreach (IObservedRegistry registry in s_observed.Live())
        {
            if (registry.CountsLookups)
            {
                totals.TryGetValue(registry.Name, out (long Hits, long Misses) sum);
                totals[registry.Name] = (sum.Hits + registry.LookupHits, sum.Misses + registry.LookupMisses);
            }
        }

        foreach ((string name, (long hits, long misses)) in totals)
        {
            yield return new(hits, new(Tags.Name, name), new(GrainRegistryTelemetry.Tags.Result, GrainRegistryTelemetry.Tags.Hit));
            yield return new(misses, new(Tags.Name, name), new(GrainRegistryTelemetry.Tags.Result, GrainRegistryTelemetry.Tags.Miss));
        }
    }
}
