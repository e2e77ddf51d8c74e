using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Diagnostics.Metrics;
using static SyncMapRegistry.SyncMapRegistryTelemetry;

namespace SyncMapRegistry.Telemetry;

/// <summary>
/// Owns the <c>SyncMapRegistry</c> meter and activity source, and the instruments of every named map.
/// Nothing here is called while a map holds its lock: the maps report what their slow paths did after
/// releasing it (<see cref="SyncMapTelemetry.Report"/>), and the observable instruments read each map's
/// <see cref="SyncMapCounters"/> without any lock.
/// </summary>
internal static class SyncMapInstrumentation
{
    internal static readonly ActivitySource ActivitySource = new(ActivitySourceName, typeof(SyncMapInstrumentation).Assembly.GetName().Version?.ToString());

    internal static readonly Meter Meter = new(MeterName, typeof(SyncMapInstrumentation).Assembly.GetName().Version?.ToString());

    internal static readonly Counter<long> Promotions = Meter.CreateCounter<long>(
        Instruments.Promotions, "{promotion}", "Times a shard's dirty map was promoted into a new read snapshot.");

    internal static readonly Counter<long> Misses = Meter.CreateCounter<long>(
        Instruments.Misses, "{miss}", "Operations that went past the read snapshot and under the lock.");

    internal static readonly Counter<long> DirtyRebuilds = Meter.CreateCounter<long>(
        Instruments.DirtyRebuilds, "{rebuild}", "Snapshots rebuilt by promotions, each copying a shard's live snapshot entries and its dirty map's.");

    internal static readonly Counter<long> DirtyRebuildEntries = Meter.CreateCounter<long>(
        Instruments.DirtyRebuildEntries, "{entry}", "Entries copied by those rebuilds.");

    internal static readonly Counter<long> Expunged = Meter.CreateCounter<long>(
        Instruments.Expunged, "{entry}", "Deleted entries expunged (left out) by those rebuilds.");

    /// <summary>
    /// Bucketed by powers of 4 up to 4^11 (about 4 million entries): the SDK's default boundaries are meant for
    /// milliseconds and would put every map of more than 10,000 entries into one bucket.
    /// </summary>
    internal static readonly Histogram<long> PromotionSize = Meter.CreateHistogram(
        Instruments.PromotionSize,
        "{entry}",
        "Entries in the read snapshot built by each promotion.",
        tags: null,
        new InstrumentAdvice<long> { HistogramBucketBoundaries = [0, 4, 16, 64, 256, 1_024, 4_096, 16_384, 65_536, 262_144, 1_048_576, 4_194_304] });

    /// <summary>The named maps' telemetry that the observable instruments report on, held weakly.</summary>
    private static readonly ObservedSet<SyncMapTelemetry> s_observed = new();

    static SyncMapInstrumentation()
    {
        Meter.CreateObservableUpDownCounter(
            Instruments.Entries, ObserveEntries, "{entry}", "Keys in each tier of the map, deleted entries included.");
        Meter.CreateObservableCounter(
            Instruments.Lookups, ObserveLookups, "{lookup}", "Lookups by result; read_hit only where the map counts read hits.");
    }

    /// <summary>Adds a map's telemetry to what the observable instruments report; it is dropped once collected with its map.</summary>
    internal static void Observe(SyncMapTelemetry telemetry) => s_observed.Add(telemetry);

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
        foreach (SyncMapTelemetry map in s_observed.Live())
        {
            SyncMapStatistics statistics = map.Counters.Read();
            totals.TryGetValue(map.Name, out Totals sum);
            totals[map.Name] = new Totals(
                sum.Read + statistics.ReadCount,
                sum.Dirty + statistics.DirtyCount,
                sum.CountsReadHits || map.Counters.CountsReadHits,
                sum.ReadHits + statistics.ReadHits,
                sum.DirtyHits + statistics.DirtyHits,
                sum.Misses + statistics.LookupMisses);
        }

        return totals;
    }

    private readonly record struct Totals(long Read, long Dirty, bool CountsReadHits, long ReadHits, long DirtyHits, long Misses);
}

/// <summary>
/// One named map's telemetry: it carries the map's <c>syncmap.name</c> tag, registers itself with the
/// observable instruments, and turns what a slow path did (<see cref="SlowPathEvents"/>) into counters and spans.
/// The map calls it only after releasing its lock. A listener that throws fails nothing: the exception is
/// swallowed and <see cref="Activity.Current"/> is put back as it was.
/// </summary>
internal sealed class SyncMapTelemetry
{
    private readonly KeyValuePair<string, object?> _nameTag;

    internal SyncMapTelemetry(string name, SyncMapCounters counters)
    {
        Name = name;
        Counters = counters;
        _nameTag = new(Tags.Name, name);
        SyncMapInstrumentation.Observe(this);
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
                SyncMapInstrumentation.Misses.Add(events.Misses, _nameTag);
            }

            if (events.Rebuilds > 0)
            {
                Rebuilt(events);
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

    private void Rebuilt(in SlowPathEvents events)
    {
        SyncMapInstrumentation.DirtyRebuilds.Add(events.Rebuilds, _nameTag);
        SyncMapInstrumentation.DirtyRebuildEntries.Add(events.RebuildCopied, _nameTag);
        if (events.RebuildExpunged > 0)
        {
            SyncMapInstrumentation.Expunged.Add(events.RebuildExpunged, _nameTag);
        }

        Span(Spans.DirtyRebuild, events.RebuildStart, events.RebuildEnd, Tags.Entries, events.RebuildCopied, Tags.ExpungedEntries, events.RebuildExpunged);
    }

    private void Promoted(in SlowPathEvents events)
    {
        SyncMapInstrumentation.Promotions.Add(events.Promotions, _nameTag);
        SyncMapInstrumentation.PromotionSize.Record(events.PromotedEntries, _nameTag);
        Span(Spans.Promote, events.PromoteStart, events.PromoteEnd, Tags.Entries, events.PromotedEntries, Tags.Misses, events.PromotedMisses);
    }

    /// <summary>
    /// Records a span that already happened (under the lock), with its own start and end times, as a child of
    /// <see cref="Activity.Current"/> (inside a grain call: Orleans' call span). Nothing is made when nobody samples it.
    /// </summary>
    private void Span(string spanName, DateTime start, DateTime end, string firstTag, int first, string secondTag, int second)
    {
        if (start == default)
        {
            // Nobody listened when the work started.
            return;
        }

        // The tags go in at the start, so that samplers and listeners see which map the span is about.
        KeyValuePair<string, object?>[] tags = [_nameTag, new(firstTag, first), new(secondTag, second)];
        Activity? span = SyncMapInstrumentation.ActivitySource.StartActivity(
            spanName, ActivityKind.Internal, parentContext: default, tags, links: null, startTime: start);
        if (span is null)
        {
            return;
        }

        span.SetEndTime(end);
        span.Stop();
    }
}

/// <summary>
/// What a map's slow path did under the lock, for its telemetry to report once the lock is released.
/// Times are set only when something listened to spans when the work started (see <see cref="SyncMapTelemetry.TracesSpans"/>).
/// </summary>
internal struct SlowPathEvents
{
    /// <summary>Misses counted (Go's <c>misses</c>).</summary>
    internal int Misses;

    /// <summary>Shards promoted (one, or every amended shard when a walk promotes).</summary>
    internal int Promotions;

    /// <summary>Entries of the snapshots promoted, summed.</summary>
    internal int PromotedEntries;

    /// <summary>Misses that led to the promotions, summed.</summary>
    internal int PromotedMisses;
    internal DateTime PromoteStart;
    internal DateTime PromoteEnd;

    /// <summary>Snapshots rebuilt by the promotions (one each), with the entries they copied and expunged, summed.</summary>
    internal int Rebuilds;
    internal int RebuildCopied;
    internal int RebuildExpunged;
    internal DateTime RebuildStart;
    internal DateTime RebuildEnd;

    /// <summary>Whether there is anything to report.</summary>
    internal readonly bool Any => Misses > 0 || Promotions > 0 || Rebuilds > 0;
}
