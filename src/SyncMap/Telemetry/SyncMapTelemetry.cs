using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using static SyncMapRegistry.SyncMapRegistryTelemetry;

namespace SyncMapRegistry.Telemetry;

/// <summary>
/// One named map's telemetry: it carries the map's <c>syncmap.name</c> tag, registers itself with its meter's
/// observable instruments, and turns what a slow path did (<see cref="SlowPathEvents"/>) into counters and spans.
/// The map calls it only after releasing its lock. A listener that throws fails nothing: the exception is
/// swallowed and <see cref="Activity.Current"/> is put back as it was.
/// </summary>
internal sealed class SyncMapTelemetry
{
    private readonly KeyValuePair<string, object?> _nameTag;
    private readonly SyncMapMetrics _metrics;

    internal SyncMapTelemetry(string name, SyncMapCounters counters, SyncMapMetrics metrics)
    {
        Name = name;
        Counters = counters;
        _metrics = metrics;
        _nameTag = new(Tags.Name, name);
        metrics.Observe(this);
    }

    internal string Name { get; }

    /// <summary>The map's counters; the observable instruments read them without a lock.</summary>
    internal SyncMapCounters Counters { get; }

    /// <summary>Whether span times are worth taking: something listens to the activity source.</summary>
    internal static bool TracesSpans => SyncMapInstrumentation.ActivitySource.HasListeners();

    /// <summary>Raises the counters and spans for what a slow path did. Never throws; call it while the map holds no lock.</summary>
    [SuppressMessage("Design", "CA1031:Do not catch general exception types", Justification = "A failing telemetry listener must fail no map operation.")]
    internal void Report(in SlowPathEvents events)
    {
        Activity? current = Activity.Current;
        try
        {
            if (events.Misses > 0)
            {
                _metrics.Misses.Add(events.Misses, _nameTag);
            }

            if (events.Promotions > 0)
            {
                Promoted(events);
            }
        }
        catch (Exception)
        {
            // A listener threw: the operation itself has completed, and telemetry is best effort.
        }
        finally
        {
            if (!ReferenceEquals(Activity.Current, current))
            {
                Activity.Current = current;
            }
        }
    }

    private void Promoted(in SlowPathEvents events)
    {
        _metrics.Promotions.Add(events.Promotions, _nameTag);
        _metrics.PromotionSize.Record(events.PromotedEntries, _nameTag);
        if (events.PromotedExpunged > 0)
        {
            _metrics.Expunged.Add(events.PromotedExpunged, _nameTag);
        }

        if (events.PromoteStart == default)
        {
            // Nobody listened to spans when the promotion started.
            return;
        }

        // Recorded after the fact (the promotion ran under the lock), with its own start and end times, as a child of
        // Activity.Current (inside a grain call: Orleans' call span). The tags go in at the start, so that samplers and
        // listeners see which map the span is about. Nothing is made when nobody samples it.
        KeyValuePair<string, object?>[] tags =
        [
            _nameTag,
            new(Tags.PromotionEntries, events.PromotedEntries),
            new(Tags.PromotionMisses, events.PromotedMisses),
            new(Tags.PromotionExpunged, events.PromotedExpunged),
        ];
        Activity? span = SyncMapInstrumentation.ActivitySource.StartActivity(
            Spans.Promote, ActivityKind.Internal, parentContext: default, tags, links: null, startTime: events.PromoteStart);
        if (span is null)
        {
            return;
        }

        span.SetEndTime(events.PromoteEnd);
        span.Stop();
    }
}
