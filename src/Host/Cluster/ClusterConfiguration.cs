using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;

namespace SyncMapRegistry.Host.Cluster;

/// <summary>
/// How a host process joins its cluster: the clustering provider (localhost or a Redis membership table), the
/// endpoints its silos advertise, and the membership profile. Used for silos and for the workload client alike.
/// </summary>
internal static class ClusterConfiguration
{
    /// <summary>
    /// The membership settings of <see cref="MembershipProfile.Fast"/>. A silo killed outright is suspected after
    /// <see cref="ClusterMembershipOptions.NumMissedProbesLimit"/> missed probes, each given at most
    /// <see cref="ClusterMembershipOptions.MaxProbeTimeout"/>, by each of two silos (the default
    /// <see cref="ClusterMembershipOptions.NumVotesForDeathDeclaration"/>): a few seconds in all, instead of the
    /// 10 to 30 s of Orleans' defaults.
    /// </summary>
    public static void ApplyFast(ClusterMembershipOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.ProbeTimeout = TimeSpan.FromSeconds(1);
        options.MinProbeTimeout = TimeSpan.FromMilliseconds(500);
        options.MaxProbeTimeout = TimeSpan.FromSeconds(3);
        options.NumMissedProbesLimit = 2;

        // A silo that is only slow (a busy machine, a GC pause) must not be voted dead: probes wait longer while
        // the prober itself is degraded, and a silo whose connection still carries messages is not suspected.
        // A killed silo refuses connections, so neither delays its detection.
        options.ExtendProbeTimeoutDuringDegradation = true;
        options.EnableConnectionLivenessCheck = true;
        options.DeathVoteExpirationTimeout = TimeSpan.FromSeconds(10);
        options.TableRefreshTimeout = TimeSpan.FromSeconds(2);
        options.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(5);
        options.MaxJoinAttemptTime = TimeSpan.FromSeconds(30);
    }

    /// <summary>The clustering of one silo, for <see cref="LocalSiloCluster.StartAsync"/>.</summary>
    public static Action<ISiloBuilder, SiloEndpoint> Silo(HostOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Action<ISiloBuilder, SiloEndpoint> clustering = options.Clustering switch
        {
            ClusteringMode.Localhost => LocalSiloCluster.LocalhostClustering(options),
            ClusteringMode.Redis => (silo, endpoint) =>
            {
                silo.UseRedisClustering(options.Redis!);
                silo.Configure<ClusterOptions>(o =>
                {
                    o.ClusterId = options.ClusterId;
                    o.ServiceId = options.ClusterId;
                });

                // Listen on every interface once the silo is meant to be reached from other machines.
                silo.ConfigureEndpoints(
                    options.AdvertisedAddress,
                    endpoint.SiloPort,
                    endpoint.GatewayPort,
                    listenOnAnyHostAddress: !IPAddress.IsLoopback(options.AdvertisedAddress));
            },
            _ => throw new ArgumentOutOfRangeException(nameof(options), options.Clustering, "Unknown clustering mode."),
        };

        return (silo, endpoint) =>
        {
            clustering(silo, endpoint);
            if (options.Membership == MembershipProfile.Fast)
            {
                silo.Configure<ClusterMembershipOptions>(ApplyFast);
            }
        };
    }

    /// <summary>Starts an Orleans client of the cluster (<see cref="HostRole.Client"/>).</summary>
    public static async Task<IHost> StartClientAsync(HostOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        HostApplicationBuilder builder = LocalSiloCluster.CreateBuilder(options.LogLevel, static () => false);

        builder.UseOrleansClient(client =>
        {
            if (options.Clustering == ClusteringMode.Redis)
            {
                client.UseRedisClustering(options.Redis!);
                client.Configure<ClusterOptions>(o =>
                {
                    o.ClusterId = options.ClusterId;
                    o.ServiceId = options.ClusterId;
                });
            }
            else
            {
                client.UseLocalhostClustering(
                    [.. Enumerable.Range(0, options.Silos).Select(i => options.GatewayPort + i)],
                    serviceId: options.ClusterId,
                    clusterId: options.ClusterId);
            }

            if (options.Membership == MembershipProfile.Fast)
            {
                client.Configure<GatewayOptions>(o => o.GatewayListRefreshPeriod = TimeSpan.FromSeconds(2));
            }

            client.AddActivityPropagation();
        });

        IHost host = builder.Build();
        try
        {
            await host.StartAsync(cancellationToken);
            return host;
        }
        catch
        {
            host.Dispose();
            throw;
        }
    }

    /// <summary>The runner, not Ctrl+C handlers of the client host, decides when it stops.</summary>
    private sealed class RunnerControlledLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
