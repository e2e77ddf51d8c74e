using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using SyncMapRegistry.Host.Output;
using SyncMapRegistry.Host.Telemetry;
using SyncMapRegistry.Host.Workload;

namespace SyncMapRegistry.Host.Cluster;

/// <summary>
/// One run of a host process that is one part of a cluster spanning processes or machines: it starts this
/// process's silos (clustered through Redis, or on localhost) or a cluster client, waits for the cluster to
/// reach <see cref="HostOptions.AwaitSilos"/> active silos, then drives the workload (roles <c>all</c> and
/// <c>client</c>) or only hosts grains (role <c>silo</c>) until <see cref="HostOptions.Duration"/> ends or Ctrl+C.
/// It shows progress like the single-process host and, when asked, writes <c>STATUS {json}</c> lines.
/// </summary>
internal sealed class ClusterRunner(HostOptions options, OtlpSettings? otlp, IRunReporter reporter, TextWriter output, TimeProvider time)
{
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan AwaitLimit = TimeSpan.FromMinutes(2);

    public async Task<RunSummary> RunAsync(CancellationToken cancellationToken)
    {
        bool hostsSilos = options.Role != HostRole.Client;
        IReadOnlyList<string> scopes = hostsSilos
            ? [.. LocalSiloCluster.Endpoints(options).Select(e => e.Name)]
            : [$"client-{Environment.ProcessId}"];
        using HostTelemetry? telemetry = HostTelemetry.Start(otlp, scopes, options.ClusterId);
        if (telemetry is not null)
        {
            reporter.Message($"exporting traces and metrics by OTLP ({telemetry.Settings.Protocol}) to {telemetry.Settings.Endpoint}");
        }

        string clustering = options.Clustering == ClusteringMode.Redis ? "Redis membership table" : "localhost clustering";
        LocalSiloCluster? cluster = null;
        IHost? client = null;
        ClusterWorkload? workload = null;
        ClusterStatus? status = null;
        long started = time.GetTimestamp();
        bool ranWorkload = false;
        try
        {
            try
            {
                if (hostsSilos)
                {
                    reporter.Message($"starting {options.Silos} silo(s) at {options.AdvertisedAddress} (silo ports {options.SiloPort}..{options.SiloPort + options.Silos - 1}, gateways {options.GatewayPort}..{options.GatewayPort + options.Silos - 1}), cluster '{options.ClusterId}' through the {clustering}");
                    cluster = await LocalSiloCluster.StartAsync(options, ClusterConfiguration.Silo(options), cancellationToken);
                    reporter.Message($"silo(s) up: {string.Join(", ", cluster.Silos.Select(s => $"{s.Name} = {s.Address.ToParsableString()}"))}");
                }
                else
                {
                    reporter.Message($"connecting a client to cluster '{options.ClusterId}' through the {clustering}");
                    SiloScope.Current = 0;
                    client = await ClusterConfiguration.StartClientAsync(options, cancellationToken);
                }

                IReadOnlyList<SiloNode> silos = cluster?.Silos ?? [];
                status = new ClusterStatus(options, output, time, silos, () => workload);
                status.Start();

                List<ClusterCaller> callers = cluster is not null
                    ? [.. cluster.Silos.Select(s => new ClusterCaller(s.Endpoint.Index, s.Name, s.GrainFactory, s.Address))]
                    : [new ClusterCaller(0, scopes[0], client!.Services.GetRequiredService<IClusterClient>(), null)];

                if (options.AwaitSilos > 0)
                {
                    status.Phase = "waiting";
                    reporter.Message($"waiting for {options.AwaitSilos} active silos");
                    int active = await AwaitSilosAsync(callers[0], cancellationToken);
                    reporter.Message($"{active} silos active");
                }

                if (options.Role == HostRole.Silo)
                {
                    status.Phase = "hosting";
                    reporter.Message($"hosting grains for {options.Duration.TotalSeconds:0.#} s (Ctrl+C stops)");
                    started = time.GetTimestamp();
                    await reporter.RunAsync(publish => HostAsync(status, started, publish, cancellationToken));
                }
                else
                {
                    workload = new ClusterWorkload(callers, options, time);
                    status.Phase = "warm-up";
                    reporter.Message($"activating {options.Grains} grains across the cluster");
                    await workload.ActivateAsync(cancellationToken);
                    status.Phase = "running";
                    reporter.Message($"running a read-mostly workload for {options.Duration.TotalSeconds:0.#} s (Ctrl+C stops it early)");
                    started = time.GetTimestamp();
                    ranWorkload = true;
                    await reporter.RunAsync(publish => DriveAsync(workload, status, started, publish, cancellationToken));
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Ctrl+C while starting or warming up: the summary says what was done.
            }

            TimeSpan elapsed = ranWorkload ? time.GetElapsedTime(started) : TimeSpan.Zero;
            var summary = new RunSummary(
                options,
                cancellationToken.IsCancellationRequested,
                elapsed > options.Duration ? options.Duration : elapsed,
                workload?.Snapshot() ?? default,
                status?.ReadRegistries() ?? [],
                telemetry?.Settings.Endpoint);
            if (status is not null)
            {
                status.Phase = "stopping";
                status.WriteNow();
            }

            string self = cluster is null ? "a client" : string.Join(", ", cluster.Silos.Select(s => s.Address.ToParsableString()));
            reporter.Message($"cluster '{options.ClusterId}' through the {clustering}; role {options.Role.ToString().ToLowerInvariant()}; this process: {self}");
            reporter.Summary(summary);
            return summary;
        }
        finally
        {
            reporter.Message(hostsSilos ? "stopping silos" : "stopping the client");
            if (status is not null)
            {
                await status.DisposeAsync();
            }

            if (cluster is not null)
            {
                await cluster.StopAsync(StopGrace);
            }

            if (client is not null)
            {
                using var stop = new CancellationTokenSource(StopGrace);
                try
                {
                    await client.StopAsync(stop.Token);
                }
                catch (OperationCanceledException)
                {
                    // Past the grace period.
                }

                client.Dispose();
            }
        }
    }

    /// <summary>Polls the management grain until the cluster has <see cref="HostOptions.AwaitSilos"/> active silos.</summary>
    private async Task<int> AwaitSilosAsync(ClusterCaller caller, CancellationToken cancellationToken)
    {
        IManagementGrain management = caller.Grains.GetGrain<IManagementGrain>(0);
        long started = time.GetTimestamp();
        while (true)
        {
            int active = 0;
            try
            {
                SiloScope.Current = caller.Scope;
                active = (await management.GetHosts(true, cancellationToken)).Count;
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                // A silo still joining may not answer yet.
            }

            if (active >= options.AwaitSilos)
            {
                return active;
            }

            if (time.GetElapsedTime(started) > AwaitLimit)
            {
                throw new TimeoutException($"The cluster has {active} active silos after {AwaitLimit.TotalSeconds:0} s; --await-silos asks for {options.AwaitSilos}.");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200), time, cancellationToken);
        }
    }

    private async Task HostAsync(ClusterStatus status, long started, Action<ProgressReport> publish, CancellationToken cancellationToken)
    {
        bool interrupted = await WorkloadDriver.RunAsync(
            null, options.Duration, options.ReportInterval, time, started, () => publish(Report("hosting", started, default, 0, status)), cancellationToken);
        publish(Report(interrupted ? "interrupted" : "done", started, default, 0, status));
    }

    private async Task DriveAsync(ClusterWorkload workload, ClusterStatus status, long started, Action<ProgressReport> publish, CancellationToken cancellationToken)
    {
        long lastCalls = 0;
        long lastTimestamp = started;
        bool interrupted = await WorkloadDriver.RunAsync(workload.RunAsync, options.Duration, options.ReportInterval, time, started, Tick, cancellationToken);
        WorkloadSnapshot final = workload.Snapshot();
        TimeSpan elapsed = time.GetElapsedTime(started);
        publish(Report(interrupted ? "interrupted" : "done", started, final, final.Calls / Math.Max(elapsed.TotalSeconds, 1e-3), status));

        void Tick()
        {
            long now = time.GetTimestamp();
            WorkloadSnapshot snapshot = workload.Snapshot();
            double seconds = time.GetElapsedTime(lastTimestamp, now).TotalSeconds;
            publish(Report("running", started, snapshot, seconds <= 0 ? 0 : (snapshot.Calls - lastCalls) / seconds, status));
            lastCalls = snapshot.Calls;
            lastTimestamp = now;
        }
    }

    private ProgressReport Report(string phase, long started, WorkloadSnapshot snapshot, double rate, ClusterStatus status)
    {
        TimeSpan elapsed = time.GetElapsedTime(started);
        return new ProgressReport(phase, elapsed > options.Duration ? options.Duration : elapsed, options.Duration, snapshot, rate, status.ReadRegistries());
    }
}
