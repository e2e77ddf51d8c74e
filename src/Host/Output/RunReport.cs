using SyncMapRegistry.Host.Registry;
using SyncMapRegistry.Host.Workload;

namespace SyncMapRegistry.Host.Output;

/// <summary>What the host has done so far, as shown by each progress update.</summary>
/// <param name="Phase">What the host is doing: <c>starting</c>, <c>warm-up</c>, <c>running</c>, <c>stopping</c>.</param>
/// <param name="Elapsed">Time since the workload started.</param>
/// <param name="Duration">The workload's planned duration.</param>
/// <param name="Workload">The workload's counters.</param>
/// <param name="CallsPerSecond">Calls per second over the last interval.</param>
/// <param name="Silos">Each silo's registry statistics.</param>
public sealed record ProgressReport(
    string Phase,
    TimeSpan Elapsed,
    TimeSpan Duration,
    WorkloadSnapshot Workload,
    double CallsPerSecond,
    IReadOnlyList<SiloRegistrySnapshot> Silos)
{
    /// <summary>The sum over all silos.</summary>
    public SiloRegistrySnapshot Total => SiloRegistrySnapshot.Total(Silos);
}

/// <summary>The run's outcome, printed at the end and returned to callers of the host.</summary>
/// <param name="Options">The settings the host ran with.</param>
/// <param name="Interrupted">Whether Ctrl+C (or a cancellation) ended the run early.</param>
/// <param name="Elapsed">How long the workload ran.</param>
/// <param name="Workload">The workload's counters.</param>
/// <param name="Silos">Each silo's registry statistics, read just before the silos stopped.</param>
/// <param name="OtlpEndpoint">Where traces and metrics were exported, or <c>null</c>.</param>
public sealed record RunSummary(
    HostOptions Options,
    bool Interrupted,
    TimeSpan Elapsed,
    WorkloadSnapshot Workload,
    IReadOnlyList<SiloRegistrySnapshot> Silos,
    Uri? OtlpEndpoint)
{
    /// <summary>The sum over all silos.</summary>
    public SiloRegistrySnapshot Total => SiloRegistrySnapshot.Total(Silos);

    /// <summary>Completed calls per second over the whole run.</summary>
    public double CallsPerSecond => Elapsed <= TimeSpan.Zero ? 0 : Workload.Calls / Elapsed.TotalSeconds;

    /// <summary>The mean call latency.</summary>
    public TimeSpan MeanLatency(TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        return Workload.Calls == 0 ? TimeSpan.Zero : TimeSpan.FromSeconds((double)Workload.LatencyTicks / time.TimestampFrequency / Workload.Calls);
    }
}
