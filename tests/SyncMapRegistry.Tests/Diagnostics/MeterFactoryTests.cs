using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using SyncMapRegistry.Telemetry;
using static SyncMapRegistry.OrleansTests.TestSupport;
using static SyncMapRegistry.SyncMapRegistryTelemetry;

namespace SyncMapRegistry.OrleansTests;

/// <summary>
/// <see cref="SyncMapOptions.MeterFactory"/> and the registry's meter factory, with the default <see cref="IMeterFactory"/>
/// of Microsoft.Extensions.Diagnostics (<c>AddMetrics</c>), as a host's services provide it.
/// </summary>
public sealed class MeterFactoryTests
{
    private static ServiceProvider NewServices() => new ServiceCollection().AddMetrics().BuildServiceProvider();

    private static long Sum(MetricCollector<long> collector, string name) =>
        collector.GetMeasurementSnapshot().Where(m => Equals(m.Tags[Tags.Name], name)).Sum(m => m.Value);

    [Fact]
    public void MapsGivenAFactoryReportOnThatFactorysMeterOnlyEvenUnderTheSameName()
    {
        string name = "factory-test-" + Guid.NewGuid().ToString("N")[..8];
        using ServiceProvider first = NewServices();
        using ServiceProvider second = NewServices();
        IMeterFactory firstFactory = first.GetRequiredService<IMeterFactory>();
        IMeterFactory secondFactory = second.GetRequiredService<IMeterFactory>();
        var a = new SyncMap<int, int>(new SyncMapOptions { Name = name, MeterFactory = firstFactory });
        var b = new SyncMap<int, int>(new SyncMapOptions { Name = name, MeterFactory = firstFactory });
        var c = new SyncMap<int, int>(new SyncMapOptions { Name = name, MeterFactory = secondFactory });
        var unscoped = new SyncMap<int, int>(new SyncMapOptions { Name = name });
        a.Store(1, 1);
        b.Store(2, 2);
        b.Store(3, 3);
        c.Store(4, 4);
        for (int key = 10; key < 17; key++)
        {
            unscoped.Store(key, key);
        }

        using var onFirst = new MetricCollector<long>(firstFactory, MeterName, Instruments.EntryCount);
        using var onSecond = new MetricCollector<long>(secondFactory, MeterName, Instruments.EntryCount);
        using var onShared = new MetricCollector<long>(SyncMapInstrumentation.Shared.Meter, Instruments.EntryCount);
        onFirst.RecordObservableInstruments();
        onSecond.RecordObservableInstruments();
        onShared.RecordObservableInstruments();

        // The two maps of the first factory share one meter and are summed there; the second factory's and the
        // process-wide meter each see their own map only.
        Assert.Equal(3, Sum(onFirst, name));
        Assert.Equal(1, Sum(onSecond, name));
        Assert.Equal(7, Sum(onShared, name));
        Assert.Same(firstFactory, onFirst.Instrument!.Meter.Scope);
        Assert.Null(onShared.Instrument!.Meter.Scope);
        GC.KeepAlive(a);
        GC.KeepAlive(b);
        GC.KeepAlive(c);
        GC.KeepAlive(unscoped);
    }

    [Fact]
    public void TheRegistrysInstrumentsAreOnItsMapsMeter()
    {
        string name = "factory-test-" + Guid.NewGuid().ToString("N")[..8];
        using ServiceProvider services = NewServices();
        IMeterFactory factory = services.GetRequiredService<IMeterFactory>();
        var cache = new SyncMapGrainDirectoryCache(new SyncMapRegistryOptions { Name = name, MaxEntries = 10 }, scheduleEviction: Inline, meterFactory: factory);
        using var lookups = new MetricCollector<long>(factory, MeterName, GrainRegistryTelemetry.Instruments.Lookups);
        using var evicted = new MetricCollector<long>(factory, MeterName, GrainRegistryTelemetry.Instruments.Evicted);
        using var entries = new MetricCollector<long>(factory, MeterName, Instruments.EntryCount);
        using var evictedOnShared = new MetricCollector<long>(SyncMapInstrumentation.Shared.Meter, GrainRegistryTelemetry.Instruments.Evicted);
        for (int i = 0; i < 100; i++)
        {
            cache.AddOrUpdate(Address(Grain(i), Silo(1000)), 1);
        }

        cache.LookUp(Grain(99), out _, out _);
        lookups.RecordObservableInstruments();
        entries.RecordObservableInstruments();

        Assert.True(cache.GetStatistics().Evicted > 0, "Nothing was evicted: the test would prove nothing.");
        Assert.Equal(cache.GetStatistics().Evicted, Sum(evicted, name));
        Assert.Equal(0, Sum(evictedOnShared, name));
        Assert.Equal(cache.GetStatistics().LookupHits + cache.GetStatistics().LookupMisses, Sum(lookups, name));
        SyncMapStatistics map = cache.GetStatistics().Map;
        Assert.Equal(map.ReadCount + map.DirtyCount, Sum(entries, name));
        Assert.Same(entries.Instrument!.Meter, lookups.Instrument!.Meter);
    }
}
