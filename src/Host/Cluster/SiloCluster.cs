using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using OpenTelemetry.Logs;
using Orleans.Configuration;
using SyncMapRegistry.Host.Telemetry;

namespace SyncMapRegistry.Host.Cluster;

/// <summary>Where one silo of this process listens.</summary>
/// <param name="Index">The silo's index in this process, from 0; also its <see cref="SiloScope"/>.</param>
/// <param name="Name">The silo's name.</param>
/// <param name="SiloPort">The silo-to-silo port.</param>
/// <param name="GatewayPort">The client gateway port.</param>
internal readonly record struct SiloEndpoint(int Index, string Name, int SiloPort, int GatewayPort);

/// <summary>One running silo: its generic host and what the workload and the reports need from it.</summary>
internal sealed class SiloNode(SiloEndpoint endpoint, IHost host)
{
    public SiloEndpoint Endpoint { get; } = endpoint;

    public string Name => Endpoint.Name;

    public IHost Host { get; } = host;

    public IServiceProvider Services => Host.Services;

    public IGrainFactory GrainFactory => Host.Services.GetRequiredService<IGrainFactory>();

    public SiloAddress Address => Host.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress;
}

/// <summary>
/// This process's silos, each a generic host of its own, or its cluster client. The silos cluster on 127.0.0.1
/// (Orleans' localhost clustering, silo 0 the primary) or through a Redis membership table, which processes on
/// any machine join.
/// </summary>
internal sealed class SiloCluster : IAsyncDisposable
{
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(10);

    private readonly HostOptions _options;
    private readonly HostTelemetry? _telemetry;
    private readonly List<SiloNode> _silos = [];
    private IHost? _client;

    // Set once the cluster starts stopping. Silos of one process stop one after another, so the last ones log
    // errors about the silos already gone; those are expected and would only bury the summary.
    private volatile bool _stopping;

    private SiloCluster(HostOptions options, HostTelemetry? telemetry)
    {
        _options = options;
        _telemetry = telemetry;
    }

    /// <summary>This process's silos, by index; empty for a client.</summary>
    public IReadOnlyList<SiloNode> Silos => _silos;

    /// <summary>The cluster client, for <see cref="HostRole.Client"/>.</summary>
    public IClusterClient? Client => _client?.Services.GetRequiredService<IClusterClient>();

    /// <summary>The endpoints of this process's silos.</summary>
    public static IReadOnlyList<SiloEndpoint> Endpoints(HostOptions options) =>
        [.. Enumerable.Range(0, options.Silos).Select(i => new SiloEndpoint(i, options.SiloName(i), options.SiloPort + i, options.GatewayPort + i))];

    /// <summary>
    /// Starts the silos (the first, then the others together) or the client; stops what started if one fails, and
    /// then throws the error that made it fail (never one from the cleanup). With <paramref name="telemetry"/>, each
    /// silo's logs are exported under its resource too.
    /// </summary>
    /// <exception cref="HostFailedException">A port is in use, or a client found no gateway within <see cref="HostOptions.ConnectTimeout"/>.</exception>
    public static async Task<SiloCluster> StartAsync(HostOptions options, HostTelemetry? telemetry, CancellationToken cancellationToken)
    {
        var cluster = new SiloCluster(options, telemetry);
        try
        {
            if (options.HostsSilos)
            {
                IReadOnlyList<SiloEndpoint> endpoints = Endpoints(options);
                await cluster.StartSiloAsync(endpoints[0], cancellationToken);
                await Task.WhenAll(endpoints.Skip(1).Select(e => cluster.StartSiloAsync(e, cancellationToken)));
            }
            else
            {
                await cluster.StartClientAsync(cancellationToken);
            }

            return cluster;
        }
        catch
        {
            // The start's error is the one to report: a failure while stopping what did start is dropped here (the
            // silos' own logs, on standard error, carry it).
            try
            {
                await cluster.DisposeAsync();
            }
            catch (Exception cleanup) when (cleanup is not OutOfMemoryException)
            {
            }

            throw;
        }
    }

    /// <summary>
    /// The membership settings of <see cref="MembershipProfile.Fast"/>: a silo killed outright is suspected after two
    /// missed probes of at most 3 s each, by each of two silos, so it is declared dead within a few seconds.
    /// </summary>
    public static void ApplyFast(ClusterMembershipOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.ProbeTimeout = TimeSpan.FromSeconds(1);
        options.MinProbeTimeout = TimeSpan.FromMilliseconds(500);
        options.MaxProbeTimeout = TimeSpan.FromSeconds(3);
        options.NumMissedProbesLimit = 2;

        // A silo that is only slow (a busy machine, a GC pause) must not be voted dead: probes wait longer while the
        // prober itself is degraded, and a silo whose connection still carries messages is not suspected. A killed
        // silo refuses connections, so neither delays its detection.
        options.ExtendProbeTimeoutDuringDegradation = true;
        options.EnableConnectionLivenessCheck = true;
        options.DeathVoteExpirationTimeout = TimeSpan.FromSeconds(10);
        options.TableRefreshTimeout = TimeSpan.FromSeconds(2);
        options.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(5);
        options.MaxJoinAttemptTime = TimeSpan.FromSeconds(30);
    }

    private async Task StartSiloAsync(SiloEndpoint endpoint, CancellationToken cancellationToken)
    {
        // Everything the silo starts inherits this scope; see SiloScope.
        SiloScope.Current = endpoint.Index;
        HostApplicationBuilder builder = CreateBuilder(endpoint.Index);
        builder.UseOrleans(silo => ConfigureSilo(silo, endpoint));
        IHost host = builder.Build();
        try
        {
            await host.StartAsync(cancellationToken);
        }
        catch (Exception exception)
        {
            // A silo that did not start is disposed, never stopped: Orleans refuses to stop a silo that is not Running
            // ("Attempted to shutdown a silo which is not in the Running state"), and that error would hide this one.
            await DisposeHostAsync(host);
            if (InUse(exception) is { } inUse)
            {
                throw new HostFailedException(
                    $"{endpoint.Name} could not start: {PortsInUse(endpoint, exception)} already in use ({inUse.Message}). Choose free ports with --silo-port and --gateway-port.",
                    exception);
            }

            throw;
        }

        // Only started silos are listed: only they are stopped.
        lock (_silos)
        {
            _silos.Add(new SiloNode(endpoint, host));
            _silos.Sort((a, b) => a.Endpoint.Index.CompareTo(b.Endpoint.Index));
        }
    }

    /// <summary>Starts the client; gives up after <see cref="HostOptions.ConnectTimeout"/> when no gateway answers.</summary>
    private async Task StartClientAsync(CancellationToken cancellationToken)
    {
        SiloScope.Current = 0;
        IHost client = BuildClient();
        using var connect = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        connect.CancelAfter(_options.ConnectTimeout);
        try
        {
            await client.StartAsync(connect.Token);
        }
        catch (Exception exception)
        {
            // Like a silo, a client that did not start is disposed, never stopped.
            await DisposeHostAsync(client);
            if (exception is OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                string gateways = _options.Clustering == ClusteringMode.Redis
                    ? $"the gateways in the Redis membership table at {_options.Redis}"
                    : $"gateway ports {_options.GatewayPort}..{_options.GatewayPort + _options.Silos - 1} on 127.0.0.1";
                throw new HostFailedException(
                    $"the client found no gateway of cluster '{_options.ClusterId}' within {_options.ConnectTimeout.TotalSeconds:0.#} s (--connect-timeout); it tried {gateways}. Start the cluster's silos first (--role silo or all), or check --cluster-id, --clustering and --gateway-port.",
                    exception);
            }

            throw;
        }

        _client = client;
    }

    /// <summary>The socket error of a port already in use, wherever it sits among <paramref name="exception"/>'s causes.</summary>
    private static Exception? InUse(Exception exception)
    {
        for (Exception? e = exception; e is not null; e = e.InnerException)
        {
            if (e is SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse } || e.GetType().Name == "AddressInUseException")
            {
                return e;
            }

            if (e is AggregateException aggregate && aggregate.InnerExceptions.Select(InUse).FirstOrDefault(x => x is not null) is { } inner)
            {
                return inner;
            }
        }

        return null;
    }

    /// <summary>
    /// Which of the silo's two ports was taken, from the frames of the error's stack trace: Orleans (10.4) binds the
    /// silo port in <c>SiloConnectionListener</c>'s start, whose frame shows, and the gateway port from the base
    /// <c>ConnectionListener.BindAsync</c> alone. Both ports when neither frame is there. (Trying to bind the ports
    /// now would not tell: the failed silo may still hold the one it did bind.)
    /// </summary>
    private static string PortsInUse(SiloEndpoint endpoint, Exception exception)
    {
        string trace = exception.ToString();
        if (trace.Contains("SiloConnectionListener", StringComparison.Ordinal))
        {
            return $"its silo port {endpoint.SiloPort} is";
        }

        return trace.Contains("GatewayConnectionListener", StringComparison.Ordinal) || trace.Contains("ConnectionListener.BindAsync", StringComparison.Ordinal)
            ? $"its gateway port {endpoint.GatewayPort} is"
            : $"its silo port {endpoint.SiloPort} or gateway port {endpoint.GatewayPort} is";
    }

    private void ConfigureSilo(ISiloBuilder silo, SiloEndpoint endpoint)
    {
        if (_options.Clustering == ClusteringMode.Redis)
        {
            silo.UseRedisClustering(_options.Redis!);
            silo.Configure<ClusterOptions>(o => o.ClusterId = o.ServiceId = _options.ClusterId);

            // Listen on every interface once the silo is meant to be reached from other machines.
            IPAddress advertised = _options.Advertised;
            silo.ConfigureEndpoints(advertised, endpoint.SiloPort, endpoint.GatewayPort, listenOnAnyHostAddress: !IPAddress.IsLoopback(advertised));
        }
        else
        {
            var primary = new IPEndPoint(IPAddress.Loopback, _options.SiloPort);
            silo.UseLocalhostClustering(endpoint.SiloPort, endpoint.GatewayPort, primary, serviceId: _options.ClusterId, clusterId: _options.ClusterId);
        }

        if (_options.Membership == MembershipProfile.Fast)
        {
            silo.Configure<ClusterMembershipOptions>(ApplyFast);
        }

        if (_options.Churn)
        {
            // Orleans collects a grain idle for CollectionAge at the next quantum, which must be the shorter.
            silo.Configure<GrainCollectionOptions>(o =>
            {
                o.CollectionQuantum = HostOptions.ChurnCollectionAge / 2;
                o.CollectionAge = HostOptions.ChurnCollectionAge;
            });
        }

        if (_options.CacheSize is { } cacheSize)
        {
            // Orleans' LRU takes its capacity from here; SyncMapRegistry takes its cap from here unless its own MaxEntries is set.
            silo.Configure<GrainDirectoryOptions>(o => o.CacheSize = cacheSize);
        }

        silo.Configure<SiloOptions>(o => o.SiloName = endpoint.Name);
        silo.AddActivityPropagation();
        if (_options.DirectoryCache == DirectoryCacheKind.SyncMap)
        {
            RegistryWiring.AddRegistry(silo, endpoint.Name, _options.CountReadHits);
        }
    }

    private IHost BuildClient()
    {
        HostApplicationBuilder builder = CreateBuilder(0);
        builder.UseOrleansClient(client =>
        {
            if (_options.Clustering == ClusteringMode.Redis)
            {
                client.UseRedisClustering(_options.Redis!);
                client.Configure<ClusterOptions>(o => o.ClusterId = o.ServiceId = _options.ClusterId);
            }
            else
            {
                client.UseLocalhostClustering([.. Enumerable.Range(0, _options.Silos).Select(i => _options.GatewayPort + i)], serviceId: _options.ClusterId, clusterId: _options.ClusterId);
            }

            if (_options.Membership == MembershipProfile.Fast)
            {
                client.Configure<GatewayOptions>(o => o.GatewayListRefreshPeriod = TimeSpan.FromSeconds(2));
            }

            client.AddActivityPropagation();
        });
        return builder.Build();
    }

    /// <summary>
    /// A host builder for one silo or the client: no default configuration sources, the runner's lifetime (not each
    /// host's Ctrl+C handler), and logs to standard error at <c>--log-level</c>, so that standard output keeps progress
    /// and STATUS lines. With OTLP export, the logs are exported too, from <see cref="HostTelemetry.ExportedLogLevel"/>
    /// or <c>--log-level</c> where that is less severe.
    /// </summary>
    /// <param name="scope">The silo's index (0 for the client), which names its telemetry resource.</param>
    private HostApplicationBuilder CreateBuilder(int scope)
    {
        HostApplicationBuilder builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            DisableDefaults = true,
            ApplicationName = "SyncMapRegistry.Host",
            EnvironmentName = Environments.Production,
        });

        builder.Services.AddSingleton<IHostLifetime, RunnerControlledLifetime>();
        builder.Logging.ClearProviders();
        LogLevel level = _options.LogLevel;
        LogLevel exported = _telemetry is null ? LogLevel.None : (LogLevel)Math.Min((int)level, (int)HostTelemetry.ExportedLogLevel);
        builder.Logging.SetMinimumLevel((LogLevel)Math.Min((int)level, (int)exported));
        if (level != LogLevel.None)
        {
            builder.Logging.AddFilter<ConsoleLoggerProvider>((_, l) => l >= level && !_stopping);
            builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
            builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        }

        if (_telemetry is not null)
        {
            builder.Logging.AddFilter<OpenTelemetryLoggerProvider>((_, l) => l >= exported && !_stopping);
            _telemetry.AddLogExport(builder.Logging, scope);
        }

        return builder;
    }

    /// <summary>
    /// Stops the client, or every silo with the first one last; a host still stopping after a grace period is abandoned.
    /// Every host is stopped and disposed even when one fails to stop; then the first failure is thrown.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        _stopping = true;
        SiloNode[] silos;
        lock (_silos)
        {
            silos = [.. _silos];
            _silos.Clear();
        }

        using var grace = new CancellationTokenSource(StopGrace);
        var failures = new List<Exception>();
        IHost? client = Interlocked.Exchange(ref _client, null);
        if (client is not null)
        {
            failures.AddRange(await StopOneAsync(client, grace.Token));
        }

        foreach (Exception[] stopped in await Task.WhenAll(silos.Where(s => s.Endpoint.Index != 0).Select(s => StopOneAsync(s.Host, grace.Token))))
        {
            failures.AddRange(stopped);
        }

        foreach (SiloNode primary in silos.Where(s => s.Endpoint.Index == 0))
        {
            failures.AddRange(await StopOneAsync(primary.Host, grace.Token));
        }

        if (failures.Count > 0)
        {
            throw failures.Count == 1 ? failures[0] : new AggregateException("Several hosts failed to stop.", failures);
        }
    }

    /// <summary>Stops and disposes one started host; returns the error stopping it threw, if any (past the grace period is none).</summary>
    private static async Task<Exception[]> StopOneAsync(IHost host, CancellationToken cancellationToken)
    {
        try
        {
            await host.StopAsync(cancellationToken);
            return [];
        }
        catch (OperationCanceledException)
        {
            // Past the grace period: the host abandons the graceful shutdown.
            return [];
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            return [exception];
        }
        finally
        {
            await DisposeHostAsync(host);
        }
    }

    private static async Task DisposeHostAsync(IHost host)
    {
        if (host is IAsyncDisposable asyncDisposable)
        {
            await asyncDisposable.DisposeAsync();
        }
        else
        {
            host.Dispose();
        }
    }

    /// <summary>The runner, not a Ctrl+C handler of each host, decides when the hosts stop.</summary>
    private sealed class RunnerControlledLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
