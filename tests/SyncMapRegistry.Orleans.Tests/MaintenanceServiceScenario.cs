using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using static SyncMapRegistry.OrleansTests.TestSupport;

namespace SyncMapRegistry.OrleansTests;

/// <summary>
/// The maintenance service on a live silo's membership: an exception inside its sweep does not end the loop,
/// and it stops as soon as it is asked to.
/// </summary>
internal static class MaintenanceServiceScenario
{
    internal static async Task TheSweepSurvivesAnExceptionAndStopsWhenAskedAsync(ITestCluster cluster, ITestOutputHelper output)
    {
        IServiceProvider silo = cluster.Silos[0];
        IClusterMembershipService membership = silo.GetRequiredService<IClusterMembershipService>();

        // An earlier incarnation of a live silo (same endpoint, older generation): Orleans classifies it as dead.
        SiloAddress live = cluster.Silos[1].GetRequiredService<ILocalSiloDetails>().SiloAddress;
        SiloAddress predecessor = SiloAddress.New(live.Endpoint, live.Generation - 1);
        Assert.Equal(SiloStatus.Dead, membership.CurrentSnapshot.GetSiloStatus(predecessor));

        var options = new SyncMapRegistryOptions
        {
            Name = "maintenance-test",
            LocalActivationsName = "maintenance-test-local",
            PurgeInterval = TimeSpan.FromMilliseconds(100),
        };
        var cache = new SyncMapGrainDirectoryCache(options);
        var index = new LocalActivationIndex(options);
        var logger = new FailingLogger(failSweepLogs: 2);
        using var service = new SyncMapRegistryMaintenanceService(cache, index, membership, Options.Create(options), TimeProvider.System, logger);
        await service.StartAsync(CancellationToken.None);
        try
        {
            Assert.True(await WaitUntilAsync(() => logger.Failures == 2, TimeSpan.FromSeconds(30)), "The sweep never ran into the injected failures.");
            GrainAddress straggler = TestSupport.Address(Grain(7), predecessor);
            cache.AddOrUpdate(straggler, 1);
            Assert.True(await WaitUntilAsync(() => !cache.TryLookUp(straggler.GrainId, out _), TimeSpan.FromSeconds(30)), "The sweep stopped after the exceptions.");
            Assert.Equal(1, cache.GetStatistics().Purged);
            Assert.True(await WaitUntilAsync(() => logger.Sweeps > 0, TimeSpan.FromSeconds(30)));
            Assert.Equal(2, logger.Errors.Count(e => e.Exception is InvalidOperationException));
            Assert.False(service.ExecuteTask!.IsCompleted);
            output.WriteLine($"{cluster.PathName}: {logger.Failures} injected failures logged as errors, then {logger.Sweeps} clean sweeps; the planted entry was purged");
        }
        finally
        {
            await service.StopAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        }

        // Stopped without waiting for the next tick or membership update.
        Assert.True(service.ExecuteTask!.IsCompletedSuccessfully);
    }

    /// <summary>Throws from the sweep's debug log a given number of times, and records errors.</summary>
    private sealed class FailingLogger(int failSweepLogs) : ILogger<SyncMapRegistryMaintenanceService>
    {
        private int _failuresLeft = failSweepLogs;
        private int _failures;
        private int _sweeps;
        private readonly List<(string Message, Exception? Exception)> _errors = [];

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

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel >= LogLevel.Error)
            {
                lock (_errors)
                {
                    _errors.Add((formatter(state, exception), exception));
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
