using OpenTelemetry.Metrics;
using static SyncMapRegistry.SyncMapRegistryTelemetry;

namespace SyncMapRegistry.Tests.Telemetry;

public sealed class SyncMapMetricsTests
{
    private static string UniqueName(string test) => $"{test}-{Guid.NewGuid():N}";

    [Fact]
    public void ScriptedScenarioReportsExactlyTheCountsTheDesignPredicts()
    {
        using var probe = new MetricsProbe();
        string name = UniqueName(nameof(ScriptedScenarioReportsExactlyTheCountsTheDesignPredicts));

        SyncMap<int, string> map = ScriptedScenario.Run(name);
        MapMetrics metrics = probe.Collect(name);

        Assert.Equal(ScriptedScenario.Promotions, metrics.Sum(Instruments.Promotions));
        Assert.Equal(ScriptedScenario.Misses, metrics.Sum(Instruments.Misses));
        Assert.Equal(ScriptedScenario.Expunged, metrics.Sum(Instruments.Expunged));

        MetricPoint sizes = Assert.Single(metrics.Points(Instruments.PromotionSize));
        Assert.Equal(ScriptedScenario.Promotions, sizes.GetHistogramCount());
        Assert.Equal(ScriptedScenario.EntriesCopied, sizes.GetHistogramSum());
        Assert.True(sizes.TryGetHistogramMinMaxValues(out double min, out double max));
        Assert.Equal((10d, 11d), (min, max));

        // The map's own statistics tell the same story as the exported metrics.
        SyncMapStatistics statistics = map.GetStatistics();
        Assert.Equal(
            (ScriptedScenario.Promotions, ScriptedScenario.Misses, ScriptedScenario.EntriesCopied, ScriptedScenario.Expunged),
            (statistics.Promotions, statistics.Misses, statistics.EntriesCopied, statistics.EntriesExpunged));
    }

    [Fact]
    public void AWalkOverManyAmendedShardsPromotesThemOneShardPerHoldOfALock()
    {
        using var probe = new MetricsProbe();
        string name = UniqueName(nameof(AWalkOverManyAmendedShardsPromotesThemOneShardPerHoldOfALock));
        var map = new SyncMap<int, int>(new SyncMapOptions { Name = name });
        const int Keys = 40_000;
        for (int key = 0; key < Keys; key++)
        {
            map.Store(key, key);
        }

        map.Range(static (_, _) => true);
        long promotionsBefore = map.GetStatistics().Promotions;
        MapMetrics before = probe.Collect(name);
        long batchesBefore = Assert.Single(before.Points(Instruments.PromotionSize)).GetHistogramCount();

        // A new key in nearly every shard: the walk must promote them all before it walks.
        for (int key = Keys; key < Keys + 2_000; key++)
        {
            map.Store(key, key);
        }

        int visited = 0;
        map.Range((_, _) =>
        {
            visited++;
            return true;
        });
        Assert.Equal(Keys + 2_000, visited);
        Assert.Equal(0, map.GetStatistics().DirtyCount);

        // Each promotion is reported on its own (one shard under its own lock), and none copies more than one shard
        // (MaximumShardEntries entries), however many shards are amended.
        long promotions = map.GetStatistics().Promotions - promotionsBefore;
        Assert.True(promotions > 20, $"Only {promotions} shards were amended.");
        MetricPoint sizes = Assert.Single(probe.Collect(name).Points(Instruments.PromotionSize));
        Assert.True(sizes.TryGetHistogramMinMaxValues(out _, out double largest));
        Assert.InRange(largest, 1, SyncTable<int>.MaximumShardEntries);
        Assert.True(sizes.GetHistogramCount() - batchesBefore > 1, "The walk promoted every shard at once.");
    }

    [Fact]
    public void EntryCountReportsTheSizeOfEachTierMidwayAndAfterThePromotion()
    {
        using var probe = new MetricsProbe();
        string name = UniqueName(nameof(EntryCountReportsTheSizeOfEachTierMidwayAndAfterThePromotion));
        MapMetrics? midway = null;

        ScriptedScenario.Run(name, () => midway = probe.Collect(name));
        MapMetrics final = probe.Collect(name);

        Assert.NotNull(midway);
        Assert.Equal(ScriptedScenario.MidwayRead, midway.Sum(Instruments.EntryCount, (Tags.Tier, Tags.TierRead)));
        Assert.Equal(ScriptedScenario.MidwayDirty, midway.Sum(Instruments.EntryCount, (Tags.Tier, Tags.TierDirty)));
        Assert.Equal(ScriptedScenario.FinalRead, final.Sum(Instruments.EntryCount, (Tags.Tier, Tags.TierRead)));
        Assert.Equal(ScriptedScenario.FinalDirty, final.Sum(Instruments.EntryCount, (Tags.Tier, Tags.TierDirty)));
        Assert.Equal(2, final.Points(Instruments.EntryCount).Count);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void LookupsReportEachResultAndReadHitsOnlyWhenTheMapCountsThem(bool countReadHits)
    {
        using var probe = new MetricsProbe();
        string name = UniqueName(nameof(LookupsReportEachResultAndReadHitsOnlyWhenTheMapCountsThem));
        var map = new SyncMap<int, string>(new SyncMapOptions { Name = name, CountReadHits = countReadHits });

        // Keys 0..3 are new: dirty holds 4.
        for (int key = 0; key < 4; key++)
        {
            map.Store(key, $"v{key}");
        }

        // First round: 4 dirty hits, 4 misses; the 4th reaches the snapshot's and dirty's size (0 + 4) and promotes.
        // Second round: 4 read hits, served by the snapshot.
        for (int round = 0; round < 2; round++)
        {
            for (int key = 0; key < 4; key++)
            {
                Assert.True(map.TryGetValue(key, out _));
            }
        }

        // Nothing is pending (not amended): an absent key is answered by the snapshot alone and counted nowhere.
        Assert.False(map.TryGetValue(42, out _));

        // A new key makes dirty again (read 4, dirty 1). The absent key 42 was never pending, so the pending-key
        // filter answers it without the lock: still counted nowhere. Key 5 is stored and deleted again (removed
        // from dirty), so the filter holds it: its lookup goes under the lock and finds nothing: 1 miss.
        map.Store(4, "v4");
        Assert.False(map.TryGetValue(42, out _));
        map.Store(5, "v5");
        Assert.True(map.Delete(5));
        Assert.False(map.TryGetValue(5, out _));

        MapMetrics metrics = probe.Collect(name);
        Assert.Equal(4, metrics.Sum(Instruments.Lookups, (Tags.LookupResult, Tags.DirtyHit)));
        Assert.Equal(1, metrics.Sum(Instruments.Lookups, (Tags.LookupResult, Tags.Miss)));
        if (countReadHits)
        {
            Assert.Equal(4, metrics.Sum(Instruments.Lookups, (Tags.LookupResult, Tags.ReadHit)));
        }
        else
        {
            Assert.False(metrics.Has(Instruments.Lookups, (Tags.LookupResult, Tags.ReadHit)));
        }

        Assert.Equal(4, metrics.Sum(Instruments.EntryCount, (Tags.Tier, Tags.TierRead)));
        Assert.Equal(1, metrics.Sum(Instruments.EntryCount, (Tags.Tier, Tags.TierDirty)));
    }

    [Fact]
    public void MapsThatShareANameReportOneSeriesWithTheirSum()
    {
        using var probe = new MetricsProbe();
        string name = UniqueName(nameof(MapsThatShareANameReportOneSeriesWithTheirSum));
        var first = new SyncMap<int, int>(new SyncMapOptions { Name = name });
        var second = new SyncMap<int, int>(new SyncMapOptions { Name = name, CountReadHits = true });
        first.Store(1, 1);
        first.Store(2, 2);
        second.Store(1, 1);

        MapMetrics metrics = probe.Collect(name);

        Assert.Equal(3, metrics.Sum(Instruments.EntryCount, (Tags.Tier, Tags.TierDirty)));
        Assert.Equal(0, metrics.Sum(Instruments.Lookups, (Tags.LookupResult, Tags.ReadHit)));
        GC.KeepAlive(first);
        GC.KeepAlive(second);
    }

    [Fact]
    public void PromotionSizesFallIntoBucketsMadeForEntryCounts()
    {
        using var probe = new MetricsProbe();
        string name = UniqueName(nameof(PromotionSizesFallIntoBucketsMadeForEntryCounts));

        ScriptedScenario.Run(name);
        MetricPoint sizes = Assert.Single(probe.Collect(name).Points(Instruments.PromotionSize));

        var buckets = new List<(double Bound, long Count)>();
        foreach (HistogramBucket bucket in sizes.GetHistogramBuckets())
        {
            buckets.Add((bucket.ExplicitBound, bucket.BucketCount));
        }

        // Powers of 4, not the SDK's millisecond defaults (which end at 10,000 and would split 10 from 11).
        Assert.Equal(
            [0, 4, 16, 64, 256, 1_024, 4_096, 16_384, 65_536, 262_144, 1_048_576, 4_194_304, double.PositiveInfinity],
            buckets.Select(bucket => bucket.Bound));
        Assert.Equal(2, buckets.Single(bucket => bucket.Bound == 16).Count);
    }

    [Fact]
    public void EveryInstrumentHasItsDocumentedUnitTypeAndDescriptionAndCarriesOnlyBoundedTags()
    {
        using var probe = new MetricsProbe();
        string name = UniqueName(nameof(EveryInstrumentHasItsDocumentedUnitTypeAndDescriptionAndCarriesOnlyBoundedTags));

        ScriptedScenario.Run(name);
        MapMetrics metrics = probe.Collect(name);

        (string Name, string Unit, MetricType Type)[] expected =
        [
            (Instruments.Promotions, "{promotion}", MetricType.LongSum),
            (Instruments.Misses, "{miss}", MetricType.LongSum),
            (Instruments.Expunged, "{entry}", MetricType.LongSum),
            (Instruments.PromotionSize, "{entry}", MetricType.Histogram),
            (Instruments.EntryCount, "{entry}", MetricType.LongSumNonMonotonic),
            (Instruments.Lookups, "{lookup}", MetricType.LongSum),
        ];
        foreach ((string instrument, string unit, MetricType type) in expected)
        {
            MetricSnapshot metric = Assert.Single(metrics.All, metric => metric.Name == instrument);
            Assert.Equal((MeterName, unit, type), (metric.MeterName, metric.Unit, metric.MetricType));
            Assert.False(string.IsNullOrWhiteSpace(metric.Description), $"{instrument} has no description.");
            Assert.NotEmpty(metrics.Points(instrument));
        }

        // Cardinality stays bounded: the map's name plus, on two instruments, one tag of a fixed set.
        var allowed = new Dictionary<string, string[]>
        {
            [Tags.Tier] = [Tags.TierRead, Tags.TierDirty],
            [Tags.LookupResult] = [Tags.ReadHit, Tags.DirtyHit, Tags.Miss],
        };
        foreach ((string instrument, _, _) in expected)
        {
            foreach (MetricPoint point in metrics.Points(instrument))
            {
                foreach ((string key, object? value) in MapMetrics.TagsOf(point).Where(tag => tag.Key != Tags.Name))
                {
                    Assert.True(
                        allowed.TryGetValue(key, out string[]? values) && values.Contains(value),
                        $"{instrument} carries an unexpected tag {key}={value}.");
                }
            }
        }
    }

    [Fact]
    public void AMeterProviderWithoutTheInstrumentationExportsNoMapMetrics()
    {
        using var probe = new MetricsProbe(withInstrumentation: false);
        string name = UniqueName(nameof(AMeterProviderWithoutTheInstrumentationExportsNoMapMetrics));

        ScriptedScenario.Run(name);

        Assert.DoesNotContain(probe.Collect(name).All, metric => metric.MeterName == MeterName);
    }
}
