using Orleans.Placement;

namespace SyncMapRegistry.Host.Grains;

/// <summary>A sample grain: a number that can be read, or updated (after which the grain deactivates).</summary>
[Alias("SyncMapRegistry.Host.IRegistryDemoGrain")]
public interface IRegistryDemoGrain : IGrainWithIntegerKey
{
    /// <summary>Reads the value. Changes nothing, so every silo's cached address for the grain stays valid.</summary>
    [Alias("Read")]
    ValueTask<DemoReply> ReadAsync();

    /// <summary>
    /// Stores a value, then deactivates the grain. Its next call activates it again, on the calling silo
    /// (<see cref="PreferLocalPlacementAttribute"/>), so every other silo's registry must correct the entry.
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
/// Activates on the silo that first calls it, so the host can spread grains evenly across silos and then
/// call them from other silos on purpose.
/// </summary>
[PreferLocalPlacement]
internal sealed class RegistryDemoGrain(ILocalSiloDetails silo) : DemoGrain(silo), IRegistryDemoGrain;

/// <summary>The demo grains' behaviour; each subclass picks a placement and a grain interface.</summary>
internal abstract class DemoGrain(ILocalSiloDetails silo) : Grain
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
