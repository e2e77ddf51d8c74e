using System.Globalization;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace SyncMapRegistry.Host.Reporting;

/// <summary>A live Spectre.Console display for a terminal: a progress bar and a table redrawn in place.</summary>
internal sealed class LiveReporter(IAnsiConsole console, TextWriter output) : IRunReporter
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public void Message(string text) => console.MarkupLineInterpolated($"[grey]{text}[/]");

    public Task RunAsync(Func<Action<ProgressReport>, Task> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        return console.Live(new Text("waiting for the first report..."))
            .AutoClear(false)
            .Overflow(VerticalOverflow.Ellipsis)
            .StartAsync(async context => await body(report =>
            {
                context.UpdateTarget(Render(report, console.Profile.Width));
                context.Refresh();
            }));
    }

    public void Summary(RunSummary summary)
    {
        ArgumentNullException.ThrowIfNull(summary);
        // Plain text, not a Spectre renderable: the summary is meant to be copied, so it must not wrap.
        output.Write(PlainReporter.SummaryText(summary));
        output.Flush();
    }

    internal static IRenderable Render(ProgressReport report, int width)
    {
        double done = report.Duration <= TimeSpan.Zero ? 0 : Math.Clamp(report.Elapsed / report.Duration, 0, 1);
        const int barWidth = 30;
        int filled = (int)Math.Round(done * barWidth);
        string bar = new string('█', filled) + new string('░', barWidth - filled);
        var header = new Markup(string.Create(Invariant,
            $"[bold]SyncMapRegistry host[/]  directory cache [bold]{PlainReporter.Name(report.Cache)}[/]  {report.Phase}  [green]{bar}[/] {report.Elapsed.TotalSeconds:0.0}/{report.Duration.TotalSeconds:0} s\n" +
            $"calls/s [bold]{report.CallsPerSecond:N0}[/]   calls {report.Workload.Calls:N0}   cross-silo {report.Workload.CrossSiloShare:P1}   " +
            $"reads {report.Workload.Reads:N0}   updates {report.Workload.Updates:N0}   failed {report.Workload.Failed:N0}"));

        // A narrow terminal gets the narrow columns of the one list (StatisticColumns).
        IReadOnlyList<StatisticColumn> columns = StatisticColumns.For(report.Silos, narrow: width < 160);
        var table = new Table().Border(TableBorder.Simple).Title(report.Cache == DirectoryCacheKind.SyncMap ? "per silo: SyncMapRegistry and Orleans' directory" : "per silo: Orleans' directory (Orleans' LRU cache: no registry statistics)");
        table.AddColumn(new TableColumn("silo").NoWrap());
        foreach (StatisticColumn column in columns)
        {
            table.AddColumn(new TableColumn(column.Header).RightAligned().NoWrap());
        }

        foreach (SiloStatistics s in report.Silos)
        {
            AddRow(table, s, columns, bold: false);
        }

        AddRow(table, report.Total, columns, bold: true);
        return new Rows(header, table);
    }

    private static void AddRow(Table table, SiloStatistics silo, IReadOnlyList<StatisticColumn> columns, bool bold) =>
        table.AddRow([silo.Silo, .. columns.Select(c => Cell(silo, c, bold))]);

    private static string Cell(SiloStatistics silo, StatisticColumn column, bool bold)
    {
        if (!column.AppliesTo(silo))
        {
            return "[grey]n/a[/]";
        }

        string text = column.Value(silo).ToString("N0", Invariant);
        return bold ? $"[bold]{text}[/]" : text;
    }
}
