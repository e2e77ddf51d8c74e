using Orleans.Placement;

namespace SyncMapRegistry.Cluster.Tests;

/// <summary>The churn soak's grain: read it, or update it, after which it deactivates.</summary>
public interface IChurnGrain : IGrainWithIntegerKey
{
    /// <summary>Where the grain is activated.</summary>
    Task<SiloAddress> ReadAsync();

    /// <summary>Deactivates the grain once the call returns (<c>DeactivateOnIdle</c>); its next call activates it again.</summary>
    Task<SiloAddress> UpdateAsync();
}

/// <summary>Placed on a random silo, so that each activation of a grain may land on another silo than the last.</summary>
[RandomPlacement]
internal sealed class ChurnGrain(ILocalSiloDetails silo) : Grain, IChurnGrain
{
    public Task<SiloAddress> ReadAsync() => Task.FromResult(silo.SiloAddress);

    public Task<SiloAddress> UpdateAsync()
    {
        DeactivateOnIdle();
        return Task.FromResult(silo.SiloAddress);
    }
}
