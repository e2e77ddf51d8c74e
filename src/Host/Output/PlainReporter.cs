using System.Globalization;
using SyncMapRegistry.Host.Registry;

namespace SyncMapRegistry.Host.Output;

/// <summary>
/// Plain lines for logs, CI and tests: one <c>progress</c> line per interval, in <c>key=value</c> form, and a
/// summary block.
/// </summary>
internal sealed class PlainReporter(TextWriter output, TimeProvider time) : IRunReporter
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
        output.Write(SummaryText(summary, time));
        output.Flush();
    }

    /// <summary>One progress line, for example <c>progress t=5.0/30s calls=12000 rate=2400/s ...</c>.</summary>
    public static string ProgressLine(ProgressReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        SiloRegistrySnapshot total = report.Total;
        var line = string.Create(Invariant, $"progress phase={report.Phase} t={report.Elapsed.TotalSeconds:0.0}/{report.Duration.TotalSeconds:0}s calls={report.Workload.Calls} rate={report.CallsPerSecond:0}/s cross-silo={report.Workload.CrossSiloShare:P1} failed={report.Workload.Failed} entries={total.Entries} hits={total.Hits} misses={total.Misses} promotions={total.Promotions} rebuilds={total.DirtyRebuilds}");
        return line + string.Concat(report.Silos.Select(s => string.Create(Invariant, $" | {s.Silo} entries={s.Entries} hits={s.Hits} misses={s.Misses} promotions={s.Promotions}")));
    }

    /// <summary>The summary block that closes every run, terminal or not.</summary>
    public static string SummaryText(RunSummary summary, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(summary);
        var w = new StringWriter(Invariant);
        HostOptions o = summary.Options;
        SiloRegistrySnapshot total = summary.Total;
        w.WriteLine();
        w.WriteLine(summary.Interrupted ? "=== SyncMapRegistry host: summary (interrupted) ===" : "=== SyncMapRegistry host: summary ===");
        w.WriteLine($"silos                 {o.Silos} on 127.0.0.1 (silo ports {o.SiloPort}..{o.SiloPort + o.Silos - 1}, gateways {o.GatewayPort}..{o.GatewayPort + o.Silos - 1})");
        w.WriteLine($"workload              {o.Grains} grains, read ratio {o.ReadRatio:0.###}, cross-silo target {o.CrossSiloRatio:P0}, {o.Concurrency} calls in flight");
        w.WriteLine($"duration              {summary.Elapsed.TotalSeconds:0.0} s of {o.Duration.TotalSeconds:0.#} s");
        w.WriteLine($"grain calls           {summary.Workload.Calls} ({summary.CallsPerSecond:0}/s), mean latency {summary.MeanLatency(time).TotalMilliseconds:0.000} ms, failed {summary.Workload.Failed}");
        w.WriteLine($"reads / updates       {summary.Workload.Reads} / {summary.Workload.Updates}");
        w.WriteLine($"cross-silo calls      {summary.Workload.CrossSilo} ({summary.Workload.CrossSiloShare:P1})");
        if (!total.Available)
        {
            w.WriteLine("registry              not available on these silos");
        }
        else
        {
            w.WriteLine($"registry lookups      {total.Hits + total.Misses}: {total.Hits} served by the registry (hit), {total.Misses} missed");
            w.WriteLine($"syncmap lookups       read_hit {total.ReadHits}, dirty_hit {total.DirtyHits}, miss {total.LookupMisses}");
            w.WriteLine($"promotions            {total.Promotions}, dirty rebuilds {total.DirtyRebuilds}");
            w.WriteLine($"entries now           {total.Entries} (purged {total.Purged}, evicted {total.Evicted})");
            w.WriteLine($"activations now       {total.LocalActivations} (from the registries' local-activation indexes)");
            w.WriteLine("per silo              silo     entries  activations         hits   misses     read_hit  dirty_hit  lk_miss  promotions  rebuilds  purged");
            foreach (SiloRegistrySnapshot s in summary.Silos)
            {
                w.WriteLine($"                      {s.Silo,-8} {s.Entries,7} {s.LocalActivations,12} {s.Hits,12} {s.Misses,8} {s.ReadHits,12} {s.DirtyHits,10} {s.LookupMisses,8} {s.Promotions,11} {s.DirtyRebuilds,9} {s.Purged,7}");
            }
        }

        w.WriteLine($"otlp export           {(summary.OtlpEndpoint is null ? "off" : summary.OtlpEndpoint.ToString())}");
        return w.ToString();
    }
}
