using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using static SyncMapRegistry.OrleansTests.TestSupport;

namespace SyncMapRegistry.OrleansTests;

/// <summary>
/// The maintenance service on a live silo's membership, on a fake clock: the test moves time, so each sweep
/// happens when the test says and no test waits for a real interval.
/// </summary>
internal static class MaintenanceServiceScenario
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    /// <summary>An exception inside a sweep does not end the loop, a drifted count heals, and the service stops when asked.</summary>
    internal static async Task TheSweepSurvivesAnExceptionHealsTheCountAndStopsWhenAskedAsync(ITestCluster cluster, ITestOutputHelper output)
    {
        var clock = new FakeTimeProvider();
        var logger = new RecordingLogger(failSweepLogs: 2);
        await using Maintained maintained = await Maintained.StartAsync(cluster, "maintenance-test", clock, logger);
        SyncMapGrainDirectoryCache cache = maintained.Cache;

        // Two sweeps fail (the injected exception), each followed by a back-off of 1 s, then 2 s.
        await TickUntilAsync(clock, () => logger.Failures == 2);
        Assert.Equal(2, logger.Errors.Count(e => e.Exception is InvalidOperationException));

        // The sweep goes on: an entry planted for a dead predecessor is purged.
        GrainAddress straggler = Address(Grain(7), maintained.DeadPredecessor);
        cache.AddOrUpdate(straggler, 1);
        await TickUntilAsync(clock, () => !cache.TryLookUp(straggler.GrainId, out _));
        Assert.Equal(1, cache.GetStatistics().Purged);

        // A count that drifted (a removal counted that matches no entry) is healed after two quiet sweeps.
        cache.AddOrUpdate(Address(Grain(8), maintained.Live), 1);
        var counters = (RegistryCounters)typeof(SyncMapGrainDirectoryCache)
            .GetField("_counters", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!
            .GetValue(cache)!;
        counters.Removed();
        Assert.Equal(0, cache.Count);
        await TickUntilAsync(clock, () => cache.Count == 1);
        Assert.Contains(logger.Warnings, warning => warning.Contains("drifted", StringComparison.Ordinal));
        Assert.False(maintained.Service.ExecuteTask!.IsCompleted);
        output.WriteLine($"{cluster.PathName}: {logger.Failures} injected failures logged as errors, then {logger.Sweeps} clean sweeps; the planted entry was purged and the count healed");

        // Stopped without waiting for the next tick or membership update.
        await maintained.Service.StopAsync(CancellationToken.None).WaitAsync(Patience);
        Assert.True(maintained.Service.ExecuteTask!.IsCompletedSuccessfully);
    }

    /// <summary>
    /// A sweep whose timer cannot be made reports it at once and keeps trying, rather than ending its loop unseen
    /// until the host stops. The service is given, past validation, a period that <c>PeriodicTimer</c> refuses.
    /// </summary>
    internal static async Task ASweepTimerThatCannotBeMadeIsReportedAtOnceAsync(ITestCluster cluster, ITestOutputHelper output)
    {
        var clock = new FakeTimeProvider();
        var logger = new RecordingLogger(failSweepLogs: 0);
        await using Maintained maintained = await Maintained.StartAsync(cluster, "maintenance-timer-test", clock, logger, TimeSpan.FromTicks(5_000));

        Assert.True(await WaitUntilAsync(() => logger.Errors.Count > 0, Patience), "The sweep's failure went unreported.");
        Assert.IsType<ArgumentOutOfRangeException>(logger.Errors[0].Exception);
        // The error is logged before the back-off's timer is made: one advance could come before the timer, so
        // tick until the retry is reported.
        await TickUntilAsync(clock, () => logger.Errors.Count > 1);
        Assert.False(maintained.Service.ExecuteTask!.IsCompleted);
        output.WriteLine($"{cluster.PathName}: {logger.Errors[0].Message}: {logger.Errors[0].Exception!.Message}");
    }

    /// <summary>
    /// The service runs the cache's policy upkeep on its own ticks: an entry idle for <c>MaximumCacheTTL</c> (240 s,
    /// Orleans' default) expires with no write to trigger it, while an entry read meanwhile stays.
    /// </summary>
    internal static async Task IdleEntriesExpireOnTheServicesTicksAsync(ITestCluster cluster, ITestOutputHelper output)
    {
        var clock = new FakeTimeProvider();
        var logger = new RecordingLogger(failSweepLogs: 0);
        await using Maintained maintained = await Maintained.StartAsync(cluster, "maintenance-expiry-test", clock, logger);
        SyncMapGrainDirectoryCache cache = maintained.Cache;
        GrainAddress idle = Address(Grain(1), maintained.Live);
        GrainAddress read = Address(Grain(2), maintained.Live);
        cache.AddOrUpdate(idle, 1);
        cache.AddOrUpdate(read, 1);

        clock.Advance(TimeSpan.FromSeconds(200));
        for (int i = 0; i < 4 * HitSampler.SampleEvery; i++)
        {
            Assert.True(cache.TryLookUp(read.GrainId, out _));
        }

        // The next ticks drain the read (at 200 s or later); at 241 s the idle entry is due.
        // (Polled by the count, not by a lookup: a lookup is a read, and would keep the entry alive.)
        await TickUntilAsync(clock, () => cache.Count == 1, () => $"errors: {string.Join("; ", logger.Errors.Select(e => e.Message))}, count {cache.Count}");
        Assert.Equal(read.GrainId, Assert.Single(cache).Key);
        Assert.Equal(1, cache.GetStatistics().Evicted);
        output.WriteLine($"{cluster.PathName}: the idle entry expired on the service's ticks; the read one stayed");
    }

    /// <summary>Moves the fake clock a second at a time (each sweep or back-off is due within a few) until <paramref name="condition"/> holds.</summary>
    private static async Task TickUntilAsync(FakeTimeProvider clock, Func<bool> condition, Func<string>? describe = null)
    {
        bool held = await WaitUntilAsync(
            () =>
            {
                if (condition())
                {
                    return true;
                }

                clock.Advance(TimeSpan.FromSeconds(1));
                return false;
            },
            Patience);
        Assert.True(held, "The condition did not hold however far the clock moved. " + describe?.Invoke());
    }

    /// <summary>A maintenance service of its own on a silo of the cluster, with its own cache and index.</summary>
    private sealed class Maintained : IAsyncDisposable
    {
        private Maintained(SyncMapGrainDirectoryCache cache, SyncMapRegistryMaintenanceService service, SiloAddress live)
        {
            Cache = cache;
            Service = service;
            Live = live;

            // An earlier incarnation of a live silo (same endpoint, older generation): Orleans classifies it as dead.
            DeadPredecessor = SiloAddress.New(live.Endpoint, live.Generation - 1);
        }

        internal SyncMapGrainDirectoryCache Cache { get; }

        internal SyncMapRegistryMaintenanceService Service { get; }

        internal SiloAddress Live { get; }

        internal SiloAddress DeadPredecessor { get; }

        internal static async Task<Maintained> StartAsync(ITestCluster cluster, string name, TimeProvider clock, RecordingLogger logger, TimeSpan? purgeInterval = null)
        {
            IServiceProvider silo = cluster.Silos[0];
            IClusterMembershipService membership = silo.GetRequiredService<IClusterMembershipService>();
            var options = new SyncMapRegistryOptions { Name = name, LocalActivationsName = name + "-local", PurgeInterval = TimeSpan.FromSeconds(5) };
            var cache = new SyncMapGrainDirectoryCache(options, timeProvider: clock);
            var service = new SyncMapRegistryMaintenanceService(
                cache,
                new LocalActivationIndex(options),
                membership,
                Options.Create(new SyncMapRegistryOptions { PurgeInterval = purgeInterval ?? options.PurgeInterval }),
                clock,
                logger);
            var maintained = new Maintained(cache, service, cluster.Silos[1].GetRequiredService<ILocalSiloDetails>().SiloAddress);
            Assert.Equal(SiloStatus.Dead, membership.CurrentSnapshot.GetSiloStatus(maintained.DeadPredecessor));
            await service.StartAsync(CancellationToken.None);
            return maintained;
        }

        public async ValueTask DisposeAsync()
        {
            await Service.StopAsync(CancellationToken.None).WaitAsync(Patience);
            Service.Dispose();
        }
    }

    /// <summary>Records errors and warnings, and throws from the sweep's debug log a given number of times.</summary>
    private sealed class RecordingLogger(int failSweepLogs) : ILogger<SyncMapRegistryMaintenanceService>
    {
        private readonly List<(string Message, Exception? Exception)> _errors = [];
        private readonly List<string> _warnings = [];
        private int _failuresLeft = failSweepLogs;
        private int _failures;
        private int _sweeps;

        public int Failures => Volatile.Read(ref _failures);

        public int Sweeps => Volatile.Read(ref _sweeps);

        public IReadOnlyList<(string Message, Exception? Exception)> Errors
        {
            get
            {
                lock (_errors)
                {
                    return [.. _errors];
                }
            }
        }

        public IReadOnlyList<string> Warnings
        {
            get
            {
                lock (_errors)
                {
                    return [.. _warnings];
                }
            }
        }

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (_errors)
            {
                if (logLevel >= LogLevel.Error)
                {
                    _errors.Add((formatter(state, exception), exception));
                }
                else if (logLevel == LogLevel.Warning)
                {
                    _warnings.Add(formatter(state, exception));
                }
            }

            if (eventId.Name == "LogDebugSwept")
            {
                if (Interlocked.Decrement(ref _failuresLeft) >= 0)
                {
                    Interlocked.Increment(ref _failures);
                    throw new InvalidOperationException("Injected failure in the sweep.");
                }

                Interlocked.Increment(ref _sweeps);
            }
        }
    }
}
