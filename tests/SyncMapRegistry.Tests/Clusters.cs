using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.TestingHost;

namespace SyncMapRegistry.OrleansTests;

/// <summary>Three real silos in this process, with the SyncMap registry installed on each.</summary>
public interface ITestCluster : IAsyncDisposable
{
    /// <summary>Which of Orleans' paths to the cache the cluster runs: the DHT directory or <c>CachedGrainLocator</c>.</summary>
    string PathName { get; }

    /// <summary>How long the cluster took to start.</summary>
    TimeSpan StartTime { get; }

    IReadOnlyList<IServiceProvider> Silos { get; }

    /// <summary>Stops a silo without a graceful shutdown: the others must find out through membership.</summary>
    Task KillAsync(int index);
}

internal static class ClusterSettings
{
    internal const int SiloCount = 3;

    /// <summary>Short membership timeouts, so a killed silo is declared dead in seconds.</summary>
    internal static void FastMembership(ClusterMembershipOptions options)
    {
        options.ProbeTimeout = TimeSpan.FromSeconds(1);
        options.NumMissedProbesLimit = 1;
        options.NumVotesForDeathDeclaration = 1;
        options.TableRefreshTimeout = TimeSpan.FromSeconds(1);
        options.DeathVoteExpirationTimeout = TimeSpan.FromSeconds(10);
        options.EnableIndirectProbes = false;
        options.ExtendProbeTimeoutDuringDegradation = false;
    }

    internal static void Registry(SyncMapRegistryOptions options) => options.PurgeInterval = TimeSpan.FromSeconds(2);
}

/// <summary>
/// Three generic-host silos (<c>UseOrleans</c> + <c>UseLocalhostClustering</c> on random free ports): Orleans'
/// default DHT directory (<c>LocalGrainDirectory</c>) runs here, and feeds the cache.
/// </summary>
public sealed class GenericHostCluster : ITestCluster
{
    private readonly IHost?[] _hosts;

    private GenericHostCluster(IHost?[] hosts, TimeSpan startTime)
    {
        _hosts = hosts;
        StartTime = startTime;
    }

    public string PathName => "DHT (LocalGrainDirectory), 3 generic-host silos";

    public TimeSpan StartTime { get; }

    public IReadOnlyList<IServiceProvider> Silos => [.. _hosts.Select(host => host?.Services ?? throw new InvalidOperationException("The silo was killed."))];

    public static async Task<GenericHostCluster> StartAsync()
    {
        var stopwatch = Stopwatch.StartNew();
        // Silo i listens on first + 2i (silo to silo) and first + 2i + 1 (gateway).
        int first = FreePorts.Range(2 * ClusterSettings.SiloCount);
        string clusterId = "dht-" + Guid.NewGuid().ToString("N")[..8];
        var primary = new IPEndPoint(IPAddress.Loopback, first);
        var hosts = new IHost?[ClusterSettings.SiloCount];
        try
        {
            hosts[0] = await StartSiloAsync(first, first + 1, primary, clusterId);
            IHost[] secondaries = await Task.WhenAll(Enumerable.Range(1, ClusterSettings.SiloCount - 1)
                .Select(i => StartSiloAsync(first + (2 * i), first + (2 * i) + 1, primary, clusterId)));
            secondaries.CopyTo(hosts, 1);
        }
        catch
        {
            await StopAllAsync(hosts);
            throw;
        }

        var cluster = new GenericHostCluster(hosts, stopwatch.Elapsed);
        await cluster.WaitForMembershipAsync();
        return cluster;
    }

    /// <summary>Builds a silo host the way an application would; <paramref name="configure"/> can spoil it for a test.</summary>
    internal static IHost BuildSilo(int siloPort, int gatewayPort, IPEndPoint primary, string clusterId, Action<ISiloBuilder>? configure = null)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.UseOrleans(silo =>
        {
            silo.UseLocalhostClustering(siloPort, gatewayPort, primary, serviceId: clusterId, clusterId: clusterId);
            silo.Configure<ClusterMembershipOptions>(ClusterSettings.FastMembership);
            silo.Services.AddSyncMapRegistry(ClusterSettings.Registry);
            configure?.Invoke(silo);
        });
        return builder.Build();
    }

    private static async Task<IHost> StartSiloAsync(int siloPort, int gatewayPort, IPEndPoint primary, string clusterId)
    {
        IHost host = BuildSilo(siloPort, gatewayPort, primary, clusterId);
        try
        {
            await host.StartAsync();
            return host;
        }
        catch
        {
            host.Dispose();
            throw;
        }
    }

    public async Task KillAsync(int index)
    {
        IHost host = _hosts[index] ?? throw new InvalidOperationException("The silo was already killed.");
        _hosts[index] = null;

        // A cancelled token makes Orleans stop without a graceful shutdown: no membership update, no handoff.
        try
        {
            await host.StopAsync(new CancellationToken(canceled: true));
        }
        catch (OperationCanceledException)
        {
        }

        host.Dispose();
    }

    public async ValueTask DisposeAsync() => await StopAllAsync(_hosts);

    private async Task WaitForMembershipAsync()
    {
        bool stable = await TestSupport.WaitUntilAsync(
            () => Silos.All(silo => silo.GetRequiredService<IClusterMembershipService>().CurrentSnapshot.Members.Values
                .Count(member => member.Status == SiloStatus.Active) == ClusterSettings.SiloCount),
            TimeSpan.FromSeconds(30));
        Assert.True(stable, "The silos did not all see each other as active.");
    }

    private static async Task StopAllAsync(IHost?[] hosts)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await Task.WhenAll(hosts.Where(host => host is not null).Select(async host =>
        {
            try
            {
                await host!.StopAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
            }

            host!.Dispose();
        }));
    }
}

/// <summary>
/// A 3-silo <see cref="InProcessTestCluster"/>: its test directory replaces the DHT, so the cache is fed by
/// <c>CachedGrainLocator</c> here.
/// </summary>
public sealed class InProcessCluster : ITestCluster
{
    private readonly InProcessTestCluster _cluster;
    private readonly InProcessSiloHandle?[] _silos;

    private InProcessCluster(InProcessTestCluster cluster, TimeSpan startTime)
    {
        _cluster = cluster;
        _silos = [.. cluster.Silos];
        StartTime = startTime;
    }

    public string PathName => "CachedGrainLocator, 3-silo InProcessTestCluster";

    public TimeSpan StartTime { get; }

    public IReadOnlyList<IServiceProvider> Silos => [.. _silos.Select(silo => silo?.ServiceProvider ?? throw new InvalidOperationException("The silo was killed."))];

    public static async Task<InProcessCluster> StartAsync()
    {
        var stopwatch = Stopwatch.StartNew();
        var builder = new InProcessTestClusterBuilder(ClusterSettings.SiloCount);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.Configure<ClusterMembershipOptions>(ClusterSettings.FastMembership);
            silo.UseSyncMapRegistry(ClusterSettings.Registry);
        });
        InProcessTestCluster cluster = builder.Build();
        try
        {
            await cluster.DeployAsync();
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }

        return new InProcessCluster(cluster, stopwatch.Elapsed);
    }

    public async Task KillAsync(int index)
    {
        InProcessSiloHandle silo = _silos[index] ?? throw new InvalidOperationException("The silo was already killed.");
        _silos[index] = null;
        await _cluster.KillSiloAsync(silo);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _cluster.StopAllSilosAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
        }

        await _cluster.DisposeAsync();
    }
}

/// <summary>Starts a cluster once for a test class.</summary>
public abstract class ClusterFixture<TCluster>(Func<Task<TCluster>> start) : IAsyncLifetime
    where TCluster : ITestCluster
{
    private TCluster? _cluster;

    public TCluster Cluster => _cluster ?? throw new InvalidOperationException("Not started.");

    public async ValueTask InitializeAsync() => _cluster = await start();

    public async ValueTask DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }

        // xunit v3's IAsyncLifetime is IAsyncDisposable; this class is not sealed (CA1816).
        GC.SuppressFinalize(this);
    }
}

public sealed class GenericHostClusterFixture() : ClusterFixture<GenericHostCluster>(GenericHostCluster.StartAsync);

public sealed class InProcessClusterFixture() : ClusterFixture<InProcessCluster>(InProcessCluster.StartAsync);

/// <summary>Cluster tests run one at a time: several clusters at once would compete for the few cores CI has.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ClusterTestGroup
{
    public const string Name = "Clusters";
}
