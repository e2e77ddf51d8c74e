using System.Globalization;
using Spectre.Console;
using Spectre.Console.Rendering;
using SyncMapRegistry.Host.Registry;

namespace SyncMapRegistry.Host.Output;

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

        // A narrow terminal gets the columns that matter most: entries, lookups by result, promotions, entries they copied.
        bool wide = width >= 120;
        var table = new Table().Border(TableBorder.Simple).Title(report.Cache == DirectoryCacheKind.SyncMap ? "SyncMapRegistry per silo" : "per silo (Orleans' LRU cache: no registry statistics)");
        table.AddColumn(new TableColumn("silo").NoWrap());
        foreach (string column in wide ? WideColumns : NarrowColumns)
        {
            table.AddColumn(new TableColumn(column).RightAligned().NoWrap());
        }

        foreach (SiloRegistrySnapshot s in report.Silos)
        {
            AddRow(table, s, bold: false, wide);
        }

        AddRow(table, report.Total, bold: true, wide);
        return new Rows(header, table);
    }

    private static readonly string[] WideColumns = ["entries", "activations", "hits", "misses", "read_hit", "dirty_hit", "lookup miss", "promotions", "copied", "purged"];

    private static readonly string[] NarrowColumns = ["entries", "hits", "misses", "dirty_hit", "lk_miss", "promot.", "copied"];

    private static void AddRow(Table table, SiloRegistrySnapshot s, bool bold, bool wide)
    {
        string F(long value)
        {
            string text = value.ToString(wide ? "N0" : "0", Invariant);
            return bold ? $"[bold]{text}[/]" : text;
        }

        if (!s.Available)
        {
            table.AddRow([s.Silo, "[grey]n/a[/]", .. Enumerable.Repeat("", (wide ? WideColumns : NarrowColumns).Length - 1)]);
            return;
        }

        if (wide)
        {
            table.AddRow(s.Silo, F(s.Entries), F(s.LocalActivations), F(s.Hits), F(s.Misses), F(s.ReadHits), F(s.DirtyHits), F(s.LookupMisses), F(s.Promotions), F(s.EntriesCopied), F(s.Purged));
        }
        else
        {
            table.AddRow(s.Silo, F(s.Entries), F(s.Hits), F(s.Misses), F(s.DirtyHits), F(s.LookupMisses), F(s.Promotions), F(s.EntriesCopied));
        }
    }
}
