using Spectre.Console;
using Spectre.Console.Rendering;
using SyncMapRegistry.Host.Harness;
using SyncMapRegistry.Host.Reporting;
using SyncMapRegistry.Host.Workload;

namespace SyncMapRegistry.Host.Tests;

/// <summary>The one column list: the live table, the progress lines, the summary and STATUS show the same statistics.</summary>
public sealed class StatisticColumnsTests
{
    private static readonly SiloStatistics Registry = new("silo-0", true, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, new DirectoryLookups(22, 23, 24, 25));
    private static readonly SiloStatistics Lru = SiloStatistics.WithoutRegistry("silo-1", new DirectoryLookups(32, 33, 34, 35));

    [Fact]
    public void EveryReportShowsEveryColumnOfASiloRunningTheRegistry()
    {
        ProgressReport report = Report([Registry]);
        string live = Render(LiveReporter.Render(report, width: 250));
        string progress = PlainReporter.ProgressLine(report);
        string summary = PlainReporter.SummaryText(Summary([Registry]));
        Dictionary<string, long> status = StatisticColumns.Values(Registry, StatisticSource.Registry)
            .Concat(StatisticColumns.Values(Registry, StatisticSource.Orleans))
            .ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);

        Assert.Equal(StatisticColumns.All.Count, status.Count);
        foreach (StatisticColumn column in StatisticColumns.All)
        {
            long value = column.Value(Registry);
            Assert.Contains(column.Header, live, StringComparison.Ordinal);
            Assert.Contains($" {column.Key}={value}", progress, StringComparison.Ordinal);
            Assert.Contains(column.Header, summary, StringComparison.Ordinal);
            Assert.Equal(value, status[column.Key]);
        }

        // Every value is distinct, so each one found in a report is that column's.
        Assert.Equal(StatisticColumns.All.Count, StatisticColumns.All.Select(c => c.Value(Registry)).Distinct().Count());
    }

    [Fact]
    public void WithOrleansCacheOnlyOrleansColumnsAreShown()
    {
        ProgressReport report = Report([Lru]);
        string live = Render(LiveReporter.Render(report, width: 250));
        string progress = PlainReporter.ProgressLine(report);

        Assert.Empty(StatisticColumns.Values(Lru, StatisticSource.Registry));
        foreach (StatisticColumn column in StatisticColumns.All)
        {
            bool shown = column.Source == StatisticSource.Orleans;
            Assert.Equal(shown, progress.Contains($" {column.Key}=", StringComparison.Ordinal));
            Assert.Equal(shown, live.Contains(column.Header, StringComparison.Ordinal));
        }
    }

    [Fact]
    public void ANarrowTerminalGetsTheNarrowColumns()
    {
        string live = Render(LiveReporter.Render(Report([Registry]), width: 100));

        foreach (StatisticColumn column in StatisticColumns.All)
        {
            Assert.Equal(column.Narrow, live.Contains(column.Header, StringComparison.Ordinal));
        }
    }

    [Fact]
    public void StatusKeepsTheRegistryStatisticsByColumnKey()
    {
        var line = new RegistryStatusLine(StatisticColumns.Values(Registry, StatisticSource.Registry), new Dictionary<string, int>());

        Assert.Equal(Registry.Entries, line.Entries);
        Assert.Equal(Registry.Purged, line.Purged);
        Assert.Equal(Registry.Removals, line.Removals);
        Assert.Equal(Registry.Evicted, line.Evicted);
        Assert.Equal(Registry.Hits, line.Hits);
        Assert.Equal(Registry.Misses, line.Misses);
        Assert.Equal(Registry.LocalActivations, line.LocalActivations);
    }

    private static ProgressReport Report(IReadOnlyList<SiloStatistics> silos) =>
        new("running", silos[0].Available ? DirectoryCacheKind.SyncMap : DirectoryCacheKind.Lru, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), default, 0, silos);

    private static RunSummary Summary(IReadOnlyList<SiloStatistics> silos) =>
        new(new HostOptions(), false, TimeSpan.FromSeconds(1), new WorkloadSnapshot(0, 1000, 990, 10, 900, 0), default, default, silos, new DirectoryLookups(1000, 990, 10, 8));

    private static string Render(IRenderable renderable)
    {
        var output = new StringWriter();
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
        console.Profile.Width = 250;
        console.Write(renderable);
        return output.ToString();
    }
}
