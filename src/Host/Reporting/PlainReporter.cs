using System.Globalization;
using SyncMapRegistry.Host.Workload;

namespace SyncMapRegistry.Host.Reporting;

/// <summary>
/// Plain lines for logs, CI and tests: one <c>progress</c> line per interval, in <c>key=value</c> form, and a
/// summary block.
/// </summary>
internal sealed class PlainReporter(TextWriter output) : IRunReporter
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public void Message(string text) => output.WriteLine(text);

    public Task RunAsync(Func<Action<ProgressReport>, Task> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        return body(report => output.WriteLine(ProgressLine(report)));
    }

    public void Summary(RunSummary summary)
    {
        ArgumentNullException.ThrowIfNull(summary);
        output.Write(SummaryText(summary));
        output.Flush();
    }

    /// <summary>
    /// One progress line, for example <c>progress phase=running cache=syncmap t=5.0/30s calls=12000 rate=2400/s ...</c>:
    /// the run's figures and every column of <see cref="StatisticColumns"/> summed over the silos, then each silo's
    /// narrow columns.
    /// </summary>
    public static string ProgressLine(ProgressReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var line = string.Create(Invariant, $"progress phase={report.Phase} cache={Name(report.Cache)} t={report.Elapsed.TotalSeconds:0.0}/{report.Duration.TotalSeconds:0}s calls={report.Workload.Calls} rate={report.CallsPerSecond:0}/s cross-silo={report.Workload.CrossSiloShare:P1} failed={report.Workload.Failed}");
        line += StatisticColumns.KeyValues(report.Total, StatisticColumns.For(report.Silos));
        IReadOnlyList<StatisticColumn> narrow = StatisticColumns.For(report.Silos, narrow: true);
        return line + string.Concat(report.Silos.Select(s => $" | {s.Silo}{StatisticColumns.KeyValues(s, narrow)}"));
    }

    /// <summary>The summary block that closes every run, terminal or not.</summary>
    public static string SummaryText(RunSummary summary)
    {
        ArgumentNullException.ThrowIfNull(summary);
        var w = new StringWriter(Invariant);
        HostOptions o = summary.Options;
        WorkloadSnapshot calls = summary.Workload;
        LatencySummary latency = summary.Latency;
        ProcessCost cost = summary.Cost;
        SiloStatistics total = summary.Total;
        DirectoryLookups directory = summary.Directory;
        w.WriteLine();
        w.WriteLine(summary.Interrupted ? "=== SyncMapRegistry host: summary (interrupted) ===" : "=== SyncMapRegistry host: summary ===");
        w.WriteLine($"directory cache       {Name(o.DirectoryCache)}, cache size {(o.CacheSize is { } size ? size.ToString(Invariant) : "Orleans' default")}{(o.Churn ? ", churn (idle grains collected after 2 s)" : "")}");
        w.WriteLine($"silos                 {(o.HostsSilos ? $"{o.Silos} in this process (silo ports {o.SiloPort}..{o.SiloPort + o.Silos - 1}), " : "none in this process, ")}role {Name(o.Role)}, {Name(o.Clustering)} clustering");
        w.WriteLine($"workload              {o.Grains} grains, popularity {o.ParsedPopularity}, read ratio {o.ReadRatio:0.###}, cross-silo target {o.CrossSiloRatio:P0}, {(o.Rate > 0 ? $"{o.Rate} calls/s open loop" : $"{o.Concurrency} calls in flight")}");
        w.WriteLine($"duration              {summary.Elapsed.TotalSeconds:0.0} s of {o.Duration.TotalSeconds:0.#} s{(o.WarmUp > TimeSpan.Zero ? $", after a warm-up of {o.WarmUp.TotalSeconds:0.#} s (not counted)" : "")}");
        w.WriteLine($"grain calls           {calls.Calls} ({summary.CallsPerSecond:0}/s), failed {calls.Failed}; reads {calls.Reads}, updates {calls.Updates}, cross-silo {calls.CrossSilo} ({calls.CrossSiloShare:P1})");
        w.WriteLine($"latency ms            p50 {latency.P50:0.000}  p99 {latency.P99:0.000}  p99.9 {latency.P999:0.000}  max {latency.Max:0.000}  mean {latency.Mean:0.000}");
        w.WriteLine($"cpu per call          {summary.CpuMicrosecondsPerCall:0.0} us ({cost.CpuTime.TotalSeconds:0.00} s of processor time, whole process)");
        w.WriteLine($"allocated per call    {summary.BytesPerCall:0} B ({cost.AllocatedBytes} B in all)");
        w.WriteLine($"gc collections        gen0 {cost.Gen0}, gen1 {cost.Gen1}, gen2 {cost.Gen2}");
        w.WriteLine($"gc pause              {cost.GcPause.TotalMilliseconds:0.0} ms (managed threads stopped for collections)");
        if (!o.HostsSilos)
        {
            w.WriteLine("directory lookups     n/a (no silo in this process)");
            w.WriteLine("cache hit ratio       n/a (no silo in this process)");
        }
        else
        {
            // Orleans' own counters, for either cache, over the run (warm-up excluded).
            w.WriteLine($"directory lookups     {directory.FullLookups} ({PerThousand(directory.FullLookups)} per 1,000 calls); {directory.RemoteLookups} sent to another silo ({PerThousand(directory.RemoteLookups)} per 1,000 calls)");
            w.WriteLine(directory.CacheHitRatio is { } ratio
                ? $"cache hit ratio       {ratio * 100:0.00} % ({directory.CacheHits} of {directory.CacheLookups} cache lookups)"
                : "cache hit ratio       n/a (no cache lookup)");
        }

        if (!total.Available)
        {
            w.WriteLine($"registry              none ({Name(o.DirectoryCache)} ran)");
        }
        else
        {
            w.WriteLine($"registry lookups      {total.Hits + total.Misses}: {total.Hits} served by the registry (hit), {total.Misses} missed");
            w.WriteLine($"syncmap lookups       read_hit {(o.CountReadHits ? total.ReadHits.ToString(Invariant) : "not counted (--count-read-hits)")}, dirty_hit {total.DirtyHits}, miss {total.LookupMisses}");
            w.WriteLine($"promotions            {total.Promotions}");
            w.WriteLine($"entries now           {total.Entries} (purged {total.Purged}, removed by Orleans {total.Removals}, evicted {total.Evicted})");
            w.WriteLine($"activations now       {total.LocalActivations} (from the registries' local-activation indexes)");
        }

        if (summary.Silos.Count > 0)
        {
            foreach (string line in StatisticColumns.TextTable(summary.Silos, StatisticColumns.For(summary.Silos), "per silo", "                      "))
            {
                w.WriteLine(line);
            }
        }

        w.WriteLine($"otlp export           {(o.OtlpEndpoint is null ? "off" : o.OtlpEndpoint.ToString())}");
        return w.ToString();

        string PerThousand(long count) => calls.Calls == 0 ? "n/a" : (count * 1000.0 / calls.Calls).ToString("0.00", Invariant);
    }

    /// <summary>An option value as written on the command line: <c>syncmap</c>, <c>lru</c>.</summary>
    internal static string Name<T>(T value)
        where T : struct, Enum => value.ToString().ToLowerInvariant();
}
