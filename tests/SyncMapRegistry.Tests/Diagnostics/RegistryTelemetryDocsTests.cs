using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using static SyncMapRegistry.OrleansTests.TestSupport;
using static SyncMapRegistry.SyncMapRegistryTelemetry;

namespace SyncMapRegistry.OrleansTests;

/// <summary>docs/telemetry.md's tables of the registry's instruments and span against what the registry publishes.</summary>
public sealed class RegistryTelemetryDocsTests
{
    [Fact]
    public void EveryRegistryInstrumentAndTheSpanCarryTheirDocumentedUnitTypeAndAttributeKeys()
    {
        Dictionary<string, List<string[]>> metrics = Tables("## Metrics", "## Spans")
            .Where(table => table.Key.StartsWith("syncmap_registry.", StringComparison.Ordinal))
            .ToDictionary(StringComparer.Ordinal);
        Dictionary<string, List<string[]>> spans = Tables("## Spans", "## Statistics").ToDictionary(StringComparer.Ordinal);
        Assert.Equal(
            new[] { GrainRegistryTelemetry.Instruments.Lookups, GrainRegistryTelemetry.Instruments.Purged, GrainRegistryTelemetry.Instruments.Evicted }.Order(),
            metrics.Keys.Order());

        string name = "docs-test-" + Guid.NewGuid().ToString("N")[..8];
        using ServiceProvider services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        IMeterFactory factory = services.GetRequiredService<IMeterFactory>();
        var collectors = metrics.Keys.ToDictionary(instrument => instrument, instrument => new MetricCollector<long>(factory, MeterName, instrument));
        var purges = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                lock (purges)
                {
                    if (activity.OperationName == GrainRegistryTelemetry.Spans.Purge && Equals(activity.GetTagItem(Tags.Name), name))
                    {
                        purges.Add(activity);
                    }
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        try
        {
            // Evictions (a cap of 10), lookups, and a purge of a dead silo's entries: every instrument reports.
            var cache = new SyncMapGrainDirectoryCache(new SyncMapRegistryOptions { Name = name, MaxEntries = 10 }, scheduleEviction: Inline, meterFactory: factory);
            SiloAddress dead = Silo(1001);
            for (int i = 0; i < 30; i++)
            {
                cache.AddOrUpdate(Address(Grain(i), dead), 1);
            }

            cache.LookUp(Grain(29), out _, out _);
            cache.LookUp(Grain(1_000), out _, out _);
            Assert.True(cache.Purge(Membership(5, (dead, SiloStatus.Dead))).Values.Sum() > 0, "Nothing was purged: the test would prove nothing.");

            foreach ((string instrument, MetricCollector<long> collector) in collectors)
            {
                collector.RecordObservableInstruments();
                List<string[]> rows = metrics[instrument];
                Instrument published = collector.Instrument!;
                Assert.Equal(rows[0][0].Trim('`'), published.Unit);
                Assert.Equal(rows[0][1], published.GetType().Name.Split('`')[0]);
                Assert.Equal(
                    rows.Select(row => row[3].Trim('`')).Order(),
                    collector.GetMeasurementSnapshot().Where(m => Equals(m.Tags[Tags.Name], name)).SelectMany(m => m.Tags.Keys).Distinct().Order());
            }

            Activity purge;
            lock (purges)
            {
                purge = Assert.Single(purges);
            }

            Assert.Equal(
                spans[GrainRegistryTelemetry.Spans.Purge].Select(row => row[0].Trim('`')).Order(),
                purge.TagObjects.Select(tag => tag.Key).Order());
        }
        finally
        {
            foreach (MetricCollector<long> collector in collectors.Values)
            {
                collector.Dispose();
            }
        }
    }

    /// <summary>The <c>### name</c> sections between two <c>##</c> headings of docs/telemetry.md, each with its table's rows below the header.</summary>
    private static IEnumerable<KeyValuePair<string, List<string[]>>> Tables(string from, string to)
    {
        string[] lines = File.ReadAllLines(DocsPath());
        int start = Array.IndexOf(lines, from);
        int end = Array.IndexOf(lines, to);
        Assert.True(start >= 0 && end > start, $"docs/telemetry.md has no section '{from}' before '{to}'.");
        string? heading = null;
        var rows = new List<string[]>();
        foreach (string line in lines[start..end].Append("### end"))
        {
            if (line.StartsWith("### ", StringComparison.Ordinal))
            {
                if (heading is not null)
                {
                    yield return new(heading, [.. rows.Skip(2)]);
                }

                heading = line[4..].Trim();
                rows = [];
            }
            else if (heading is not null && line.StartsWith('|'))
            {
                rows.Add([.. line.Trim('|').Split('|').Select(cell => cell.Trim())]);
            }
        }
    }

    private static string DocsPath()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            string path = Path.Combine(directory.FullName, "docs", "telemetry.md");
            if (File.Exists(path))
            {
                return path;
            }
        }

        throw new FileNotFoundException("docs/telemetry.md was not found above the test's folder.");
    }
}
