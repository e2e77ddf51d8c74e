using System.Diagnostics;
using System.Diagnostics.Metrics;
using static SyncMapRegistry.SyncMapRegistryTelemetry;

namespace SyncMapRegistry.Telemetry;

/// <summary>A registry map that <c>syncmap_registry.lookups</c> reports on.</summary>
internal interface IObservedRegistry
{
    string Name { get; }

    /// <summary><c>false</c> when the registry does not count lookups; it then reports nothing.</summary>
    bool CountsLookups { get; }

    long LookupHits { get; }

    long LookupMisses { get; }
}

/// <summary>
/// The registry's instruments and span (<see cref="GrainRegistryTelemetry"/>), on <see cref="SyncMapInstrumentation"/>'s
/// meter and activity source.
/// </summary>
/// <remarks>
/// Callers raise telemetry only once they hold no lock, theirs or Orleans': a listener's callback runs on the
/// caller's thread and may block or take locks of its own. Every raise goes through a guard here
/// (<c>Quietly</c>), so a listener that throws fails no registry operation.
/// </remarks>
internal static class RegistryInstrumentation
{
    internal static readonly Counter<long> Purged = SyncMapInstrumentation.Meter.CreateCounter<long>(
        GrainRegistryTelemetry.Instruments.Purged, "{entry}", "Registry entries removed because the silo they point at is dead.");

    internal static readonly Counter<long> Evicted = SyncMapInstrumentation.Meter.CreateCounter<long>(
        GrainRegistryTelemetry.Instruments.Evicted, "{entry}", "Registry entries removed by the entry cap.");

    /// <summary>The registries that <c>syncmap_registry.lookups</c> reports on.</summary>
    private static readonly ObservedSet<IObservedRegistry> s_observed = new();

    static RegistryInstrumentation()
    {
        SyncMapInstrumentation.Meter.CreateObservableCounter(
            GrainRegistryTelemetry.Instruments.Lookups, ObserveLookups, "{lookup}", "Registry lookups by result.");
    }

    /// <summary>Adds a registry to those <c>syncmap_registry.lookups</c> reports; it is dropped once collected.</summary>
    internal static void Observe(IObservedRegistry registry) => s_observed.Add(registry);

    /// <summary>Counts entries evicted by one batch. Call with no lock held.</summary>
    internal static void CountEvicted(KeyValuePair<string, object?> nameTag, int entries)
    {
        if (entries > 0 && Evicted.Enabled)
        {
            Quietly(() => Evicted.Add(entries, nameTag));
        }
    }

    /// <summary>
    /// Records one purge walk, after it ended: the <c>syncmap_registry.purge</c> span (with the walk's start and
    /// end times, under the caller's current activity) and the <c>syncmap_registry.purged</c> count. Call with no
    /// lock held.
    /// </summary>
    internal static void RecordPurge(KeyValuePair<string, object?> nameTag, DateTimeOffset started, int removed, string[] silos)
    {
        if (removed > 0 && Purged.Enabled)
        {
            Quietly(() => Purged.Add(removed, nameTag));
        }

        if (!SyncMapInstrumentation.ActivitySource.HasListeners())
        {
            return;
        }

        // Starting and stopping a span sets Activity.Current; a listener that throws in between must not leave
        // the caller's thread on our span.
        Activity? current = Activity.Current;
        Quietly(() =>
        {
            using Activity? span = SyncMapInstrumentation.ActivitySource.StartActivity(
                GrainRegistryTelemetry.Spans.Purge, ActivityKind.Internal, parentContext: default, tags: null, links: null, started);
            span?.SetTag(nameTag.Key, nameTag.Value)
                .SetTag(GrainRegistryTelemetry.Tags.PurgedEntries, removed)
                .SetTag(GrainRegistryTelemetry.Tags.PurgedSilos, silos);
        });
        Activity.Current = current;
    }

    /// <summary>
    /// Runs a raise of telemetry; a listener's exception is dropped, as an exporter's would be, rather than
    /// failing the operation that raised it.
    /// </summary>
    private static void Quietly(Action raise)
    {
        try
        {
            raise();
        }
        catch (Exception)
        {
            // A listener failed; the registry operation that raised the telemetry goes on regardless.
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
            yield return new(hits, new(Tags.Name, name), new(GrainRegistryTelemetry.Tags.LookupResult, GrainRegistryTelemetry.Tags.Hit));
            yield return new(misses, new(Tags.Name, name), new(GrainRegistryTelemetry.Tags.LookupResult, GrainRegistryTelemetry.Tags.Miss));
        }
    }
}
