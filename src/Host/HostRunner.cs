using SyncMapRegistry.Host.Cluster;
using SyncMapRegistry.Host.Output;
using SyncMapRegistry.Host.Registry;
using SyncMapRegistry.Host.Telemetry;
using SyncMapRegistry.Host.Workload;

namespace SyncMapRegistry.Host;

/// <summary>
/// One run of the host: start the silos, warm up, drive the workload while reporting, print the summary,
/// stop the silos. Cancellation (Ctrl+C) ends the workload early and still prints the summary.
/// </summary>
internal sealed class HostRunner(HostOptions options, OtlpSettings? otlp, IRunReporter reporter, TimeProvider time)
{
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(10);

    public async Task<RunSummary> RunAsync(CancellationToken cancellationToken)
    {
        IReadOnlyList<SiloEndpoint> endpoints = LocalSiloCluster.Endpoints(options);
        using HostTelemetry? telemetry = HostTelemetry.Start(otlp, [.. endpoints.Select(e => e.Name)], options.ClusterId);
        if (telemetry is not null)
        {
            reporter.Message($"exporting traces and metrics by OTLP ({telemetry.Settings.Protocol}) to {telemetry.Settings.Endpoint}");
        }

        reporter.Message($"starting {options.Silos} silos on 127.0.0.1 (silo ports {options.SiloPort}..{options.SiloPort + options.Silos - 1})");
        LocalSiloCluster cluster;
        try
        {
            cluster = await LocalSiloCluster.StartAsync(options, LocalSiloCluster.LocalhostClustering(options), cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            var empty = new RunSummary(options, true, TimeSpan.Zero, default, [.. endpoints.Select(e => SiloRegistrySnapshot.Unavailable(e.Name))], otlp?.Endpoint);
            reporter.Summary(empty);
            return empty;
        }

        await using (cluster)
        {
            var callers = cluster.Silos.Select(s => new WorkloadCaller(s.Endpoint.Index, s.Name, s.GrainFactory, s.Address)).ToList();
            var workload = new GrainWorkload(callers, options, time);
            reporter.Message($"activating {options.Grains} grains across {options.Silos} silos");
            long started = time.GetTimestamp();
            try
            {
                await workload.ActivateAsync(cancellationToken);
                reporter.Message($"running a read-mostly workload for {options.Duration.TotalSeconds:0.#} s (Ctrl+C stops it early)");
                started = time.GetTimestamp();
                await reporter.RunAsync(publish => DriveAsync(workload, cluster, started, publish, cancellationToken));
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Ctrl+C during the warm-up: the summary says what was done.
            }

            TimeSpan elapsed = time.GetElapsedTime(started);
            var summary = new RunSummary(
                options,
                cancellationToken.IsCancellationRequested,
                elapsed > options.Duration ? options.Duration : elapsed,
                workload.Snapshot(),
                ReadRegistries(cluster),
                telemetry?.Settings.Endpoint);
            reporter.Summary(summary);
            reporter.Message("stopping silos");
            await cluster.StopAsync(StopGrace);
            return summary;
        }
    }

    private async Task DriveAsync(GrainWorkload workload, LocalSiloCluster cluster, long started, Action<ProgressReport> publish, CancellationToken cancellationToken)
    {
        long lastCalls = 0;
        long lastTimestamp = started;
        bool interrupted = await WorkloadDriver.RunAsync(
            workload.RunAsync, options.Duration, options.ReportInterval, time, started, () => publish(Report("running")), cancellationToken);
        publish(Report(interrupted ? "interrupted" : "done"));

        ProgressReport Report(string phase)
        {
            long now = time.GetTimestamp();
            WorkloadSnapshot snapshot = workload.Snapshot();
            double seconds = time.GetElapsedTime(lastTimestamp, now).TotalSeconds;
            TimeSpan elapsed = time.GetElapsedTime(started, now);

            // While running: the rate over the last interval; at the end: over the whole run.
            double rate = phase != "running"
                ? snapshot.Calls / Math.Max(elapsed.TotalSeconds, 1e-3)
                : seconds <= 0 ? 0 : (snapshot.Calls - lastCalls) / seconds;
            lastCalls = snapshot.Calls;
            lastTimestamp = now;
            return new ProgressReport(phase, elapsed > options.Duration ? options.Duration : elapsed, options.Duration, snapshot, rate, ReadRegistries(cluster));
        }
    }

    private static List<SiloRegistrySnapshot> ReadRegistries(LocalSiloCluster cluster) =>
        [.. cluster.Silos.Select(s => RegistryWiring.Read(s.Services, s.Name))];
}
