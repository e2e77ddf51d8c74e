using Orleans.Placement;

namespace SyncMapRegistry.Host.Workload;

/// <summary>The workload's grain: a number that can be read, or updated (after which the grain deactivates).</summary>
[Alias("SyncMapRegistry.Host.IRegistryDemoGrain")]
public interface IRegistryDemoGrain : IGrainWithIntegerKey
{
    /// <summary>Reads the value. Changes nothing, so every silo's cached address for the grain stays valid.</summary>
    [Alias("Read")]
    ValueTask<DemoReply> ReadAsync();

    /// <summary>
    /// Stores a value, then deactivates the grain. Its next call activates it again on a random silo, so the silos
    /// that cached its address must correct that entry.
    /// </summary>
    [Alias("Update")]
    ValueTask<DemoReply> UpdateAsync(long value);
}

/// <summary>A grain's answer: its value and the silo it ran on.</summary>
/// <param name="Value">The grain's value.</param>
/// <param name="Silo">The silo of the activation that answered.</param>
[GenerateSerializer, Immutable, Alias("SyncMapRegistry.Host.DemoReply")]
public readonly record struct DemoReply([property: Id(0)] long Value, [property: Id(1)] SiloAddress Silo);

/// <summary>
/// Activates on a random silo (<see cref="RandomPlacementAttribute"/>), whoever calls it, a silo or a client, so the
/// grains spread over the cluster and the workload then picks where each call starts. After an update, or after its
/// silo dies, the next call activates it again on a random (surviving) silo.
/// </summary>
[RandomPlacement]
internal sealed class RegistryDemoGrain(ILocalSiloDetails silo) : Grain, IRegistryDemoGrain
{
    private long _value;

    public ValueTask<DemoReply> ReadAsync() => new(new DemoReply(_value, silo.SiloAddress));

    public ValueTask<DemoReply> UpdateAsync(long value)
    {
        _value = value;
        DeactivateOnIdle();
        return new(new DemoReply(_value, silo.SiloAddress));
    }
}
