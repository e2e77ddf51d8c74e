using SyncMapRegistry.Telemetry;

namespace SyncMapRegistry;

/// <summary>
/// The maintenance service's purge: removes the directory cache's entries that point at dead silos, by Orleans' own
/// rule for a cached address (<c>LocalGrainDirectory.IsDefunctActivation</c>): the silo is
/// <see cref="SiloStatus.Dead"/>, or it is absent from the table although the table is newer than the address's
/// <see cref="GrainAddress.MembershipVersion"/>. Unlike Orleans' rule, an address without a silo is kept: no
/// membership change can make it defunct.
/// </summary>
internal static class DeadSiloPurge
{
    /// <summary>
    /// Removes, in one walk, every entry of <paramref name="cache"/> that <paramref name="membership"/> makes defunct;
    /// an entry replaced meanwhile by a newer one is kept. Counts them as purged, and records a
    /// <c>syncmap_registry.purge</c> span when something listens.
    /// </summary>
    /// <returns>The entries removed, by silo; empty when none.</returns>
    internal static IReadOnlyDictionary<SiloAddress, int> Purge(this SyncMapGrainDirectoryCache cache, ClusterMembershipSnapshot membership)
    {
        ArgumentNullException.ThrowIfNull(cache);
        ArgumentNullException.ThrowIfNull(membership);
        DateTimeOffset started = cache.TimeProvider.GetUtcNow();
        var walk = new Walk(membership);
        int removed = cache.PurgeWhere(
            static (address, walk) => walk.IsDefunct(address),
            walk,
            static (address, walk) => walk.Count(address.SiloAddress!));
        if (removed == 0)
        {
            return new Dictionary<SiloAddress, int>();
        }

        RegistryInstrumentation.RecordPurge(cache.Counters, started, removed, [.. walk.RemovedBySilo.Keys.Select(silo => silo.ToString())]);
        return walk.RemovedBySilo;
    }

    /// <summary>One purge walk's state: the silos' statuses, each looked up once, and the removals by silo.</summary>
    private sealed class Walk(ClusterMembershipSnapshot membership)
    {
        private readonly Dictionary<SiloAddress, SiloStatus> _statuses = [];

        internal Dictionary<SiloAddress, int> RemovedBySilo { get; } = [];

        /// <summary>Orleans' <c>GetSiloStatus(silo, seenAtVersion) == Dead</c>, with the version-free part computed once per silo.</summary>
        internal bool IsDefunct(GrainAddress address)
        {
            if (address.SiloAddress is not { } silo)
            {
                return false;
            }

            if (!_statuses.TryGetValue(silo, out SiloStatus status))
            {
                status = membership.GetSiloStatus(silo);
                _statuses[silo] = status;
            }

            return status == SiloStatus.Dead || (status == SiloStatus.None && membership.Version > address.MembershipVersion);
        }

        internal void Count(SiloAddress silo) => RemovedBySilo[silo] = RemovedBySilo.GetValueOrDefault(silo) + 1;
    }
}
