using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using Orleans.Configuration;
using SyncMapRegistry.Host.Telemetry;

namespace SyncMapRegistry.Host.Tests.Telemetry;

/// <summary>
/// The host's per-silo metric export (<see cref="HostTelemetry"/>) with two real silos in this process: each silo's
/// meter provider exports that silo's <c>SyncMapRegistry</c> meter (made by the silo's <c>IMeterFactory</c>) and no
/// other silo's; the process's provider exports none of the silos' maps.
/// </summary>
public sealed class PerSiloExportTests
{
    private static readonly string[] SiloNames = ["silo-0", "silo-1"];

    [Fact]
    public async Task EachSilosProviderExportsOnlyThatSilosRegistryMaps()
    {
        string clusterId = "export-" + Guid.NewGuid().ToString("N")[..8];
        int first = FreePorts.Range(4);
        var primary = new IPEndPoint(IPAddress.Loopback, first);

        // An endpoint nothing listens on: traces and logs go nowhere, the metrics to the exporters below.
        var settings = new OtlpSettings(new Uri("http://127.0.0.1:9/"), TimeSpan.FromSeconds(1), OpenTelemetry.Exporter.OtlpExportProtocol.HttpProtobuf);
        var exporters = new List<CollectingExporter>();
        HostTelemetry telemetry = HostTelemetry.StartWithMetricExporter(settings, SiloNames, clusterId, () =>
        {
            var exporter = new CollectingExporter();
            exporters.Add(exporter);
            return exporter;
        });
        var hosts = new List<IHost>();
        try
        {
            for (int silo = 0; silo < SiloNames.Length; silo++)
            {
                hosts.Add(await StartSiloAsync(silo, first + (2 * silo), first + (2 * silo) + 1, primary, clusterId));
            }

            // Dispose flushes every provider while the silos and their meters still live.
            telemetry.Dispose();
            Assert.Equal(SiloNames.Length + 1, exporters.Count);
            for (int silo = 0; silo < SiloNames.Length; silo++)
            {
                Assert.Equal(
                    new[] { CacheName(silo), IndexName(silo) }.Order(),
                    exporters[silo].MapNames(SyncMapRegistryTelemetry.MeterName, SyncMapRegistryTelemetry.Instruments.EntryCount).Order());
                Assert.Contains(SyncMapRegistryTelemetry.MeterName, exporters[silo].Meters);
            }

            Assert.DoesNotContain(SyncMapRegistryTelemetry.MeterName, exporters[^1].Meters);
        }
        finally
        {
            telemetry.Dispose();
            foreach (IHost host in Enumerable.Reverse(hosts))
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                try
                {
                    await host.StopAsync(timeout.Token);
                }
                catch (OperationCanceledException)
                {
                }

                host.Dispose();
            }
        }
    }

    private static string CacheName(int silo) => $"{SyncMapRegistryOptions.DefaultName}.{SiloNames[silo]}";

    private static string IndexName(int silo) => $"{SyncMapRegistryOptions.DefaultLocalActivationsName}.{SiloNames[silo]}";

    /// <summary>Starts one silo inside its <see cref="SiloScope"/>, as the host does: everything it starts inherits the scope.</summary>
    private static async Task<IHost> StartSiloAsync(int silo, int siloPort, int gatewayPort, IPEndPoint primary, string clusterId)
    {
        SiloScope.Current = silo;
        HostApplicationBuilder builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.UseOrleans(orleans =>
        {
            orleans.UseLocalhostClustering(siloPort, gatewayPort, primary, serviceId: clusterId, clusterId: clusterId);
            orleans.Configure<SiloOptions>(o => o.SiloName = SiloNames[silo]);
            orleans.Services.AddSyncMapRegistry(o =>
            {
                o.Name = CacheName(silo);
                o.LocalActivationsName = IndexName(silo);
            });
        });
        IHost host = builder.Build();
        await host.StartAsync();
        return host;
    }

    /// <summary>A real SDK exporter that keeps, of every export, each metric's meter, name and <c>syncmap.name</c> values.</summary>
    private sealed class CollectingExporter : BaseExporter<Metric>
    {
        private readonly Lock _lock = new();
        private readonly HashSet<(string Meter, string Instrument, string? Map)> _seen = [];

        public HashSet<string> Meters
        {
            get
            {
                lock (_lock)
                {
                    return [.. _seen.Select(s => s.Meter)];
                }
            }
        }

        public HashSet<string> MapNames(string meter, string instrument)
        {
            lock (_lock)
            {
                return [.. _seen.Where(s => s.Meter == meter && s.Instrument == instrument && s.Map is not null).Select(s => s.Map!)];
            }
        }

        public override ExportResult Export(in Batch<Metric> batch)
        {
            lock (_lock)
            {
                foreach (Metric metric in batch)
                {
                    foreach (ref readonly MetricPoint point in metric.GetMetricPoints())
                    {
                        string? map = null;
                        foreach (KeyValuePair<string, object?> tag in point.Tags)
                        {
                            if (tag.Key == SyncMapRegistryTelemetry.Tags.Name)
                            {
                                map = tag.Value as string;
                            }
                        }

                        _seen.Add((metric.MeterName, metric.Name, map));
                    }
                }
            }

            return ExportResult.Success;
        }
    }
}
