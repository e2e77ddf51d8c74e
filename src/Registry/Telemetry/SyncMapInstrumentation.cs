using System.Diagnostics;
using System.Diagnostics.Metrics;
using static SyncMapRegistry.SyncMapRegistryTelemetry;

namespace SyncMapRegistry.Telemetry;

/// <summary>A map that the observable instruments report on.</summary>
internal interface IObservedSyncMap
{
    string Name { get; }

    bool CountsReadHits { get; }

    SyncMapStatistics GetStatistics();
}

/// <summary>
/// Owns the <c>SyncMapRegistry</c> meter and activity source, and the instruments of every named map.
/// Counters are added to on slow paths only (under the lock that the path already holds); the
/// observable instruments read each live map's statistics when a listener collects.
/// </summary>
internal static class SyncMapInstrumentation
{
    internal static readonly ActivitySource ActivitySource = new(ActivitySourceName, typeof(SyncMapInstrumentation).Assembly.GetName().Version?.ToString());

    internal static readonly Meter Meter = new(MeterName, typeof(SyncMapInstrumentation).Assembly.GetName().Version?.ToString());

    internal static readonly Counter<long> Promotions = Meter.CreateCounter<long>(
        Instruments.Promotions, "{promotion}", "Times a dirty map was promoted to the read snapshot.");

    internal static readonly Counter<long> Misses = Meter.CreateCounter<long>(
        Instruments.Misses, "{miss}", "Operations that went past the read snapshot and under the lock.");

    internal static readonly Counter<long> DirtyRebuilds = Meter.CreateCounter<long>(
        Instruments.DirtyRebuilds, "{rebuild}", "Times a dirty map was rebuilt by copying the read snapshot.");

    internal static readonly Counter<long> DirtyRebuildEntries = Meter.CreateCounter<long>(
        Instruments.DirtyRebuildEntries, "{entry}", "Entries copied by dirty rebuilds.");

    internal static readonly Counter<long> Expunged = Meter.CreateCounter<long>(
        Instruments.Expunged, "{entry}", "Deleted entries expunged by dirty rebuilds.");

    internal static readonly Histogram<long> PromotionSize = Meter.CreateHistogram<long>(
        Instruments.PromotionSize, "{entry}", "Entries in each promoted read snapshot.");

    private static readonly Lock s_observedLock = new();
    private static readonly List<WeakReference<IObservedSyncMap>> s_observed = [];

    static SyncMapInstrumentation()
    {
        Meter.CreateObservableUpDownCounter(
            Instruments.Entries, ObserveEntries, "{entry}", "Keys in each tier of the map, deleted entries included.");
        Meter.CreateObservableCounter(
            Instruments.Lookups, ObserveLookups, "{lookup}", "Lookups by result; read_hit only where the map counts read hits.");
    }

    /// <summary>Adds a map to those the observable instruments report; it is dropped once collected.</summary>
    internal static void Observe(IObservedSyncMap map)
    {
        lock (s_observedLock)
        {
            s_observed.Add(new WeakReference<IObservedSyncMap>(map));
        }
    }

    private static List<IObservedSyncMap> LiveMaps()
    {
        var live = new List<IObservedSyncMap>();
        lock (s_observedLock)
        {
            s_observed.RemoveAll(reference =>
            {
                if (!reference.TryGetTarget(out IObservedSyncMap? map))
                {
                    return true;
                }

                live.Add(map);
                return false;
            });
        }

        return live;
    }

    private static IEnumerable<Measurement<long>> ObserveEntries()
    {
        foreach (IObservedSyncMap map in LiveMaps())
        {
            SyncMapStatistics statistics = map.GetStatistics();
            yield return new(statistics.ReadCount, new(Tags.Name, map.Name), new(Tags.Tier, Tags.TierRead));
            yield return new(statistics.DirtyCount, new(Tags.Name, map.Name), new(Tags.Tier, Tags.TierDirty));
        }
    }

    private static IEnumerable<Measurement<long>> ObserveLookups()
    {
        foreach (IObservedSyncMap map in LiveMaps())
        {
            SyncMapStatistics statistics = map.GetStatistics();
            if (map.CountsReadHits)
            {
                yield return new(statistics.ReadHits, new(Tags.Name, map.Name), new(Tags.Result, Tags.ReadHit));
            }

            yield return new(statistics.DirtyHits, new(Tags.Name, map.Name), new(Tags.Result, Tags.DirtyHit));
            yield return new(statistics.LookupMisses, new(Tags.Name, map.Name), new(Tags.Result, Tags.Miss));
        }
    }
}

/// <summary>
/// One named map's view of the shared instruments: it carries the map's <c>syncmap.name</c> tag.
/// Every method is called on a slow path with the map's lock held.
/// </summary>
internal sealed class SyncMapTelemetry(string name)
{
    private readonly KeyValuePair<string, object?> _nameTag = new(Tags.Name, name);

    internal string Name { get; } = name;

    internal void Missed() => SyncMapInstrumentation.Misses.Add(1, _nameTag);

    /// <summary>Starts a <c>syncmap.promote</c> span, or returns <c>null</c> when nothing listens.</summary>
    internal Activity? StartPromotion() => SyncMapInstrumentation.ActivitySource.StartActivity(Spans.Promote)?.SetTag(Tags.Name, Name);

    internal void Promoted(Activity? span, int entries, int misses)
    {
        SyncMapInstrumentation.Promotions.Add(1, _nameTag);
        SyncMapInstrumentation.PromotionSize.Record(entries, _nameTag);
        if (span is not null)
        {
            span.SetTag(Tags.Entries, entries);
            span.SetTag(Tags.Misses, misses);
            span.Dispose();
        }
    }

    /// <summary>Starts a <c>syncmap.dirty.rebuild</c> span, or returns <c>null</c> when nothing listens.</summary>
    internal Activity? StartRebuild() => SyncMapInstrumentation.ActivitySource.StartActivity(Spans.DirtyRebuild)?.SetTag(Tags.Name, Name);

    internal void Rebuilt(Activity? span, int copied, int expunged)
    {
        SyncMapInstrumentation.DirtyRebuilds.Add(1, _nameTag);
        SyncMapInstrumentation.DirtyRebuildEntries.Add(copied, _nameTag);
        if (expunged > 0)
        {
            SyncMapInstrumentation.Expunged.Add(expunged, _nameTag);
        }

        if (span is not null)
        {
            span.SetTag(Tags.Entries, copied);
            span.SetTag(Tags.ExpungedEntries, expunged);
            span.Dispose();
        }
    }
}
