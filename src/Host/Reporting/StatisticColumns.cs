using System.Globalization;

namespace SyncMapRegistry.Host.Reporting;

/// <summary>Where a per-silo statistic comes from.</summary>
internal enum StatisticSource
{
    /// <summary>SyncMapRegistry's statistics: only silos that run it have them.</summary>
    Registry,

    /// <summary>Orleans' own directory counters: every silo has them, whichever cache it runs.</summary>
    Orleans,
}

/// <summary>One per-silo statistic as every report shows it.</summary>
/// <param name="Key">Its name in plain progress lines (<c>key=value</c>) and in STATUS lines.</param>
/// <param name="Header">Its column header in the live table and the summary.</param>
/// <param name="Source">Whether only a silo running the registry has it.</param>
/// <param name="Narrow">Whether it is shown where room is short: a narrow terminal, each silo's part of a progress line.</param>
/// <param name="Value">Reads it.</param>
internal sealed record StatisticColumn(string Key, string Header, StatisticSource Source, bool Narrow, Func<SiloStatistics, long> Value)
{
    /// <summary>Whether <paramref name="silo"/> has this statistic.</summary>
    public bool AppliesTo(SiloStatistics silo) => Source == StatisticSource.Orleans || silo.Available;
}

/// <summary>
/// The one list of per-silo statistics: the live table, the plain progress lines, the summary's per-silo table and
/// the STATUS lines all show these, in this order, under these names. A statistic added here appears in all four.
/// </summary>
internal static class StatisticColumns
{
    public const string Entries = "entries";
    public const string Activations = "activations";
    public const string Hits = "hits";
    public const string Misses = "misses";
    public const string ReadHits = "read_hit";
    public const string DirtyHits = "dirty_hit";
    public const string LookupMisses = "lookup_miss";
    public const string Promotions = "promotions";
    public const string Removals = "removals";
    public const string Purged = "purged";
    public const string Evicted = "evicted";
    public const string DirectoryLookups = "dir_lookups";
    public const string RemoteLookups = "dir_remote";

    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>Every column, in the order shown.</summary>
    public static readonly IReadOnlyList<StatisticColumn> All =
    [
        new(Entries, "entries", StatisticSource.Registry, Narrow: true, s => s.Entries),
        new(Activations, "activations", StatisticSource.Registry, Narrow: false, s => s.LocalActivations),
        new(Hits, "hits", StatisticSource.Registry, Narrow: true, s => s.Hits),
        new(Misses, "misses", StatisticSource.Registry, Narrow: true, s => s.Misses),
        new(ReadHits, "read_hit", StatisticSource.Registry, Narrow: false, s => s.ReadHits),
        new(DirtyHits, "dirty_hit", StatisticSource.Registry, Narrow: true, s => s.DirtyHits),
        new(LookupMisses, "lk_miss", StatisticSource.Registry, Narrow: false, s => s.LookupMisses),
        new(Promotions, "promotions", StatisticSource.Registry, Narrow: true, s => s.Promotions),
        new(Removals, "removals", StatisticSource.Registry, Narrow: false, s => s.Removals),
        new(Purged, "purged", StatisticSource.Registry, Narrow: false, s => s.Purged),
        new(Evicted, "evicted", StatisticSource.Registry, Narrow: false, s => s.Evicted),
        new(DirectoryLookups, "dir lookups", StatisticSource.Orleans, Narrow: true, s => s.Directory.FullLookups),
        new(RemoteLookups, "dir remote", StatisticSource.Orleans, Narrow: false, s => s.Directory.RemoteLookups),
    ];

    /// <summary>The columns a report of these silos shows: Orleans' for every run, the registry's when a silo runs it.</summary>
    public static IReadOnlyList<StatisticColumn> For(IEnumerable<SiloStatistics> silos, bool narrow = false)
    {
        bool registry = silos.Any(s => s.Available);
        return [.. All.Where(c => (registry || c.Source == StatisticSource.Orleans) && (!narrow || c.Narrow))];
    }

    /// <summary>The silo's values of <paramref name="source"/>'s columns, by key (what a STATUS line holds).</summary>
    public static Dictionary<string, long> Values(SiloStatistics silo, StatisticSource source) =>
        All.Where(c => c.Source == source && c.AppliesTo(silo)).ToDictionary(c => c.Key, c => c.Value(silo), StringComparer.Ordinal);

    /// <summary><c> key=value</c> for each column the silo has.</summary>
    public static string KeyValues(SiloStatistics silo, IEnumerable<StatisticColumn> columns) =>
        string.Concat(columns.Where(c => c.AppliesTo(silo)).Select(c => string.Create(Invariant, $" {c.Key}={c.Value(silo)}")));

    /// <summary>
    /// A fixed-width text table: a header line, then a line per silo; a silo without a column shows <c>-</c>. Each line
    /// starts with <paramref name="indent"/> (the header line with <paramref name="label"/> in its place).
    /// </summary>
    public static IEnumerable<string> TextTable(IReadOnlyList<SiloStatistics> silos, IReadOnlyList<StatisticColumn> columns, string label, string indent)
    {
        int nameWidth = Math.Max(8, silos.Max(s => (int?)s.Silo.Length) ?? 0);
        int[] widths = [.. columns.Select(c => Math.Max(c.Header.Length, silos.Max(s => (int?)Cell(s, c).Length) ?? 0))];
        yield return label.PadRight(indent.Length) + "silo".PadRight(nameWidth) + string.Concat(columns.Select((c, i) => "  " + c.Header.PadLeft(widths[i])));
        foreach (SiloStatistics silo in silos)
        {
            yield return indent + silo.Silo.PadRight(nameWidth) + string.Concat(columns.Select((c, i) => "  " + Cell(silo, c).PadLeft(widths[i])));
        }
    }

    private static string Cell(SiloStatistics silo, StatisticColumn column) =>
        column.AppliesTo(silo) ? column.Value(silo).ToString(Invariant) : "-";
}
