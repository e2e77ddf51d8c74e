using System.Diagnostics;
using OpenTelemetry.Metrics;
using static SyncMapRegistry.SyncMapRegistryTelemetry;

namespace SyncMapRegistry.Tests.Telemetry;

/// <summary>docs/telemetry.md against the code: every map instrument and span it lists, and only those, as exported.</summary>
public sealed class TelemetryDocsTests
{
    private static readonly Dictionary<string, MetricType> TypeOfDocumented = new(StringComparer.Ordinal)
    {
        ["Counter"] = MetricType.LongSum,
        ["Histogram"] = MetricType.Histogram,
        ["ObservableCounter"] = MetricType.LongSum,
        ["ObservableUpDownCounter"] = MetricType.LongSumNonMonotonic,
    };

    [Fact]
    public void EveryMapInstrumentInTheDocsIsExportedWithItsDocumentedUnitTypeAndAttributeKeys()
    {
        Dictionary<string, Table> documented = Tables("## Metrics", "## Spans")
            .Where(table => !table.Key.StartsWith("syncmap_registry.", StringComparison.Ordinal))
            .ToDictionary(StringComparer.Ordinal);
        using var probe = new MetricsProbe();
        string name = $"{nameof(EveryMapInstrumentInTheDocsIsExportedWithItsDocumentedUnitTypeAndAttributeKeys)}-{Guid.NewGuid():N}";
        ScriptedScenario.Run(name);
        MapMetrics metrics = probe.Collect(name);

        List<MetricSnapshot> exported = [.. metrics.All.Where(metric => metric.MeterName == MeterName && metrics.Points(metric.Name).Count > 0)];
        Assert.Equal(documented.Keys.Order(), exported.Select(metric => metric.Name).Order());
        foreach (MetricSnapshot metric in exported)
        {
            Table table = documented[metric.Name];
            Assert.Equal(table.Rows[0][0].Trim('`'), metric.Unit);
            Assert.Equal(TypeOfDocumented[table.Rows[0][1]], metric.MetricType);
            Assert.Equal(
                table.Rows.Select(row => row[3].Trim('`')).Order(),
                metrics.Points(metric.Name).SelectMany(point => MapMetrics.TagsOf(point).Keys).Distinct().Order());
        }
    }

    [Fact]
    public void ThePromoteSpanCarriesExactlyTheDocumentedAttributes()
    {
        Dictionary<string, Table> documented = Tables("## Spans", "## Statistics").ToDictionary(StringComparer.Ordinal);
        using var probe = new SpansProbe();
        string name = $"{nameof(ThePromoteSpanCarriesExactlyTheDocumentedAttributes)}-{Guid.NewGuid():N}";
        ScriptedScenario.Run(name);

        Activity span = probe.SpansOf(name)[0];
        Table table = documented[span.DisplayName];
        Assert.Equal(Spans.Promote, span.DisplayName);
        Assert.Equal(table.Rows.Select(row => row[0].Trim('`')).Order(), span.TagObjects.Select(tag => tag.Key).Order());
    }

    /// <summary>The <c>### name</c> sections between two <c>##</c> headings of docs/telemetry.md, each with its table's rows below the header.</summary>
    private static IEnumerable<KeyValuePair<string, Table>> Tables(string from, string to)
    {
        string[] lines = File.ReadAllLines(DocsPath());
        int start = Array.IndexOf(lines, from);
        int end = Array.IndexOf(lines, to);
        Assert.True(start >= 0 && end > start, $"docs/telemetry.md has no section '{from}' before '{to}'.");
        string? heading = null;
        List<string[]>? rows = null;
        foreach (string line in lines[start..end])
        {
            if (line.StartsWith("### ", StringComparison.Ordinal))
            {
                if (heading is not null)
                {
                    yield return new(heading, new Table(rows!));
                }

                heading = line[4..].Trim();
                rows = [];
            }
            else if (heading is not null && line.StartsWith('|'))
            {
                rows!.Add([.. line.Trim('|').Split('|').Select(cell => cell.Trim())]);
            }
        }

        if (heading is not null)
        {
            yield return new(heading, new Table(rows!));
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

    /// <summary>A table's rows below its header and separator; continuation rows (more attribute keys) keep their empty first cells.</summary>
    private sealed class Table(List<string[]> rows)
    {
        internal List<string[]> Rows { get; } = [.. rows.Skip(2).Where(row => row.Length > 1)];
    }
}
