using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Hosting;
using SyncMapRegistry.Telemetry;
using static SyncMapRegistry.SyncMapRegistryTelemetry;

namespace SyncMapRegistry.OrleansTests;

/// <summary>
/// Two real silos in this process, each with the registry under its default map names: each silo's
/// <c>SyncMapRegistry</c> meter, made by that silo's <see cref="IMeterFactory"/>, reports that silo's maps only.
/// </summary>
[Collection(ClusterTestGroup.Name)]
public sealed class PerSiloMeterTests
{
    [Fact]
    public async Task EachSilosMeterExportsOnlyItsOwnMapsCounts()
    {
        int first = FreePorts.Range(4);
        string clusterId = "meters-" + Guid.NewGuid().ToString("N")[..8];
        var primary = new IPEndPoint(IPAddress.Loopback, first);
        IHost a = GenericHostCluster.BuildSilo(first, first + 1, primary, clusterId);
        IHost b = GenericHostCluster.BuildSilo(first + 2, first + 3, primary, clusterId);
        try
        {
            await a.StartAsync(TestContext.Current.CancellationToken);
            await b.StartAsync(TestContext.Current.CancellationToken);
            IHost[] silos = [a, b];
            Assert.True(
                await TestSupport.WaitUntilAsync(
                    () => silos.All(silo => silo.Services.GetRequiredService<IClusterMembershipService>().CurrentSnapshot.Members.Values
                        .Count(member => member.Status == SiloStatus.Active) == 2),
                    TimeSpan.FromSeconds(30)),
                "The two silos did not see each other as active.");

            // Different numbers of grains activated on each silo (placed on the calling silo), and looked up a different
            // number of times in each silo's index: figures that a meter mixing the silos could not report.
            await ActivateLocalGrainsAsync(a, firstKey: 1_000, count: 3);
            await ActivateLocalGrainsAsync(b, firstKey: 2_000, count: 8);
            ISyncMapRegistry registryA = a.Services.GetRequiredService<ISyncMapRegistry>();
            ISyncMapRegistry registryB = b.Services.GetRequiredService<ISyncMapRegistry>();
            Assert.True(
                await TestSupport.WaitUntilAsync(() => registryA.LocalActivations.Count >= 3 && registryB.LocalActivations.Count >= 8, TimeSpan.FromSeconds(10)),
                "The local-activation indexes did not catch up with the activations.");
            long hitsA = LookUpEveryLocalActivation(registryA, times: 2);
            long hitsB = LookUpEveryLocalActivation(registryB, times: 5);

            IMeterFactory factoryA = a.Services.GetRequiredService<IMeterFactory>();
            IMeterFactory factoryB = b.Services.GetRequiredService<IMeterFactory>();
            Assert.NotSame(factoryA, factoryB);
            using var entriesA = new MetricCollector<long>(factoryA, MeterName, Instruments.EntryCount);
            using var entriesB = new MetricCollector<long>(factoryB, MeterName, Instruments.EntryCount);
            using var lookupsA = new MetricCollector<long>(factoryA, MeterName, GrainRegistryTelemetry.Instruments.Lookups);
            using var lookupsB = new MetricCollector<long>(factoryB, MeterName, GrainRegistryTelemetry.Instruments.Lookups);

            foreach ((IHost silo, ISyncMapRegistry registry, MetricCollector<long> entries, MetricCollector<long> lookups) in
                new[] { (a, registryA, entriesA, lookupsA), (b, registryB, entriesB, lookupsB) })
            {
                entries.RecordObservableInstruments();
                lookups.RecordObservableInstruments();
                SyncMapRegistryStatistics statistics = registry.GetStatistics();
                GrainRegistryStatistics local = statistics.LocalActivations;

                // The silo's meter reports its two maps, under the names both silos use, and nothing else.
                Assert.Equal(
                    new[] { SyncMapRegistryOptions.DefaultName, SyncMapRegistryOptions.DefaultLocalActivationsName }.Order(),
                    entries.GetMeasurementSnapshot().Select(m => (string)m.Tags[Tags.Name]!).Distinct().Order());
                Assert.Equal(local.Map.ReadCount + local.Map.DirtyCount, Sum(entries, SyncMapRegistryOptions.DefaultLocalActivationsName));
                Assert.Equal(local.LookupHits, Sum(lookups, SyncMapRegistryOptions.DefaultLocalActivationsName, GrainRegistryTelemetry.Tags.Hit));
                Assert.Same(silo.Services.GetRequiredService<IMeterFactory>(), entries.Instrument!.Meter.Scope);
            }

            // The two silos' figures differ, so a meter that summed both silos would have failed the checks above.
            Assert.Equal(hitsA, Sum(lookupsA, SyncMapRegistryOptions.DefaultLocalActivationsName, GrainRegistryTelemetry.Tags.Hit));
            Assert.Equal(hitsB, Sum(lookupsB, SyncMapRegistryOptions.DefaultLocalActivationsName, GrainRegistryTelemetry.Tags.Hit));
            Assert.NotEqual(hitsA, hitsB);
            Assert.NotEqual(Sum(entriesA, SyncMapRegistryOptions.DefaultLocalActivationsName), Sum(entriesB, SyncMapRegistryOptions.DefaultLocalActivationsName));

            // Neither silo's maps report on the process-wide meter: it is for maps built without a factory.
            Assert.NotSame(SyncMapInstrumentation.Shared.Meter, entriesA.Instrument!.Meter);
            Assert.NotSame(entriesA.Instrument!.Meter, entriesB.Instrument!.Meter);
        }
        finally
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await Task.WhenAll(StopAsync(b, timeout.Token), StopAsync(a, timeout.Token));
        }
    }

    private static async Task ActivateLocalGrainsAsync(IHost silo, long firstKey, int count)
    {
        IGrainFactory grains = silo.Services.GetRequiredService<IGrainFactory>();
        GrainAddress[] addresses = await Task.WhenAll(Enumerable.Range(0, count).Select(i => grains.GetGrain<ILocalProbeGrain>(firstKey + i).WhereAmI()));
        SiloAddress here = silo.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress;
        Assert.All(addresses, address => Assert.Equal(here, address.SiloAddress));
    }

    /// <returns>The lookups made, each a hit.</returns>
    private static long LookUpEveryLocalActivation(ISyncMapRegistry registry, int times)
    {
        GrainId[] grains = [.. registry.LocalActivations.Select(pair => pair.Key)];
        for (int round = 0; round < times; round++)
        {
            foreach (GrainId grain in grains)
            {
                Assert.True(registry.LocalActivations.TryLookUp(grain, out _));
            }
        }

        return (long)grains.Length * times;
    }

    private static long Sum(MetricCollector<long> collector, string name, string? result = null) =>
        collector.GetMeasurementSnapshot()
            .Where(m => Equals(m.Tags[Tags.Name], name) && (result is null || Equals(m.Tags[Tags.LookupResult], result)))
            .Sum(m => m.Value);

    private static async Task StopAsync(IHost host, CancellationToken cancellationToken)
    {
        try
        {
            await host.StopAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
        }

        host.Dispose();
    }
}
