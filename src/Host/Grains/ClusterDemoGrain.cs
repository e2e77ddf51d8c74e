using Orleans.Placement;

namespace SyncMapRegistry.Host.Grains;

/// <summary>
/// The grain of the cluster workload: like <see cref="IRegistryDemoGrain"/>, but placed by a hash of its key over
/// the cluster's silos, so processes that start the workload together spread the grains over every silo, and the
/// grains of a silo that dies are activated again on the survivors.
/// </summary>
[Alias("SyncMapRegistry.Host.IClusterDemoGrain")]
public interface IClusterDemoGrain : IGrainWithIntegerKey
{
    /// <summary>Reads the value. Changes nothing, so every silo's cached address for the grain stays valid.</summary>
    [Alias("Read")]
    ValueTask<DemoReply> ReadAsync();

    /// <summary>Stores a value, then deactivates the grain; its next call activates it again (on the silo its hash picks).</summary>
    [Alias("Update")]
    ValueTask<DemoReply> UpdateAsync(long value);
}

/// <summary>Placed by a hash of its key over the compatible silos (<see cref="HashBasedPlacementAttribute"/>).</summary>
[HashBasedPlacement]
internal sealed class ClusterDemoGrain(ILocalSiloDetails silo) : DemoGrain(silo), IClusterDemoGrain;
