namespace SyncMapRegistry;

/// <summary>A silo's registry: its <see cref="SyncMapGrainDirectoryCache"/> and <see cref="LocalActivationIndex"/>.</summary>
/// <param name="directoryCache">The silo's grain directory cache.</param>
/// <param name="localActivations">The silo's local-activation index.</param>
internal sealed class SyncMapGrainRegistry(SyncMapGrainDirectoryCache directoryCache, LocalActivationIndex localActivations) : ISyncMapRegistry
{
    /// <inheritdoc/>
    public IGrainRegistryView<GrainAddress> DirectoryCache { get; } = directoryCache ?? throw new ArgumentNullException(nameof(directoryCache));

    /// <inheritdoc/>
    public IGrainRegistryView<IGrainContext> LocalActivations { get; } = localActivations ?? throw new ArgumentNullException(nameof(localActivations));

    /// <inheritdoc/>
    public SyncMapRegistryStatistics GetStatistics() =>
        new(DirectoryCache.GetStatistics(), LocalActivations.GetStatistics());
}
