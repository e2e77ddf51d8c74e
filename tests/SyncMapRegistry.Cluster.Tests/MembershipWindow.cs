using Orleans.Configuration;
using SyncMapRegistry.Host.Cluster;

namespace SyncMapRegistry.Cluster.Tests;

/// <summary>
/// The membership window of the host processes the tests start (<c>--membership fast</c>): the bounds the tests
/// assert on a death declaration, derived from the very settings the Host applies, so that they follow the Host.
/// </summary>
internal static class MembershipWindow
{
    /// <summary>The membership settings of <c>--membership fast</c>, as the Host applies them.</summary>
    public static ClusterMembershipOptions Fast { get; } = Create();

    /// <summary>
    /// The longest a silo that stopped answering may stay undeclared in a survivor's view. A prober votes after
    /// <see cref="ClusterMembershipOptions.NumMissedProbesLimit"/> missed probes; each waits for its turn (a probe
    /// period, at most <see cref="ClusterMembershipOptions.MaxProbeTimeout"/>) and then for its answer (at most
    /// <see cref="ClusterMembershipOptions.MaxProbeTimeout"/>, however far the timeout is extended while the prober is
    /// degraded). The other votes needed must come before the first expires
    /// (<see cref="ClusterMembershipOptions.DeathVoteExpirationTimeout"/>), or no death is declared at all. A silo that
    /// misses the gossip reads the outcome at its next table refresh (<see cref="ClusterMembershipOptions.TableRefreshTimeout"/>).
    /// </summary>
    public static TimeSpan Declaration =>
        (Fast.MaxProbeTimeout * 2 * Fast.NumMissedProbesLimit) + Fast.DeathVoteExpirationTimeout + Fast.TableRefreshTimeout;

    /// <summary>
    /// How long after the last survivor sees a declaration a silo may still act on its old view (a grain's directory
    /// partition lives on any silo, which learns at its next table refresh at the latest): calls that fail because of
    /// the death start at most this long after the last survivor saw it.
    /// </summary>
    public static TimeSpan Spread => Fast.TableRefreshTimeout;

    private static ClusterMembershipOptions Create()
    {
        var options = new ClusterMembershipOptions();
        SiloCluster.ApplyFast(options);
        return options;
    }
}
