using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using SyncMapRegistry.Host.Registry;
using SyncMapRegistry.Host.Telemetry;

namespace SyncMapRegistry.Host.Cluster;

/// <summary>Where one silo listens.</summary>
/// <param name="Index">The silo's index in this process, from 0.</param>
/// <param name="Name">The silo's name, <c>silo-{Index}</c>.</param>
/// <param name="SiloPort">The silo-to-silo port.</param>
/// <param name="GatewayPort">The client gateway port.</param>
internal readonly record struct SiloEndpoint(int Index, string Name, int SiloPort, int GatewayPort);

/// <summary>One running silo: its generic host and what the workload and the display need from it.</summary>
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
/// Silos that run in this process, each a generic host of its own, clustered on 127.0.0.1 (Orleans'
/// localhost clustering: silo 0 is the primary silo, the others join it).
/// </summary>
/// <remarks>
/// How silos find each other is the one <c>configureClustering</c> delegate; a membership store such as
/// Redis slots in there, and the rest of the host (the workload, the registry, telemetry) stays the same.
/// </remarks>
internal sealed class LocalSiloCluster : IAsyncDisposable
{
    private readonly List<SiloNode> _silos = [];
    private readonly LogLevel _logLevel;

    // Set once the cluster starts stopping. Silos of one process stop one after another, so the last ones log
    // errors about the silos already gone (directory unregistrations that cannot reach them); those are expected
    // and would only bury the summary, so logs are muted from then on.
    private volatile bool _stopping;

    private LocalSiloCluster(LogLevel logLevel)
    {
        _logLevel = logLevel;
    }

    public IReadOnlyList<SiloNode> Silos => _silos;

    /// <summary>The endpoints of <paramref name="options"/>' silos.</summary>
    public static IReadOnlyList<SiloEndpoint> Endpoints(HostOptions options) =>
        [.. Enumerable.Range(0, options.Silos).Select(i => new SiloEndpoint(i, options.SiloName(i), options.SiloPort + i, options.GatewayPort + i))];

    /// <summary>Localhost clustering: silo 0's endpoint is the primary silo.</summary>
    public static Action<ISiloBuilder, SiloEndpoint> LocalhostClustering(HostOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var primary = new IPEndPoint(IPAddress.Loopback, options.SiloPort);
        return (silo, endpoint) => silo.UseLocalhostClustering(
            endpoint.SiloPort, endpoint.GatewayPort, primary, serviceId: options.ClusterId, clusterId: options.ClusterId);
    }

    /// <summary>Starts the primary silo, then the others together; stops those already started if one fails.</summary>
    public static async Task<LocalSiloCluster> StartAsync(
        HostOptions options,
        Action<ISiloBuilder, SiloEndpoint> configureClustering,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(configureClustering);
        var cluster = new LocalSiloCluster(options.LogLevel);
        IReadOnlyList<SiloEndpoint> endpoints = Endpoints(options);
        try
        {
            await cluster.StartSiloAsync(endpoints[0], configureClustering, cancellationToken);
            await Task.WhenAll(endpoints.Skip(1).Select(e => cluster.StartSiloAsync(e, configureClustering, cancellationToken)));
            return cluster;
        }
        catch
        {
            await cluster.StopAsync(TimeSpan.FromSeconds(5));
            throw;
        }
    }

    private async Task StartSiloAsync(SiloEndpoint endpoint, Action<ISiloBuilder, SiloEndpoint> configureClustering, CancellationToken cancellationToken)
    {
        // Everything the silo starts inherits this scope; see SiloScope.
        SiloScope.Current = endpoint.Index;
        IHost host = BuildSilo(endpoint, configureClustering);
        lock (_silos)
        {
            _silos.Add(new SiloNode(endpoint, host));
            _silos.Sort((a, b) => a.Endpoint.Index.CompareTo(b.Endpoint.Index));
        }

        await host.StartAsync(cancellationToken);
    }

    private IHost BuildSilo(SiloEndpoint endpoint, Action<ISiloBuilder, SiloEndpoint> configureClustering)
    {
        HostApplicationBuilder builder = CreateBuilder(_logLevel, () => _stopping);
        builder.UseOrleans(silo =>
        {
            configureClustering(silo, endpoint);
            silo.Configure<SiloOptions>(o => o.SiloName = endpoint.Name);
            silo.AddActivityPropagation();
            RegistryWiring.AddRegistry(silo, endpoint.Name);
        });

        return builder.Build();
    }

    /// <summary>
    /// A host builder for one silo or client of the runner: no default configuration sources, the runner's
    /// lifetime (not each host's Ctrl+C handler), and logs at <paramref name="logLevel"/> to standard error,
    /// so that standard output keeps only progress and STATUS lines; nothing is logged while <paramref name="muted"/>.
    /// </summary>
    internal static HostApplicationBuilder CreateBuilder(LogLevel logLevel, Func<bool> muted)
    {
        HostApplicationBuilder builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            DisableDefaults = true,
            ApplicationName = "SyncMapRegistry.Host",
            EnvironmentName = Environments.Production,
        });

        builder.Services.AddSingleton<IHostLifetime, RunnerControlledLifetime>();
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(logLevel);
        if (logLevel != LogLevel.None)
        {
            builder.Logging.AddFilter((_, level) => level >= logLevel && !muted());
            builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
            builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        }

        return builder;
    }

    /// <summary>Stops every silo, the primary last; a silo still stopping after <paramref name="grace"/> is stopped ungracefully.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        _stopping = true;
        SiloNode[] silos;
        lock (_silos)
        {
            silos = [.. _silos];
            _silos.Clear();
        }

        using var cts = new CancellationTokenSource(grace);
        await Task.WhenAll(silos.Where(s => s.Endpoint.Index != 0).Select(s => StopOneAsync(s, cts.Token)));
        await Task.WhenAll(silos.Where(s => s.Endpoint.Index == 0).Select(s => StopOneAsync(s, cts.Token)));
    }

    private static async Task StopOneAsync(SiloNode silo, CancellationToken cancellationToken)
    {
        try
        {
            await silo.Host.StopAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // Past the grace period: the host abandons the graceful shutdown.
        }
        finally
        {
            if (silo.Host is IAsyncDisposable asyncDisposable)
            {
                await asyncDisposable.DisposeAsync();
            }
            else
            {
                silo.Host.Dispose();
            }
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync(TimeSpan.FromSeconds(10));

    private sealed class RunnerControlledLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
