using System.Diagnostics;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using SyncMapRegistry.Telemetry;
using static SyncMapRegistry.OrleansTests.TestSupport;
using static SyncMapRegistry.SyncMapRegistryTelemetry;

namespace SyncMapRegistry.OrleansTests;

/// <summary>The registry's instruments and span, read through a real listener. Each test's cache has a unique name.</summary>
public sealed class RegistryTelemetryTests
{
    private static SyncMapGrainDirectoryCache NewCache(string name, int maxEntries = 1_000) =>
        new(new SyncMapRegistryOptions { Name = name, MaxEntries = maxEntries });

    private static string UniqueName() => "telemetry-" + Guid.NewGuid().ToString("N")[..8];

    private static long Sum(MetricCollector<long> collector, string name, string? result = null) =>
        collector.GetMeasurementSnapshot()
            .Where(m => Equals(m.Tags[Tags.Name], name) && (result is null || Equals(m.Tags[GrainRegistryTelemetry.Tags.Result], result)))
            .Select(m => m.Value)
            .DefaultIfEmpty()
            .Sum();

    [Fact]
    public void RegistryLookupsAreObservedByResultAndName()
    {
        string name = UniqueName();
        SyncMapGrainDirectoryCache cache = NewCache(name);
        using var collector = new MetricCollector<long>(SyncMapInstrumentation.Meter, GrainRegistryTelemetry.Instruments.Lookups);
        cache.AddOrUpdate(Address(Grain(1), Silo(1000)), 1);
        for (int i = 0; i < 3; i++)
        {
            cache.LookUp(Grain(1), out _, out _);
        }

        cache.LookUp(Grain(2), out _, out _);
        collector.RecordObservableInstruments();
        Assert.Equal(3, Sum(collector, name, GrainRegistryTelemetry.Tags.Hit));
        Assert.Equal(1, Sum(collector, name, GrainRegistryTelemetry.Tags.Miss));
        Assert.Equal("{lookup}", collector.Instrument!.Unit);
        Assert.All(collector.GetMeasurementSnapshot(), m => Assert.Equal(2, m.Tags.Count));
    }

    [Fact]
    public void EvictionsAreCountedWithTheName()
    {
        string name = UniqueName();
        using var collector = new MetricCollector<long>(SyncMapInstrumentation.Meter, GrainRegistryTelemetry.Instruments.Evicted);
        SyncMapGrainDirectoryCache cache = NewCache(name, maxEntries: 10);
        for (int i = 0; i < 100; i++)
        {
            cache.AddOrUpdate(Address(Grain(i), Silo(1000)), 1);
        }

        Assert.Equal(cache.GetStatistics().Evicted, Sum(collector, name));
        Assert.True(cache.GetStatistics().Evicted >= 90);
        Assert.Equal("{entry}", collector.Instrument!.Unit);
    }

    [Fact]
    public void APurgeIsCountedAndTracedUnderTheEnclosingActivity()
    {
        string name = UniqueName();
        SyncMapGrainDirectoryCache cache = NewCache(name);
        SiloAddress dead = Silo(1000);
        for (int i = 0; i < 12; i++)
        {
            cache.AddOrUpdate(Address(Grain(i), i < 7 ? dead : Silo(1001)), 1);
        }

        using var collector = new MetricCollector<long>(SyncMapInstrumentation.Meter, GrainRegistryTelemetry.Instruments.Purged);
        var spans = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                lock (spans)
                {
                    spans.Add(activity);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        using var parentSource = new ActivitySource("registry-telemetry-test");
        using var parentListener = new ActivityListener
        {
            ShouldListenTo = source => source == parentSource,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(parentListener);

        using (Activity parent = parentSource.StartActivity("grain call")!)
        {
            Assert.Equal(7, cache.PurgeSilo(dead));
            Activity span;
            lock (spans)
            {
                // The map's own spans (syncmap.promote, when the walk promotes pending keys) carry the name too.
                span = Assert.Single(spans, s => s.OperationName == GrainRegistryTelemetry.Spans.Purge && Equals(s.GetTagItem(Tags.Name), name));
            }

            Assert.Equal(dead.ToString(), span.GetTagItem(GrainRegistryTelemetry.Tags.Silo));
            Assert.Equal(7, span.GetTagItem(GrainRegistryTelemetry.Tags.Removed));
            Assert.Equal(parent.SpanId, span.ParentSpanId);
        }

        Assert.Equal(7, Sum(collector, name));
    }

    [Fact]
    public void TheUnderlyingMapPublishesItsTelemetryUnderTheRegistrysName()
    {
        string name = UniqueName();
        SyncMapGrainDirectoryCache cache = NewCache(name);
        using var collector = new MetricCollector<long>(SyncMapInstrumentation.Meter, Instruments.Entries);
        for (int i = 0; i < 5; i++)
        {
            cache.AddOrUpdate(Address(Grain(i), Silo(1000)), 1);
        }

        _ = cache.AsEnumerable().Count(); // enumerating promotes the pending keys to the read snapshot
        collector.RecordObservableInstruments();
        Assert.Equal(5, collector.GetMeasurementSnapshot()
            .Where(m => Equals(m.Tags[Tags.Name], name) && Equals(m.Tags[Tags.Tier], Tags.TierRead))
            .Select(m => m.Value)
            .Single());
    }

    [Fact]
    public void TheMeterProviderExtensionRejectsNullAndReturnsItsBuilder()
    {
        Assert.Throws<ArgumentNullException>("builder", () => ((MeterProviderBuilder)null!).AddSyncMapRegistryInstrumentation());

        MeterProviderBuilder builder = OpenTelemetry.Sdk.CreateMeterProviderBuilder();
        Assert.Same(builder, builder.AddSyncMapRegistryInstrumentation());
        builder.Build().Dispose();
    }

    [Fact]
    public void TheTracerProviderExtensionRejectsNullAndReturnsItsBuilder()
    {
        Assert.Throws<ArgumentNullException>("builder", () => ((TracerProviderBuilder)null!).AddSyncMapRegistryInstrumentation());

        TracerProviderBuilder builder = OpenTelemetry.Sdk.CreateTracerProviderBuilder();
        Assert.Same(builder, builder.AddSyncMapRegistryInstrumentation());
        builder.Build()?.Dispose();
    }
}
