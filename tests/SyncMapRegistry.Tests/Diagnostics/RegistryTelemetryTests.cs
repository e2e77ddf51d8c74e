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
        new(new SyncMapRegistryOptions { Name = name, MaxEntries = maxEntries }, scheduleEviction: Inline);

    private static string UniqueName() => "telemetry-" + Guid.NewGuid().ToString("N")[..8];

    private static long Sum(MetricCollector<long> collector, string name, string? result = null) =>
        collector.GetMeasurementSnapshot()
            .Where(m => Equals(m.Tags[Tags.Name], name) && (result is null || Equals(m.Tags[Tags.LookupResult], result)))
            .Select(m => m.Value)
            .DefaultIfEmpty()
            .Sum();

    /// <summary>A started listener on every instrument of the <c>SyncMapRegistry</c> meter, the map's and the registry's.</summary>
    private static System.Diagnostics.Metrics.MeterListener ListenToTheWholeMeter(System.Diagnostics.Metrics.MeasurementCallback<long> onMeasurement)
    {
        var measurements = new System.Diagnostics.Metrics.MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == MeterName)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        measurements.SetMeasurementEventCallback(onMeasurement);
        measurements.Start();
        return measurements;
    }

    [Fact]
    public void RegistryLookupsAreObservedByResultAndName()
    {
        string name = UniqueName();
        SyncMapGrainDirectoryCache cache = NewCache(name);
        using var collector = new MetricCollector<long>(SyncMapInstrumentation.Shared.Meter, GrainRegistryTelemetry.Instruments.Lookups);
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
        using var collector = new MetricCollector<long>(SyncMapInstrumentation.Shared.Meter, GrainRegistryTelemetry.Instruments.Evicted);
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
    public void OnePurgeWalkRemovesEveryDeadSilosEntriesAndIsTracedOnceUnderTheEnclosingActivity()
    {
        string name = UniqueName();
        SyncMapGrainDirectoryCache cache = NewCache(name);
        SiloAddress alive = Silo(1000);
        SiloAddress[] dead = [Silo(1001), Silo(1002), Silo(1003)];
        for (int i = 0; i < 12; i++)
        {
            cache.AddOrUpdate(Address(Grain(i), i < 9 ? dead[i % 3] : alive), 1);
        }

        using var collector = new MetricCollector<long>(SyncMapInstrumentation.Shared.Meter, GrainRegistryTelemetry.Instruments.Purged);
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
            ClusterMembershipSnapshot membership = Membership(5, [(alive, SiloStatus.Active), .. dead.Select(silo => (silo, SiloStatus.Dead))]);
            Assert.Equal(9, cache.Purge(membership).Values.Sum());
            Activity span;
            lock (spans)
            {
                span = Assert.Single(spans, s => s.OperationName == GrainRegistryTelemetry.Spans.Purge && Equals(s.GetTagItem(Tags.Name), name));
            }

            Assert.Equal(dead.Select(silo => silo.ToString()).Order(), ((string[])span.GetTagItem(GrainRegistryTelemetry.Tags.PurgedSilos)!).Order());
            Assert.Equal(9, span.GetTagItem(GrainRegistryTelemetry.Tags.PurgedEntries));
            Assert.Equal(parent.SpanId, span.ParentSpanId);
            Assert.Same(parent, Activity.Current);
        }

        Assert.Equal(9, Sum(collector, name));
    }

    [Fact]
    public void AListenerThatThrowsFailsNoRegistryOperation()
    {
        string name = UniqueName();
        SyncMapGrainDirectoryCache cache = NewCache(name, maxEntries: 10);
        SiloAddress dead = Silo(1001);
        int thrown = 0;
        using var spans = new ActivityListener
        {
            ShouldListenTo = source => source.Name == ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStarted = _ => Throw(),
            ActivityStopped = _ => Throw(),
        };
        ActivitySource.AddActivityListener(spans);
        using System.Diagnostics.Metrics.MeterListener measurements = ListenToTheWholeMeter((_, _, _, _) => Throw());

        for (int i = 0; i < 100; i++)
        {
            cache.AddOrUpdate(Address(Grain(i), dead), 1);
        }

        Activity? before = Activity.Current;
        Assert.Equal(cache.Count, cache.Purge(Membership(5, (dead, SiloStatus.Dead))).Values.Sum());
        Assert.Same(before, Activity.Current);
        Assert.Equal(0, cache.Count);
        Assert.True(cache.GetStatistics().Evicted > 0);
        Assert.True(Volatile.Read(ref thrown) > 0, "No listener callback ran: the test would prove nothing.");

        void Throw()
        {
            Interlocked.Increment(ref thrown);
            throw new InvalidOperationException("A listener failed.");
        }
    }

    [Fact]
    public void AListenerThatWritesToTheCacheFromAnotherThreadIsNeverBlockedByTheRegistry()
    {
        string name = UniqueName();
        const int cap = 10;
        SyncMapGrainDirectoryCache cache = new(new SyncMapRegistryOptions { Name = name, MaxEntries = cap });
        SiloAddress dead = Silo(1001);
        int next = 1_000;
        int callbacks = 0;
        int blocked = 0;

        // Each callback asks another thread to insert a new key over the cap (which needs the map's lock, and
        // signals the evictor) and waits for it. A thread of its own, not the thread pool: on a busy 2-core machine
        // the pool can take seconds to start a work item, which would read as the registry blocking the writer.
        void WriteFromAnotherThread()
        {
            Interlocked.Increment(ref callbacks);
            int key = Interlocked.Increment(ref next);
            var writer = new Thread(() => cache.AddOrUpdate(Address(Grain(key), dead), 1)) { IsBackground = true };
            writer.Start();
            if (!writer.Join(TimeSpan.FromSeconds(5)))
            {
                Interlocked.Increment(ref blocked);
            }
        }

        using var spans = new ActivityListener
        {
            ShouldListenTo = source => source.Name == ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (Equals(activity.GetTagItem(Tags.Name), name) && Volatile.Read(ref callbacks) < 20)
                {
                    WriteFromAnotherThread();
                }
            },
        };
        ActivitySource.AddActivityListener(spans);
        using System.Diagnostics.Metrics.MeterListener measurements = ListenToTheWholeMeter((_, _, tags, _) =>
        {
            foreach (KeyValuePair<string, object?> tag in tags)
            {
                if (tag.Key == Tags.Name && Equals(tag.Value, name) && Volatile.Read(ref callbacks) < 20)
                {
                    WriteFromAnotherThread();
                }
            }
        });

        for (int i = 0; i < 50; i++)
        {
            cache.AddOrUpdate(Address(Grain(i), dead), 1);
        }

        cache.Purge(Membership(5, (dead, SiloStatus.Dead)));
        Assert.True(Volatile.Read(ref callbacks) > 0, "No listener callback ran: the test would prove nothing.");
        Assert.Equal(0, Volatile.Read(ref blocked));
    }

    [Fact]
    public void TheUnderlyingMapPublishesItsTelemetryUnderTheRegistrysName()
    {
        string name = UniqueName();
        SyncMapGrainDirectoryCache cache = NewCache(name);
        using var collector = new MetricCollector<long>(SyncMapInstrumentation.Shared.Meter, Instruments.EntryCount);
        for (int i = 0; i < 5; i++)
        {
            cache.AddOrUpdate(Address(Grain(i), Silo(1000)), 1);
        }

        collector.RecordObservableInstruments();
        Assert.Equal(5, collector.GetMeasurementSnapshot()
            .Where(m => Equals(m.Tags[Tags.Name], name))
            .Max(m => m.Value)); // the tier that holds every key: dirty before a promotion, read after
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
