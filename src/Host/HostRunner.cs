using SyncMapRegistry.Host.Cluster;
using SyncMapRegistry.Host.Harness;
using SyncMapRegistry.Host.Reporting;
using SyncMapRegistry.Host.Telemetry;
using SyncMapRegistry.Host.Workload;

namespace SyncMapRegistry.Host;

/// <summary>
/// One run of the host, whatever its role: start this process's silos (or its client), wait for the cluster when
/// asked, warm up, drive the workload (or only host grains) while reporting, print the summary, stop. Cancellation
/// (Ctrl+C) ends the run early and still prints the summary.
/// </summary>
internal sealed class HostRunner(HostOptions options, IRunReporter reporter, TextWriter output, TimeProvider time)
{
    private static readonly TimeSpan AwaitLimit = TimeSpan.FromMinutes(2);

    // Below a timer's resolution a delay returns at once: the run is over.
    private static readonly TimeSpan MinDelay = TimeSpan.FromMilliseconds(5);

    public async Task<RunSummary> RunAsync(CancellationToken cancellationToken)
    {
        using HostTelemetry? telemetry = StartTelemetry();

        // Started before the silos, so that it counts from their first directory lookup.
        using var directory = new DirectoryCounters();
        SiloCluster? cluster = null;
        StatusWriter? status = null;
        GrainWorkload? workload = null;
        TimeSpan elapsed = TimeSpan.Zero;
        ProcessCost cost = default;
        DirectoryLookups lookups = default;
        try
        {
            try
            {
                reporter.Message(options.HostsSilos
                    ? $"starting {options.Silos} silo(s) at {options.AdvertisedAddress} (silo ports {options.SiloPort}..{options.SiloPort + options.Silos - 1}), cluster '{options.ClusterId}', {PlainReporter.Name(options.Clustering)} clustering, directory cache {PlainReporter.Name(options.DirectoryCache)}"
                    : $"connecting a client to cluster '{options.ClusterId}', {PlainReporter.Name(options.Clustering)} clustering");
                cluster = await SiloCluster.StartAsync(options, telemetry, cancellationToken);
                status = new StatusWriter(options, output, time, cluster.Silos, directory, () => workload);
                status.Start();
                List<Caller> callers = cluster.Client is { } client
                    ? [new Caller(0, client, null)]
                    : [.. cluster.Silos.Select(s => new Caller(s.Endpoint.Index, s.GrainFactory, s.Address))];
                if (options.AwaitSilos > 0)
                {
                    status.Phase = "waiting";
                    reporter.Message($"waiting for {options.AwaitSilos} active silos");
                    await AwaitSilosAsync(callers[0], cancellationToken);
                }

                if (options.DrivesWorkload)
                {
                    workload = new GrainWorkload(callers, options, time);
                    status.Phase = "warm-up";
                    reporter.Message($"activating {options.Grains} grains");
                    await workload.ActivateAsync(cancellationToken);
                    if (options.WarmUp > TimeSpan.Zero)
                    {
                        reporter.Message($"warming up for {options.WarmUp.TotalSeconds:0.#} s (not counted)");
                        await WarmUpAsync(callers, cancellationToken);
                    }
                }

                status.Phase = workload is null ? "hosting" : "running";
                reporter.Message($"{(workload is null ? "hosting grains" : "running the workload")} for {options.Duration.TotalSeconds:0.#} s (Ctrl+C stops it early)");
                ProcessCost before = ProcessCost.Now();
                DirectoryLookups lookupsBefore = SumDirectory(cluster, directory);
                long started = time.GetTimestamp();
                await reporter.RunAsync(publish => DriveAsync(workload, cluster, directory, started, publish, cancellationToken));
                elapsed = time.GetElapsedTime(started);
                cost = ProcessCost.Now() - before;
                lookups = SumDirectory(cluster, directory) - lookupsBefore;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Ctrl+C while starting or warming up: the summary says what was done.
            }

            var summary = new RunSummary(
                options,
                cancellationToken.IsCancellationRequested,
                elapsed > options.Duration ? options.Duration : elapsed,
                workload?.Snapshot() ?? default,
                workload?.Latency() ?? default,
                cost,
                ReadSilos(cluster, directory),
                lookups);
            if (status is not null)
            {
                status.Phase = "stopping";
                status.WriteNow();
            }

            reporter.Summary(summary);
            return summary;
        }
        finally
        {
            reporter.Message(options.HostsSilos ? "stopping silos" : "stopping the client");
            if (status is not null)
            {
                await status.DisposeAsync();
            }

            if (cluster is not null)
            {
                await cluster.DisposeAsync();
            }
        }
    }

    /// <summary>Runs the workload (if any) for the duration, publishing progress every report interval.</summary>
    private async Task DriveAsync(GrainWorkload? workload, SiloCluster cluster, DirectoryCounters directory, long started, Action<ProgressReport> publish, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task running = workload?.RunAsync(stop.Token) ?? Task.CompletedTask;
        long lastCalls = 0;
        long lastTimestamp = started;
        try
        {
            while (options.Duration - time.GetElapsedTime(started) is var remaining && remaining >= MinDelay)
            {
                await Task.Delay(remaining < options.ReportInterval ? remaining : options.ReportInterval, time, cancellationToken);
                long now = time.GetTimestamp();
                long calls = workload?.Snapshot().Calls ?? 0;
                publish(Report(workload is null ? "hosting" : "running", (calls - lastCalls) / Math.Max(time.GetElapsedTime(lastTimestamp, now).TotalSeconds, 1e-3)));
                (lastCalls, lastTimestamp) = (calls, now);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Ctrl+C: stop the workload and report where it got to.
        }

        await stop.CancelAsync();
        await running;
        long total = workload?.Snapshot().Calls ?? 0;
        publish(Report(cancellationToken.IsCancellationRequested ? "interrupted" : "done", total / Math.Max(time.GetElapsedTime(started).TotalSeconds, 1e-3)));

        ProgressReport Report(string phase, double rate)
        {
            TimeSpan elapsed = time.GetElapsedTime(started);
            return new ProgressReport(phase, options.DirectoryCache, elapsed > options.Duration ? options.Duration : elapsed, options.Duration, workload?.Snapshot() ?? default, rate, ReadSilos(cluster, directory));
        }
    }

    /// <summary>
    /// Runs the workload for <see cref="HostOptions.WarmUp"/> on a workload of its own, whose counters are dropped: the
    /// measured run starts with the process's counters read afterwards, and its workload counts from zero.
    /// </summary>
    private async Task WarmUpAsync(IReadOnlyList<Caller> callers, CancellationToken cancellationToken)
    {
        var warmUp = new GrainWorkload(callers, options, time);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task running = warmUp.RunAsync(stop.Token);
        try
        {
            await Task.Delay(options.WarmUp, time, cancellationToken);
        }
        finally
        {
            await stop.CancelAsync();
            await running;
        }
    }

    /// <summary>Polls the management grain until the cluster has <see cref="HostOptions.AwaitSilos"/> active silos.</summary>
    private async Task AwaitSilosAsync(Caller caller, CancellationToken cancellationToken)
    {
        IManagementGrain management = caller.Grains.GetGrain<IManagementGrain>(0);
        long started = time.GetTimestamp();
        int active = 0;
        while (active < options.AwaitSilos)
        {
            if (time.GetElapsedTime(started) > AwaitLimit)
            {
                throw new TimeoutException($"The cluster has {active} active silos after {AwaitLimit.TotalSeconds:0} s; --await-silos asks for {options.AwaitSilos}.");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200), time, cancellationToken);
            try
            {
                SiloScope.Current = caller.Scope;
                active = (await management.GetHosts(true, cancellationToken)).Count;
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                // A silo still joining may not answer yet.
            }
        }

        reporter.Message($"{active} silos active");
    }

    private static List<SiloStatistics> ReadSilos(SiloCluster? cluster, DirectoryCounters directory) =>
        [.. (cluster?.Silos ?? []).Select(s => SiloStatistics.Read(s.Services, s.Name, directory))];

    private static DirectoryLookups SumDirectory(SiloCluster cluster, DirectoryCounters directory) =>
        cluster.Silos.Aggregate(default(DirectoryLookups), (sum, s) => sum + directory.Read(s.Services));

    /// <summary>OTLP export when an endpoint is set; the SDK reads the standard OTEL_* variables itself.</summary>
    private HostTelemetry? StartTelemetry()
    {
        IReadOnlyList<string> scopes = options.HostsSilos ? [.. SiloCluster.Endpoints(options).Select(e => e.Name)] : [$"client-{Environment.ProcessId}"];
        OtlpSettings? settings = OtlpSettings.For(options.OtlpEndpoint, options.OtlpTimeout, Environment.GetEnvironmentVariable);
        HostTelemetry? telemetry = HostTelemetry.Start(settings, scopes, options.ClusterId);
        if (telemetry is not null)
        {
            reporter.Message($"exporting traces, metrics and logs by OTLP to {telemetry.Settings.Endpoint}");
        }

        return telemetry;
    }
}
