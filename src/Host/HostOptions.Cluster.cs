using System.Net;

namespace SyncMapRegistry.Host;

/// <summary>How the host's silos find each other.</summary>
public enum ClusteringMode
{
    /// <summary>Orleans' localhost clustering: every silo in this process, silo 0 the primary. No outside service.</summary>
    Localhost,

    /// <summary>A Redis membership table: each process (on any machine) runs its silos and joins the same cluster.</summary>
    Redis,
}

/// <summary>What this host process does in the cluster.</summary>
public enum HostRole
{
    /// <summary>Runs silos and drives the workload from them (the default).</summary>
    All,

    /// <summary>Runs silos that only host grains; the workload comes from other processes.</summary>
    Silo,

    /// <summary>Runs no silo: an Orleans client that drives the workload through the cluster's gateways.</summary>
    Client,
}

/// <summary>How fast Orleans' membership protocol declares a silo dead.</summary>
public enum MembershipProfile
{
    /// <summary>Orleans' defaults: a dead silo is declared dead after about 15 to 30 s.</summary>
    Default,

    /// <summary>
    /// Short probe and vote timeouts: a dead silo is declared dead within a few seconds. For tests and demos on
    /// one machine or a quiet network; on a busy one a slow silo may be declared dead by mistake.
    /// </summary>
    Fast,
}

public sealed partial class HostOptions
{
    /// <summary>How the silos find each other. Default <see cref="ClusteringMode.Localhost"/>.</summary>
    public ClusteringMode Clustering { get; set; } = ClusteringMode.Localhost;

    /// <summary>
    /// The StackExchange.Redis connection string of the membership table, for example <c>127.0.0.1:6379</c>;
    /// required with <see cref="ClusteringMode.Redis"/>.
    /// </summary>
    public string? Redis { get; set; }

    /// <summary>What this process does: silos and workload, silos only, or a workload client. Default <see cref="HostRole.All"/>.</summary>
    public HostRole Role { get; set; } = HostRole.All;

    /// <summary>
    /// The address this process's silos advertise to the others. Default 127.0.0.1 (one machine); across
    /// machines, the address the other machines reach this one at (the silos then listen on every interface).
    /// </summary>
    public IPAddress AdvertisedAddress { get; set; } = IPAddress.Loopback;

    /// <summary>How fast membership declares a silo dead. Default <see cref="MembershipProfile.Default"/>.</summary>
    public MembershipProfile Membership { get; set; } = MembershipProfile.Default;

    /// <summary>
    /// Before the workload starts, wait until the cluster has this many active silos (0: do not wait). Lets
    /// processes started together spread their grains over every silo.
    /// </summary>
    public int AwaitSilos { get; set; }

    /// <summary>
    /// Calls started per second by this process's workload, whether or not earlier calls have returned (open
    /// loop), so a silo that stops answering does not hold back calls to the others; 0 (the default) runs
    /// <see cref="Concurrency"/> workers that each wait for their call (closed loop).
    /// </summary>
    public int Rate { get; set; }

    /// <summary>
    /// How often to write a machine-readable <c>STATUS {json}</c> line to standard output (silo addresses,
    /// registry entries per silo address, purge counts, membership, workload outcome per home silo);
    /// <see cref="TimeSpan.Zero"/> (the default) writes none.
    /// </summary>
    public TimeSpan StatusInterval { get; set; } = TimeSpan.Zero;

    /// <summary>
    /// Whether this run needs the cluster runner: silos clustered through a membership store, a role other than
    /// <see cref="HostRole.All"/>, or status lines. Otherwise the single-process host runs.
    /// </summary>
    internal bool UsesClusterRunner =>
        Clustering != ClusteringMode.Localhost || Role != HostRole.All || StatusInterval > TimeSpan.Zero;

    /// <summary>Silo <paramref name="index"/>'s name: <c>silo-{index}</c> on localhost, <c>silo-{port}</c> once silos span processes.</summary>
    internal string SiloName(int index) =>
        Clustering == ClusteringMode.Localhost ? $"silo-{index}" : $"silo-{AdvertisedAddress}-{SiloPort + index}";

    private IEnumerable<string> ValidateCluster()
    {
        if (Clustering == ClusteringMode.Redis && string.IsNullOrWhiteSpace(Redis))
        {
            yield return "--redis: a connection string (for example 127.0.0.1:6379) is required with --clustering redis.";
        }

        if (Clustering == ClusteringMode.Localhost && !string.IsNullOrWhiteSpace(Redis))
        {
            yield return "--redis: only used with --clustering redis.";
        }

        if (Rate is < 0 or > 1_000_000)
        {
            yield return $"--rate: must be between 0 (closed loop) and 1000000 calls/s (got {Rate}).";
        }

        if (AwaitSilos is < 0 or > 1000)
        {
            yield return $"--await-silos: must be between 0 and 1000 (got {AwaitSilos}).";
        }

        if (StatusInterval < TimeSpan.Zero || (StatusInterval > TimeSpan.Zero && StatusInterval < TimeSpan.FromMilliseconds(50)) || StatusInterval > TimeSpan.FromMinutes(1))
        {
            yield return $"--status-interval: must be 0 (off) or between 50 ms and one minute (got {StatusInterval}).";
        }

        if (IPAddress.Any.Equals(AdvertisedAddress) || IPAddress.IPv6Any.Equals(AdvertisedAddress))
        {
            yield return "--advertised-address: must be an address other silos can reach, not the wildcard address.";
        }
    }
}
