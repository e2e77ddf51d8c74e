using System.Diagnostics;

namespace SyncMapRegistry.Telemetry;

/// <summary>
/// Raises the registry's telemetry (<see cref="GrainRegistryTelemetry"/>): on the map's meter
/// (<see cref="RegistryCounters.Metrics"/>) and the process-wide <c>SyncMapRegistry</c> activity source.
/// </summary>
/// <remarks>
/// Callers raise telemetry only once they hold no lock, theirs or Orleans': a listener's callback runs on the
/// caller's thread and may block or take locks of its own. Every raise goes through a guard here
/// (<c>Quietly</c>), so a listener that throws fails no registry operation.
/// </remarks>
internal static class RegistryInstrumentation
{
    /// <summary>Counts entries evicted by one batch. Call with no lock held.</summary>
    internal static void CountEvicted(RegistryCounters counters, int entries)
    {
        if (entries > 0 && counters.Metrics.Evicted.Enabled)
        {
            Quietly(() => counters.Metrics.Evicted.Add(entries, counters.NameTag));
        }
    }

    /// <summary>
    /// Records one purge walk, after it ended: the <c>syncmap_registry.purge</c> span (with the walk's start and
    /// end times, under the caller's current activity) and the <c>syncmap_registry.purged</c> count. Call with no
    /// lock held.
    /// </summary>
    internal static void RecordPurge(RegistryCounters counters, DateTimeOffset started, int removed, string[] silos)
    {
        KeyValuePair<string, object?> nameTag = counters.NameTag;
        if (removed > 0 && counters.Metrics.Purged.Enabled)
        {
            Quietly(() => counters.Metrics.Purged.Add(removed, nameTag));
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
}
