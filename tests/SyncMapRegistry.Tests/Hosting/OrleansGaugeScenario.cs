using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;

namespace SyncMapRegistry.OrleansTests;

/// <summary>Orleans' own gauge <c>orleans-directory-cache-size</c>, read from a real cluster, reports the registry's cache.</summary>
internal static class OrleansGaugeScenario
{
    internal const string GaugeName = "orleans-directory-cache-size";

    /// <summary>After cross-silo calls, each silo's gauge (its meter made by that silo's <see cref="IMeterFactory"/>) reads its registry's count.</summary>
    internal static async Task EachSilosGaugeReadsItsRegistrysCountAsync(ITestCluster cluster, ITestOutputHelper output, int firstKey)
    {
        foreach (IServiceProvider caller in cluster.Silos)
        {
            await Task.WhenAll(Enumerable.Range(0, 60).Select(i => caller.Grains().GetGrain<IRandomProbeGrain>(firstKey + i).WhereAmI()));
        }

        // Quiet now: measure each silo's gauge and compare it with its cache's count at the same moment.
        var measured = new List<(object? Scope, int Value)>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == "Microsoft.Orleans" && instrument.Name == GaugeName)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<int>((instrument, value, _, _) =>
        {
            lock (measured)
            {
                measured.Add((instrument.Meter.Scope, value));
            }
        });
        listener.Start();
        listener.RecordObservableInstruments();

        int cached = 0;
        foreach (IServiceProvider silo in cluster.Silos)
        {
            var cache = (SyncMapGrainDirectoryCache)silo.GetRequiredService<ISyncMapRegistry>().DirectoryCache;
            object factory = silo.GetRequiredService<IMeterFactory>();
            (object? Scope, int Value)[] ofSilo = [.. measured.Where(m => ReferenceEquals(m.Scope, factory))];
            output.WriteLine($"{cluster.PathName}: silo gauge {string.Join(",", ofSilo.Select(m => m.Value))}, registry count {cache.Count}");
            Assert.Equal(cache.Count, Assert.Single(ofSilo).Value);
            cached += cache.Count;
        }

        Assert.True(cached > 0, "No silo cached an address: the gauge was compared with nothing.");
    }
}
