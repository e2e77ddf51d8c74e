using SyncMapRegistry.Host.Output;
using SyncMapRegistry.Host.Registry;

namespace SyncMapRegistry.Host.Tests;

public sealed class HostWorkloadTests
{
    [Fact]
    public async Task TheWorkloadRunsEndToEnd_AndTheRegistryServesItsCrossSiloLookups()
    {
        HostRun run = await HostRun.StartAsync(null, "--silos", "3", "--grains", "90", "--duration", "3s", "--read-ratio", "0.95", "--concurrency", "8");

        Assert.True(run.Result.ExitCode == HostProgram.ExitSuccess, run.Error);
        RunSummary summary = Assert.IsType<RunSummary>(run.Result.Summary);
        Assert.False(summary.Interrupted);
        Assert.Equal(90, summary.Workload.Activated);
        Assert.True(summary.Workload.Calls > 0, "no call completed");
        Assert.True(summary.Workload.Updates > 0, "no update: the registry's write path never ran");
        Assert.True(summary.Workload.CrossSilo * 2 > summary.Workload.Calls, $"only {summary.Workload.CrossSilo} of {summary.Workload.Calls} calls crossed silos");
        Assert.True(summary.Workload.Failed * 100 <= summary.Workload.Calls, $"{summary.Workload.Failed} of {summary.Workload.Calls} calls failed");

        // Every silo runs the registry, and each one served lookups for the cross-silo calls it made.
        Assert.Equal(["silo-0", "silo-1", "silo-2"], summary.Silos.Select(s => s.Silo));
        Assert.All(summary.Silos, s =>
        {
            Assert.True(s.Available, $"{s.Silo}: no registry");
            Assert.True(s.Hits > 0, $"{s.Silo}: the registry served no lookup");
            Assert.True(s.Entries > 0, $"{s.Silo}: the registry holds no grain address");
            Assert.True(s.LocalActivations > 0, $"{s.Silo}: the local-activation index is empty");
        });

        SiloRegistrySnapshot total = summary.Total;
        Assert.True(total.Promotions >= 1, "no dirty map was promoted");
        Assert.InRange(total.LocalActivations, 1, 90);

        Assert.Contains("=== SyncMapRegistry host: summary ===", run.Output, StringComparison.Ordinal);
        Assert.Contains($"{total.Hits} served by the registry (hit)", run.Output, StringComparison.Ordinal);
        Assert.Contains("progress phase=running", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUnreachableOtlpEndpoint_NeitherFailsNorStallsTheRun()
    {
        int closed = FreePorts.Closed();

        HostRun run = await HostRun.StartAsync(null, "--silos", "2", "--grains", "20", "--duration", "1s", "--concurrency", "4", "--otlp-endpoint", $"http://127.0.0.1:{closed}");

        Assert.True(run.Result.ExitCode == HostProgram.ExitSuccess, run.Error);
        RunSummary summary = Assert.IsType<RunSummary>(run.Result.Summary);
        Assert.True(summary.Workload.Calls > 0);
        Assert.Equal(new Uri($"http://127.0.0.1:{closed}"), summary.OtlpEndpoint);
        Assert.Contains($"otlp export           http://127.0.0.1:{closed}/", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CtrlC_StopsTheWorkloadEarly_ExitsCleanly_AndStillPrintsTheSummary()
    {
        HostRun run = await HostRun.StartAsync(
            null,
            cancelWhen: line => line.StartsWith("progress phase=running", StringComparison.Ordinal),
            "--silos", "2", "--grains", "20", "--duration", "5m", "--concurrency", "4");

        Assert.True(run.Result.ExitCode == HostProgram.ExitSuccess, run.Error);
        RunSummary summary = Assert.IsType<RunSummary>(run.Result.Summary);
        Assert.True(summary.Interrupted);
        Assert.True(summary.Elapsed < TimeSpan.FromMinutes(5));
        Assert.True(summary.Workload.Calls > 0);
        Assert.Contains("=== SyncMapRegistry host: summary (interrupted) ===", run.Output, StringComparison.Ordinal);
        Assert.Contains("progress phase=interrupted", run.Output, StringComparison.Ordinal);
    }
}
