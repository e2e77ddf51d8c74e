using System.Diagnostics;
using SyncMapRegistry.Host.Workload;

namespace SyncMapRegistry.Host.Reporting;

/// <summary>Shows the run: a message now and then, progress while the workload runs, then the summary.</summary>
internal interface IRunReporter
{
    /// <summary>A one-line status message (silos starting, warm-up done, stopping).</summary>
    void Message(string text);

    /// <summary>Runs <paramref name="body"/>, showing each report it publishes until it returns.</summary>
    Task RunAsync(Func<Action<ProgressReport>, Task> body);

    /// <summary>Prints the final summary.</summary>
    void Summary(RunSummary summary);
}

/// <summary>What the host has done so far, as shown by each progress update.</summary>
/// <param name="Phase">What the host is doing: <c>running</c>, <c>hosting</c>, <c>done</c> or <c>interrupted</c>.</param>
/// <param name="Cache">The directory cache the silos run.</param>
/// <param name="Elapsed">Time since the workload started.</param>
/// <param name="Duration">The workload's planned duration.</param>
/// <param name="Workload">The workload's counters.</param>
/// <param name="CallsPerSecond">Calls per second over the last interval (over the whole run once it ended).</param>
/// <param name="Silos">Each silo's statistics.</param>
public sealed record ProgressReport(
    string Phase,
    DirectoryCacheKind Cache,
    TimeSpan Elapsed,
    TimeSpan Duration,
    WorkloadSnapshot Workload,
    double CallsPerSecond,
    IReadOnlyList<SiloStatistics> Silos)
{
    /// <summary>The sum over all silos.</summary>
    public SiloStatistics Total => SiloStatistics.Total(Silos);
}

/// <summary>What the process spent while the workload ran: silos, workload and all, since they share the process.</summary>
/// <param name="CpuTime">Processor time (user and kernel) of the whole process.</param>
/// <param name="AllocatedBytes">Bytes allocated on the managed heap by every thread.</param>
/// <param name="Gen0">Generation 0 collections.</param>
/// <param name="Gen1">Generation 1 collections.</param>
/// <param name="Gen2">Generation 2 collections.</param>
/// <param name="GcPause">The time the runtime held managed threads stopped for collections (<see cref="GC.GetTotalPauseDuration"/>).</param>
public readonly record struct ProcessCost(TimeSpan CpuTime, long AllocatedBytes, int Gen0, int Gen1, int Gen2, TimeSpan GcPause)
{
    /// <summary>The process's totals now.</summary>
    public static ProcessCost Now()
    {
        using var process = Process.GetCurrentProcess();
        return new(process.TotalProcessorTime, GC.GetTotalAllocatedBytes(precise: true), GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2), GC.GetTotalPauseDuration());
    }

    /// <summary>What was spent from <paramref name="start"/> to <paramref name="end"/>.</summary>
    public static ProcessCost operator -(ProcessCost end, ProcessCost start) => new(
        end.CpuTime - start.CpuTime, end.AllocatedBytes - start.AllocatedBytes, end.Gen0 - start.Gen0, end.Gen1 - start.Gen1, end.Gen2 - start.Gen2, end.GcPause - start.GcPause);
}

/// <summary>The run's outcome, printed at the end and returned to callers of the host.</summary>
/// <param name="Options">The settings the host ran with.</param>
/// <param name="Interrupted">Whether Ctrl+C (or a cancellation) ended the run early.</param>
/// <param name="Elapsed">How long the workload ran, warm-up excluded.</param>
/// <param name="Workload">The workload's counters.</param>
/// <param name="Latency">Latency of the calls that completed after the warm-up.</param>
/// <param name="Cost">What the process spent while the workload ran.</param>
/// <param name="Silos">Each silo's statistics (cumulative since it started), read just before the silos stopped.</param>
/// <param name="Directory">
/// Orleans' directory counters of this process's silos over the run (warm-up excluded), summed; zero for a client.
/// </param>
public sealed record RunSummary(
    HostOptions Options,
    bool Interrupted,
    TimeSpan Elapsed,
    WorkloadSnapshot Workload,
    LatencySummary Latency,
    ProcessCost Cost,
    IReadOnlyList<SiloStatistics> Silos,
    DirectoryLookups Directory)
{
    /// <summary>The sum over all silos.</summary>
    public SiloStatistics Total => SiloStatistics.Total(Silos);

    /// <summary>Directory lookups the silos issued per 1,000 completed calls, or <c>null</c> without a call.</summary>
    public double? DirectoryLookupsPerThousandCalls => Workload.Calls == 0 ? null : Directory.FullLookups * 1000.0 / Workload.Calls;

    /// <summary>Completed calls per second over the run.</summary>
    public double CallsPerSecond => Elapsed <= TimeSpan.Zero ? 0 : Workload.Calls / Elapsed.TotalSeconds;

    /// <summary>Processor time per completed call, in microseconds.</summary>
    public double CpuMicrosecondsPerCall => Workload.Calls == 0 ? 0 : Cost.CpuTime.TotalMicroseconds / Workload.Calls;

    /// <summary>Bytes allocated per completed call.</summary>
    public double BytesPerCall => Workload.Calls == 0 ? 0 : (double)Cost.AllocatedBytes / Workload.Calls;
}
