using System.Globalization;
using SyncMapRegistry.Host.Registry;
using SyncMapRegistry.Host.Workload;

namespace SyncMapRegistry.Host.Output;

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

    /// <summary>One progress line, for example <c>progress t=5.0/30s calls=12000 rate=2400/s ...</c>.</summary>
    public static string ProgressLine(ProgressReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        SiloRegistrySnapshot total = report.Total;
        var line = string.Create(Invariant, $"progress phase={report.Phase} cache={Name(report.Cache)} t={report.Elapsed.TotalSeconds:0.0}/{report.Duration.TotalSeconds:0}s calls={report.Workload.Calls} rate={report.CallsPerSecond:0}/s cross-silo={report.Workload.CrossSiloShare:P1} failed={report.Workload.Failed} entries={total.Entries} hits={total.Hits} misses={total.Misses} promotions={total.Promotions} copied={total.EntriesCopied}");
        return line + string.Concat(report.Silos.Select(s => string.Create(Invariant, $" | {s.Silo} entries={s.Entries} hits={s.Hits} misses={s.Misses} promotions={s.Promotions}")));
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
        SiloRegistrySnapshot total = summary.Total;
        w.WriteLine();
        w.WriteLine(summary.Interrupted ? "=== SyncMapRegistry host: summary (interrupted) ===" : "=== SyncMapRegistry host: summary ===");
        w.WriteLine($"directory cache       {Name(o.DirectoryCache)}{(o.Churn ? ", churn (idle grains collected after 2 s)" : "")}");
        w.WriteLine($"silos                 {(o.HostsSilos ? $"{o.Silos} in this process (silo ports {o.SiloPort}..{o.SiloPort + o.Silos - 1}), " : "none in this process, ")}role {Name(o.Role)}, {Name(o.Clustering)} clustering");
        w.WriteLine($"workload              {o.Grains} grains, read ratio {o.ReadRatio:0.###}, cross-silo target {o.CrossSiloRatio:P0}, {(o.Rate > 0 ? $"{o.Rate} calls/s open loop" : $"{o.Concurrency} calls in flight")}");
        w.WriteLine($"duration              {summary.Elapsed.TotalSeconds:0.0} s of {o.Duration.TotalSeconds:0.#} s");
        w.WriteLine($"grain calls           {calls.Calls} ({summary.CallsPerSecond:0}/s), failed {calls.Failed}; reads {calls.Reads}, updates {calls.Updates}, cross-silo {calls.CrossSilo} ({calls.CrossSiloShare:P1})");
        w.WriteLine($"latency ms            p50 {latency.P50:0.000}  p99 {latency.P99:0.000}  p99.9 {latency.P999:0.000}  max {latency.Max:0.000}  mean {latency.Mean:0.000}");
        w.WriteLine($"cpu per call          {summary.CpuMicrosecondsPerCall:0.0} us ({cost.CpuTime.TotalSeconds:0.00} s of processor time, whole process)");
        w.WriteLine($"allocated per call    {summary.BytesPerCall:0} B ({cost.AllocatedBytes} B in all)");
        w.WriteLine($"gc collections        gen0 {cost.Gen0}, gen1 {cost.Gen1}, gen2 {cost.Gen2}");
        if (!total.Available)
        {
            w.WriteLine($"registry              none ({Name(o.DirectoryCache)} ran)");
        }
        else
        {
            w.WriteLine($"registry lookups      {total.Hits + total.Misses}: {total.Hits} served by the registry (hit), {total.Misses} missed");
            w.WriteLine($"syncmap lookups       read_hit {total.ReadHits}, dirty_hit {total.DirtyHits}, miss {total.LookupMisses}");
            w.WriteLine($"promotions            {total.Promotions}, copying {total.EntriesCopied} entries");
            w.WriteLine($"entries now           {total.Entries} (purged {total.Purged}, evicted {total.Evicted})");
            w.WriteLine($"activations now       {total.LocalActivations} (from the registries' local-activation indexes)");
            w.WriteLine("per silo              silo     entries  activations         hits   misses     read_hit  dirty_hit  lk_miss  promotions    copied  purged");
            foreach (SiloRegistrySnapshot s in summary.Silos)
            {
                w.WriteLine($"                      {s.Silo,-8} {s.Entries,7} {s.LocalActivations,12} {s.Hits,12} {s.Misses,8} {s.ReadHits,12} {s.DirtyHits,10} {s.LookupMisses,8} {s.Promotions,11} {s.EntriesCopied,9} {s.Purged,7}");
            }
        }

        w.WriteLine($"otlp export           {(o.OtlpEndpoint is null ? "off" : o.OtlpEndpoint.ToString())}");
        return w.ToString();
    }

    /// <summary>An option value as written on the command line: <c>syncmap</c>, <c>lru</c>.</summary>
    internal static string Name<T>(T value)
        where T : struct, Enum => value.ToString().ToLowerInvariant();
}
