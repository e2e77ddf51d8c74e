using Orleans.Concurrency;
using Orleans.Placement;

namespace SyncMapRegistry.OrleansTests;

/// <summary>A grain that says where it is activated.</summary>
public interface IProbeGrain : IGrainWithIntegerKey
{
    Task<GrainAddress> WhereAmI();

    Task Deactivate();
}

/// <summary>Placed on a random silo: spreads grains over the cluster.</summary>
public interface IRandomProbeGrain : IProbeGrain;

/// <summary>Placed on the calling silo: puts a grain where a test wants it.</summary>
public interface ILocalProbeGrain : IProbeGrain;

public abstract class ProbeGrain : Grain, IProbeGrain
{
    public Task<GrainAddress> WhereAmI() => Task.FromResult(GrainContext.Address);

    public Task Deactivate()
    {
        DeactivateOnIdle();
        return Task.CompletedTask;
    }
}

[RandomPlacement]
public sealed class RandomProbeGrain : ProbeGrain, IRandomProbeGrain;

[PreferLocalPlacement]
public sealed class LocalProbeGrain : ProbeGrain, ILocalProbeGrain;

/// <summary>A stateless worker: several activations per silo can share its one GrainId.</summary>
public interface IWorkerGrain : IGrainWithIntegerKey
{
    Task<ActivationId> Work(TimeSpan busyFor);
}

[StatelessWorker(4)]
public sealed class WorkerGrain : Grain, IWorkerGrain
{
    public async Task<ActivationId> Work(TimeSpan busyFor)
    {
        await Task.Delay(busyFor);
        return GrainContext.ActivationId;
    }
}
