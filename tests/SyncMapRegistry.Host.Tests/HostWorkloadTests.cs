using System.Globalization;
using SyncMapRegistry.Host.Harness;
using SyncMapRegistry.Host.Reporting;

namespace SyncMapRegistry.Host.Tests;

public sealed class HostWorkloadTests
{
    [Fact]
    public async Task TheWorkloadRunsEndToEndAndTheRegistryServesItsCrossSiloLookups()
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

        SiloStatistics total = summary.Total;
        Assert.True(total.Promotions >= 1, "no dirty map was promoted");
        Assert.InRange(total.LocalActivations, 1, 90);

        Assert.Contains("=== SyncMapRegistry host: summary ===", run.Output, StringComparison.Ordinal);
        Assert.Contains("directory cache       syncmap", run.Output, StringComparison.Ordinal);
        Assert.Contains($"{total.Hits} served by the registry (hit)", run.Output, StringComparison.Ordinal);
        Assert.Contains("progress phase=running cache=syncmap", run.Output, StringComparison.Ordinal);

        // Orleans' own counters agree that the default cache size holds every grain: nearly every cache lookup hits.
        Assert.True(summary.Directory.CacheHitRatio > 0.9, $"Orleans counted a cache hit ratio of {summary.Directory.CacheHitRatio}");
    }

    [Fact]
    public async Task AWarmUpRunsTheWorkloadBeforeTheMeasuredRunAndCountsNothingOfIt()
    {
        HostRun run = await HostRun.StartAsync(null, "--silos", "2", "--grains", "40", "--warm-up", "1s", "--duration", "1s", "--concurrency", "4", "--read-ratio", "0.5");

        Assert.True(run.Result.ExitCode == HostProgram.ExitSuccess, run.Error);
        RunSummary summary = Assert.IsType<RunSummary>(run.Result.Summary);
        Assert.Equal(40, summary.Workload.Activated);
        Assert.True(summary.Workload.Calls > 0, "no call completed in the measured run");

        // The warm-up ran between the activation and the measured run, and the summary says so.
        int warmUp = run.Output.IndexOf("warming up for 1 s (not counted)", StringComparison.Ordinal);
        Assert.True(warmUp > run.Output.IndexOf("activating 40 grains", StringComparison.Ordinal), run.Output);
        Assert.True(warmUp < run.Output.IndexOf("running the workload for 1 s", StringComparison.Ordinal), run.Output);
        Assert.Contains("after a warm-up of 1 s (not counted)", run.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task TheRegistryCountsReadHitsOnlyWhenAskedLikeTheLibrary(bool countReadHits)
    {
        // Counting read hits costs every cache hit a per-thread increment and the map's out-of-line read, which
        // Orleans' own cache does not pay: a comparison of the two caches must not carry it by default.
        string[] args = ["--silos", "2", "--grains", "40", "--duration", "2s", "--concurrency", "4"];
        HostRun run = await HostRun.StartAsync(null, countReadHits ? [.. args, "--count-read-hits"] : args);

        Assert.True(run.Result.ExitCode == HostProgram.ExitSuccess, run.Error);
        RunSummary summary = Assert.IsType<RunSummary>(run.Result.Summary);
        SiloStatistics total = summary.Total;
        Assert.True(total.Hits > 0, "the registry served no lookup");
        if (countReadHits)
        {
            Assert.True(total.ReadHits > 0, "read hits were asked for but not counted");
            Assert.Contains($"syncmap lookups       read_hit {total.ReadHits},", run.Output, StringComparison.Ordinal);
        }
        else
        {
            Assert.Equal(0, total.ReadHits);
            Assert.Contains("syncmap lookups       read_hit not counted (--count-read-hits),", run.Output, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("syncmap")]
    [InlineData("lru")]
    public async Task TheSummaryReportsTheDirectoryLookupsTheSilosIssuedFromOrleansOwnCountersForEitherCache(string cache)
    {
        // 500 grains, 20 cache entries per silo: under Zipf a few grains take most calls, and the rest cost lookups.
        HostRun run = await HostRun.StartAsync(null, "--directory-cache", cache, "--silos", "2", "--grains", "500", "--popularity", "zipf:0.8", "--cache-size", "20", "--duration", "2s", "--concurrency", "8");

        Assert.True(run.Result.ExitCode == HostProgram.ExitSuccess, run.Error);
        RunSummary summary = Assert.IsType<RunSummary>(run.Result.Summary);
        DirectoryLookups lookups = summary.Directory;
        Assert.True(summary.Workload.Calls > 100, $"{summary.Workload.Calls} calls");
        Assert.True(lookups.FullLookups > 0, "no directory lookup counted");
        Assert.InRange(lookups.RemoteLookups, 0, lookups.FullLookups);
        Assert.True(lookups.CacheLookups >= summary.Workload.Calls / 2, $"{lookups.CacheLookups} cache lookups for {summary.Workload.Calls} calls");

        // The cap of 20 holds for either cache (with Orleans' default cap every grain would fit and nearly all would hit).
        Assert.True(lookups.CacheHitRatio is > 0 and < 0.8, $"cache hit ratio {lookups.CacheHitRatio}");
        Assert.All(summary.Silos, s => Assert.True(s.Directory.FullLookups > 0, $"{s.Silo}: no directory lookup"));

        double perThousand = lookups.FullLookups * 1000.0 / summary.Workload.Calls;
        Assert.Contains($"directory lookups     {lookups.FullLookups} ({perThousand:0.00} per 1,000 calls); {lookups.RemoteLookups} sent to another silo", run.Output, StringComparison.Ordinal);
        Assert.Contains($"cache hit ratio       {lookups.CacheHitRatio * 100:0.00} % ({lookups.CacheHits} of {lookups.CacheLookups} cache lookups)", run.Output, StringComparison.Ordinal);
        Assert.Contains($"directory cache       {cache}, cache size 20", run.Output, StringComparison.Ordinal);
        Assert.Contains("popularity zipf:0.8", run.Output, StringComparison.Ordinal);
        Assert.Contains(" dir_lookups=", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheSummaryReportsLatencyPercentilesCpuAllocationsAndCollections()
    {
        HostRun run = await HostRun.StartAsync(null, "--silos", "2", "--grains", "50", "--duration", "2s", "--concurrency", "4");

        Assert.True(run.Result.ExitCode == HostProgram.ExitSuccess, run.Error);
        RunSummary summary = Assert.IsType<RunSummary>(run.Result.Summary);
        Assert.True(summary.Workload.Calls > 0, "no call completed");
        Assert.True(summary.Elapsed > TimeSpan.FromSeconds(1.5) && summary.Elapsed <= TimeSpan.FromSeconds(2), $"ran {summary.Elapsed}");
        Assert.InRange(summary.CallsPerSecond, summary.Workload.Calls / 2.0, summary.Workload.Calls / 1.5);

        // Percentiles of real calls: positive and ordered, the mean between the median's neighbours and the max.
        var latency = summary.Latency;
        Assert.True(latency.P50 > 0, $"p50 {latency.P50}");
        Assert.True(latency.P50 <= latency.P99 && latency.P99 <= latency.P999 && latency.P999 <= latency.Max, $"{latency}");
        Assert.InRange(latency.Mean, 0.001, latency.Max);

        // Cost of the run: silos and workload share the process, so every call costs processor time and allocations.
        Assert.True(summary.Cost.CpuTime > TimeSpan.Zero, "no processor time");
        Assert.True(summary.CpuMicrosecondsPerCall > 0);
        Assert.True(summary.Cost.AllocatedBytes > 0, "nothing allocated");
        Assert.True(summary.BytesPerCall > 0);
        Assert.True(summary.Cost.Gen0 >= summary.Cost.Gen1 && summary.Cost.Gen1 >= summary.Cost.Gen2, $"{summary.Cost}");

        Assert.Contains($"latency ms            p50 {latency.P50:0.000}  p99 {latency.P99:0.000}  p99.9 {latency.P999:0.000}  max {latency.Max:0.000}", run.Output, StringComparison.Ordinal);
        Assert.Contains($"cpu per call          {summary.CpuMicrosecondsPerCall:0.0} us", run.Output, StringComparison.Ordinal);
        Assert.Contains($"allocated per call    {summary.BytesPerCall:0} B", run.Output, StringComparison.Ordinal);
        Assert.Contains($"gc collections        gen0 {summary.Cost.Gen0}, gen1 {summary.Cost.Gen1}, gen2 {summary.Cost.Gen2}", run.Output, StringComparison.Ordinal);
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"gc pause              {summary.Cost.GcPause.TotalMilliseconds:0.0} ms"), run.Output, StringComparison.Ordinal);
        Assert.True(summary.Cost.GcPause >= TimeSpan.Zero && (summary.Cost.Gen0 == 0 || summary.Cost.GcPause > TimeSpan.Zero), $"{summary.Cost}");
    }

    [Fact]
    public async Task WithTheLruCacheNoRegistryRunsAndTheReportsSaySo()
    {
        HostRun run = await HostRun.StartAsync(null, "--directory-cache", "lru", "--silos", "2", "--grains", "50", "--duration", "2s", "--concurrency", "4");

        Assert.True(run.Result.ExitCode == HostProgram.ExitSuccess, run.Error);
        RunSummary summary = Assert.IsType<RunSummary>(run.Result.Summary);
        Assert.Equal(DirectoryCacheKind.Lru, summary.Options.DirectoryCache);
        Assert.True(summary.Workload.Calls > 0, "no call completed");
        Assert.True(summary.Workload.CrossSilo > 0, "no call crossed silos");
        Assert.Equal(2, summary.Silos.Count);
        Assert.All(summary.Silos, s => Assert.False(s.Available, $"{s.Silo} runs a registry"));
        Assert.Contains("directory cache       lru", run.Output, StringComparison.Ordinal);
        Assert.Contains("registry              none (lru ran)", run.Output, StringComparison.Ordinal);
        Assert.Contains("progress phase=running cache=lru", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnderChurnIdleGrainsAreCollectedAndTheIndexFollows()
    {
        // 1000 grains, then 50 calls a second: most grains stay idle past the 2 s collection age and deactivate.
        HostRun run = await HostRun.StartAsync(null, "--churn", "--silos", "2", "--grains", "1000", "--rate", "50", "--duration", "8s");

        Assert.True(run.Result.ExitCode == HostProgram.ExitSuccess, run.Error);
        RunSummary summary = Assert.IsType<RunSummary>(run.Result.Summary);
        Assert.Equal(1000, summary.Workload.Activated);
        Assert.True(summary.Workload.Calls > 0, "no call completed");
        Assert.True(summary.Total.LocalActivations < 500, $"{summary.Total.LocalActivations} of 1000 grains still active");
        Assert.Contains("churn (idle grains collected after 2 s)", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StatusLinesReadBackAsTheSharedRecords()
    {
        HostRun run = await HostRun.StartAsync(null, "--status-interval", "200ms", "--silos", "2", "--grains", "40", "--duration", "2s", "--concurrency", "4");

        Assert.True(run.Result.ExitCode == HostProgram.ExitSuccess, run.Error);
        List<StatusLine> lines = [.. run.Output.Split('\n').Select(l => StatusLine.TryParse(l.TrimEnd('\r'), out StatusLine? s) ? s : null).OfType<StatusLine>()];
        Assert.True(lines.Count >= 3, $"{lines.Count} status lines");
        StatusLine last = lines[^1];
        Assert.Equal("stopping", last.Phase);
        Assert.Equal("all", last.Role);
        Assert.Equal(Environment.ProcessId, last.Pid);
        Assert.Equal(2, last.Silos.Count);
        Assert.All(last.Silos, s => Assert.True(s.Registry is { Entries: > 0 }, $"{s.Name}: no registry entries"));
        Assert.Equal(2, last.Membership!.Members.Count);
        WorkloadStatusLine workload = last.Workload!;
        Assert.Equal(40, workload.Activated);
        Assert.Equal(run.Result.Summary!.Workload.Calls, workload.Calls);
        Assert.Equal(workload.Calls + workload.Failed, workload.Targets.Values.Sum(t => t.Succeeded + t.Failed) + workload.Unknown.Succeeded + workload.Unknown.Failed);
        Assert.Equal(40, workload.GrainsBySilo.Values.Sum());
        Assert.Contains(lines, l => l.Phase == "running");
        Assert.True(lines.Zip(lines.Skip(1)).All(p => p.First.T <= p.Second.T), "status lines out of order");
    }

    [Fact]
    public async Task AnUnreachableOtlpEndpointNeitherFailsNorStallsTheRun()
    {
        int closed = FreePorts.Closed();

        HostRun run = await HostRun.StartAsync(null, "--silos", "2", "--grains", "20", "--duration", "1s", "--concurrency", "4", "--otlp-endpoint", $"http://127.0.0.1:{closed}");

        Assert.True(run.Result.ExitCode == HostProgram.ExitSuccess, run.Error);
        RunSummary summary = Assert.IsType<RunSummary>(run.Result.Summary);
        Assert.True(summary.Workload.Calls > 0);
        Assert.Contains($"otlp export           http://127.0.0.1:{closed}/", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CtrlCStopsTheWorkloadEarlyExitsCleanlyAndStillPrintsTheSummary()
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
