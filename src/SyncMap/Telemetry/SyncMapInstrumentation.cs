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

    /// <summary>
    /// Bucketed by powers of 4 up to 4^11 (about 4 million entries): the SDK's default boundaries are meant for
    /// milliseconds and would put every map of more than 10,000 entries into one bucket.
    /// </summary>
    internal static readonly Histogram<long> PromotionSize = Meter.CreateHistogram(
        Instruments.PromotionSize,
        "{entry}",
        "Entries in each promoted read snapshot.",
        tags: null,
        new InstrumentAdvice<long> { HistogramBucketBoundaries = [0, 4, 16, 64, 256, 1_024, 4_096, 16_384, 65_536, 262_144, 1_048_576, 4_194_304] });

    /// <summary>The named maps that the observable instruments report on.</summary>
    private static readonly ObservedSet<IObservedSyncMap> s_observed = new();

    static SyncMapInstrumentation()
    {
        Meter.CreateObservableUpDownCounter(
            Instruments.Entries, ObserveEntries, "{entry}", "Keys in each tier of the map, deleted entries included.");
        Meter.CreateObservableCounter(
            Instruments.Lookups, ObserveLookups, "{lookup}", "Lookups by result; read_hit only where the map counts read hits.");
    }

    /// <summary>Adds a map to those the observable instruments report; it is dropped once collected.</summary>
    internal static void Observe(IObservedSyncMap map) => s_observed.Add(map);

    // Maps that share a name are summed into one series: an observable callback must not report the same
    // tag set twice (the SDK would keep only one of the values).
    private static IEnumerable<Measurement<long>> ObserveEntries()
    {
        foreach ((string name, Totals totals) in TotalsByName())
        {
            yield return new(totals.Read, new(Tags.Name, name), new(Tags.Tier, Tags.TierRead));
            yield return new(totals.Dirty, new(Tags.Name, name), new(Tags.Tier, Tags.TierDirty));
        }
    }

    private static IEnumerable<Measurement<long>> ObserveLookups()
    {
        foreach ((string name, Totals totals) in TotalsByName())
        {
            if (totals.CountsReadHits)
            {
                yield return new(totals.ReadHits, new(Tags.Name, name), new(Tags.Result, Tags.ReadHit));
            }

            yield return new(totals.DirtyHits, new(Tags.Name, name), new(Tags.Result, Tags.DirtyHit));
            yield return new(totals.Misses, new(Tags.Name, name), new(Tags.Result, Tags.Miss));
        }
    }

    private static Dictionary<string, Totals> TotalsByName()
    {
        var totals = new Dictionary<string, Totals>(StringComparer.Ordinal);
        foreach (IObservedSyncMap map in s_observed.Live())
        {
            SyncMapStatistics statistics = map.GetStatistics();
            totals.TryGetValue(map.Name, out Totals sum);
            totals[map.Name] = new Totals(
                sum.Read + statistics.ReadCount,
                sum.Dirty + statistics.DirtyCount,
                sum.CountsReadHits || map.CountsReadHits,
                sum.ReadHits + statistics.ReadHits,
                sum.DirtyHits + statistics.DirtyHits,
                sum.Misses + statistics.LookupMisses);
        }

        return totals;
    }

    private readonly record struct Totals(long Read, long Dirty, bool CountsReadHits, long ReadHits, long DirtyHits, long Misses);
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
    internal Activity? StartPromotion() => Start(Spans.Promote);

    internal void Promoted(Activity? span, int entries, int misses)
    {
        SyncMapInstrumentation.Promotions.Add(1, _nameTag);
        SyncMapInstrumentation.PromotionSize.Record(entries, _nameTag);
        if (span is not null)
        {
            if (span.IsAllDataRequested)
            {
                span.SetTag(Tags.Entries, entries);
                span.SetTag(Tags.Misses, misses);
            }

            span.Dispose();
        }
    }

    /// <summary>Starts a <c>syncmap.dirty.rebuild</c> span, or returns <c>null</c> when nothing listens.</summary>
    internal Activity? StartRebuild() => Start(Spans.DirtyRebuild);

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
            if (span.IsAllDataRequested)
            {
                span.SetTag(Tags.Entries, copied);
                span.SetTag(Tags.ExpungedEntries, expunged);
            }

            span.Dispose();
        }
    }

    /// <summary>
    /// Starts a span under <see cref="Activity.Current"/> (inside a grain call: Orleans' call span), or returns
    /// <c>null</c> when no listener samples it; tags are set only when the span records them.
    /// </summary>
    private Activity? Start(string spanName)
    {
        Activity? span = SyncMapInstrumentation.ActivitySource.StartActivity(spanName);
        if (span is { IsAllDataRequested: true })
        {
            span.SetTag(Tags.Name, Name);
        }

        return span;
    }
}
