namespace SyncMapRegistry;

/// <summary>
/// What the cache's map holds for a grain: an address with the version its writer passed, the sample a hit records
/// for the policy, and the access stamp of idle expiry. Compared by reference (a compare-and-swap or
/// compare-and-delete acts on the very value read); immutable but for <see cref="AccessEpoch"/>.
/// </summary>
/// <remarks>
/// A key's first address is its policy node itself (<see cref="PolicyNode"/> derives from this type), so that a
/// cached grain costs the map's entry and one object more; a hit reads only the fields declared here, on the object's
/// first cache line, with no virtual call. An update stores an <see cref="UpdatedAddress"/> that points at the key's
/// node: an update keeps the node (see <see cref="PolicyNode.Taken"/> for why that matters), and the node's own
/// address is then stale, never read through the map again (only its grain, the key, is), and kept alive with the
/// node: one superseded <see cref="GrainAddress"/> per updated key until the key leaves the cache.
/// </remarks>
internal abstract class CachedAddress(GrainAddress address, int version, long sample, int accessEpoch)
{
    /// <summary>
    /// The access epoch of the entry's last read, or <see cref="SyncMapGrainDirectoryCache.NeverRead"/>: written by
    /// hits, only when it differs from the current epoch (so at most once per epoch, by whichever readers see it
    /// differ: they all write the same value, or a newer one); read by the expiry sweep.
    /// </summary>
    internal int AccessEpoch = accessEpoch;

    internal GrainAddress Address { get; } = address;

    internal int Version { get; } = version;

    /// <summary>What a reader records for a hit on this key's entry: its node's <see cref="PolicyNode"/> sample (number and slot); never 0.</summary>
    internal long Sample { get; } = sample;

    /// <summary>The key's policy node: this object for a key's first address, the node it points at for an update.</summary>
    internal abstract PolicyNode Node { get; }
}

/// <summary>A later address of a cached key (an update), which keeps the key's <see cref="PolicyNode"/>.</summary>
internal sealed class UpdatedAddress(GrainAddress address, int version, PolicyNode node, int accessEpoch)
    : CachedAddress(address, version, node.Sample, accessEpoch)
{
    internal override PolicyNode Node { get; } = node;
}
