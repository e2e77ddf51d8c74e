using System.Diagnostics.Metrics;
using static SyncMapRegistry.SyncMapRegistryTelemetry;

namespace SyncMapRegistry.Telemetry;

/// <summary>
/// The map instruments of one <c>SyncMapRegistry</c> meter (<see cref="SyncMapInstrumentation.For"/>), and the maps
/// its observable instruments report on. Nothing here is called while a map holds its lock: the maps report what
/// their slow paths did after releasing it (<see cref="SyncMapTelemetry.Report"/>), and the observable instruments
/// read each map's <see cref="SyncMapCounters"/> without any lock.
/// </summary>
internal sealed class SyncMapMetrics
{
    /// <summary>The named maps' telemetry that the observable instruments report on, held weakly.</summary>
    private readonly ObservedSet<SyncMapTelemetry> _observed = new();

    internal SyncMapMetrics(Meter meter)
    {
        Meter = meter;
        Promotions = meter.CreateCounter<long>(
            Instruments.Promotions, "{promotion}", "Promotions: a shard's live snapshot entries and its dirty map's merged into a new read snapshot.");

        // Bucketed by powers of 4 up to 4^11 (about 4 million entries): the SDK's default boundaries are meant for
        // milliseconds and would put every map of more than 10,000 entries into one bucket.
        PromotionSize = meter.CreateHistogram(
            Instruments.PromotionSize,
            "{entry}",
            "Entries in the read snapshot built by each promotion, all of them copied.",
            tags: null,
            new InstrumentAdvice<long> { HistogramBucketBoundaries = [0, 4, 16, 64, 256, 1_024, 4_096, 16_384, 65_536, 262_144, 1_048_576, 4_194_304] });
        Expunged = meter.CreateCounter<long>(
            Instruments.Expunged, "{entry}", "Deleted entries expunged (left out of the new snapshot) by promotions.");
        Misses = meter.CreateCounter<long>(
            Instruments.Misses, "{miss}", "Operations that went past the read snapshot to the dirty map (Go's misses).");
        meter.CreateObservableUpDownCounter(
            Instruments.EntryCount, ObserveEntryCount, "{entry}", "Keys in each tier of the map, deleted entries included.");
        meter.CreateObservableCounter(
            Instruments.Lookups, ObserveLookups, "{lookup}", "Lookups by result; read_hit only where the map counts read hits.");
    }

    /// <summary>The meter these instruments are on; the registry adds its own instruments to it.</summary>
    internal Meter Meter { get; }

    internal Counter<long> Promotions { get; }

    internal Histogram<long> PromotionSize { get; }

    internal Counter<long> Expunged { get; }

    internal Counter<long> Misses { get; }

    /// <summary>Adds a map's telemetry to what the observable instruments report; it is dropped once collected with its map.</summary>
    internal void Observe(SyncMapTelemetry telemetry) => _observed.Add(telemetry);

    // Maps that share a name on one meter are summed into one series: an observable callback must not report the
    // same tag set twice (the SDK would keep only one of the values).
    private IEnumerable<Measurement<long>> ObserveEntryCount()
    {
        foreach ((string name, Totals totals) in TotalsByName())
        {
            yield return new(totals.Read, new(Tags.Name, name), new(Tags.Tier, Tags.TierRead));
            yield return new(totals.Dirty, new(Tags.Name, name), new(Tags.Tier, Tags.TierDirty));
        }
    }

    private IEnumerable<Measurement<long>> ObserveLookups()
    {
        foreach ((string name, Totals totals) in TotalsByName())
        {
            if (totals.CountsReadHits)
            {
                yield return new(totals.ReadHits, new(Tags.Name, name), new(Tags.LookupResult, Tags.ReadHit));
            }

            yield return new(totals.DirtyHits, new(Tags.Name, name), new(Tags.LookupResult, Tags.DirtyHit));
            yield return new(totals.Misses, new(Tags.Name, name), new(Tags.LookupResult, Tags.Miss));
        }
    }

    private Dictionary<string, Totals> TotalsByName()
    {
        var totals = new Dictionary<string, Totals>(StringComparer.Ordinal);
        foreach (SyncMapTelemetry map in _observed.Live())
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
