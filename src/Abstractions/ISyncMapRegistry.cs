namespace SyncMapRegistry;

/// <summary>
/// A silo's SyncMap grain registry: the grain directory cache that Orleans consults on every call to a remote
/// grain, and the index of the activations on this silo. Resolve it from the silo's services.
/// </summary>
public interface ISyncMapRegistry
{
    /// <summary>The grain directory cache: where this silo believes each cached grain is activated.</summary>
    IGrainRegistryView<GrainAddress> DirectoryCache { get; }

    /// <summary>The activations on this silo, fed by Orleans' activation working set.</summary>
    IGrainRegistryView<IGrainContext> LocalActivations { get; }

    /// <summary>Statistics of both maps.</summary>
    SyncMapRegistryStatistics GetStatistics();
}

/// <summary>Statistics of a silo's registry: its directory cache and its local-activation index.</summary>
/// <remarks>Only the registry creates instances (<see cref="ISyncMapRegistry.GetStatistics"/>).</remarks>
public sealed class SyncMapRegistryStatistics
{
    internal SyncMapRegistryStatistics(GrainRegistryStatistics directoryCache, GrainRegistryStatistics localActivations)
    {
        DirectoryCache = directoryCache;
        LocalActivations = localActivations;
    }

    /// <summary>The grain directory cache's statistics.</summary>
    public GrainRegistryStatistics DirectoryCache { get; }

    /// <summary>The local-activation index's statistics.</summary>
    public GrainRegistryStatistics LocalActivations { get; }

    /// <inheritdoc/>
    public override string ToString() => $"directory cache: {DirectoryCache}; local activations: {LocalActivations}";
}
