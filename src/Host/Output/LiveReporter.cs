using System.Globalization;
using Spectre.Console;
using Spectre.Console.Rendering;
using SyncMapRegistry.Host.Registry;

namespace SyncMapRegistry.Host.Output;

/// <summary>A live Spectre.Console display for a terminal: a progress bar and a table redrawn in place.</summary>
internal sealed class LiveReporter(IAnsiConsole console, TimeProvider time) : IRunReporter
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
                context.UpdateTarget(Render(report));
                context.Refresh();
            }));
    }

    public void Summary(RunSummary summary)
    {
        ArgumentNullException.ThrowIfNull(summary);
        console.Write(new Text(PlainReporter.SummaryText(summary, time)));
    }

    internal static IRenderable Render(ProgressReport report)
    {
        double done = report.Duration <= TimeSpan.Zero ? 0 : Math.Clamp(report.Elapsed / report.Duration, 0, 1);
        const int width = 40;
        int filled = (int)Math.Round(done * width);
        string bar = new string('█', filled) + new string('░', width - filled);
        var header = new Markup(string.Create(Invariant,
            $"[bold]SyncMapRegistry host[/]  {report.Phase}  [green]{bar}[/] {report.Elapsed.TotalSeconds:0.0}/{report.Duration.TotalSeconds:0} s\n" +
            $"calls/s [bold]{report.CallsPerSecond:N0}[/]   calls {report.Workload.Calls:N0}   cross-silo {report.Workload.CrossSiloShare:P1}   " +
            $"reads {report.Workload.Reads:N0}   updates {report.Workload.Updates:N0}   failed {report.Workload.Failed:N0}"));

        var table = new Table().Border(TableBorder.Rounded).Title("registry per silo");
        table.AddColumn("silo");
        foreach (string column in new[] { "entries", "activations", "hits", "misses", "read_hit", "dirty_hit", "lookup miss", "promotions", "dirty rebuilds", "purged" })
        {
            table.AddColumn(new TableColumn(column).RightAligned());
        }

        foreach (SiloRegistrySnapshot s in report.Silos)
        {
            AddRow(table, s, bold: false);
        }

        AddRow(table, report.Total, bold: true);
        return new Rows(header, table);
    }

    private static void AddRow(Table table, SiloRegistrySnapshot s, bool bold)
    {
        string F(long value) => bold ? $"[bold]{value.ToString("N0", Invariant)}[/]" : value.ToString("N0", Invariant);
        if (!s.Available)
        {
            table.AddRow(s.Silo, "[grey]n/a[/]", "", "", "", "", "", "", "", "", "");
            return;
        }

        table.AddRow(s.Silo, F(s.Entries), F(s.LocalActivations), F(s.Hits), F(s.Misses), F(s.ReadHits), F(s.DirtyHits), F(s.LookupMisses), F(s.Promotions), F(s.DirtyRebuilds), F(s.Purged));
    }
}
