using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace SyncMapRegistry;

/// <summary>
/// Keeps a silo's registry clean. It follows <see cref="IClusterMembershipService.MembershipUpdates"/> and purges
/// every directory cache entry that points at a dead silo (<see cref="DeadSiloPurge"/>); on every
/// <see cref="SyncMapRegistryOptions.PurgeInterval"/> it purges again as a safety net and recounts the cache
/// (<see cref="SyncMapGrainDirectoryCache.Recount"/>); and every <see cref="PolicyInterval"/> it runs the cache's
/// policy upkeep (<see cref="SyncMapGrainDirectoryCache.Maintain"/>: hit samples drained, idle entries expired),
/// which writes also trigger but reads never do.
/// </summary>
/// <remarks>
/// <para>
/// A silo is dead by Orleans' own rule for cached addresses (<see cref="DeadSiloPurge"/>): the
/// snapshot says <see cref="SiloStatus.Dead"/> (a silo that crashed, was killed, or shut down gracefully), or the
/// silo is absent from a table newer than the address. One walk purges every dead silo.
/// </para>
/// <para>
/// Orleans' own directory code removes most such entries on the same membership change; this service
/// catches what it misses, such as an entry written by a lookup that raced with the change.
/// </para>
/// <para>
/// No loop lets an exception end it: it logs, backs off (doubling from one second to one minute) and goes
/// on; the sweep's timer is made inside that guard. Should a loop end by a fault all the same, it is logged at
/// once as critical, not when the host stops. Both stop as soon as the host stops, without waiting for the next
/// membership update or tick.
/// </para>
/// </remarks>
internal sealed partial class SyncMapRegistryMaintenanceService(
    SyncMapGrainDirectoryCache cache,
    LocalActivationIndex localActivations,
    IClusterMembershipService membership,
    IOptions<SyncMapRegistryOptions> options,
    TimeProvider timeProvider,
    ILogger<SyncMapRegistryMaintenanceService> logger) : BackgroundService
{
    private static readonly TimeSpan MinBackoff = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How often the cache's policy upkeep runs without writes: often enough that the readers' rings (each a thread's
    /// last 256 hits) are drained before most of their samples are overwritten on a quiet silo, and that an idle
    /// entry outlives <c>MaximumCacheTTL</c> by about this much at most.
    /// </summary>
    internal static readonly TimeSpan PolicyInterval = TimeSpan.FromSeconds(1);

    private readonly TimeSpan _purgeInterval = options.Value.PurgeInterval;

    /// <summary>Purges the entries of every silo that <paramref name="snapshot"/> reports dead, in one walk.</summary>
    /// <returns>The number of entries removed.</returns>
    internal int PurgeDeadSilos(ClusterMembershipSnapshot snapshot, string trigger)
    {
        int total = 0;
        foreach ((SiloAddress silo, int removed) in cache.Purge(snapshot))
        {
            total += removed;
            LogInformationPurged(silo, removed, trigger, snapshot.Version.Value);
        }

        return total;
    }

    /// <inheritdoc/>
    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        LogDebugStarted(_purgeInterval);
        return Task.WhenAll(
            ReportFaultAsync(FollowMembershipAsync(stoppingToken), "following membership updates"),
            ReportFaultAsync(EveryAsync(_purgeInterval, Sweep, "the periodic sweep", stoppingToken), "the periodic sweep"),
            ReportFaultAsync(EveryAsync(PolicyInterval, cache.Maintain, "the cache's policy upkeep", stoppingToken), "the cache's policy upkeep"));
    }

    /// <summary>Logs a loop's fault as soon as it happens: <see cref="Task.WhenAll(Task[])"/> alone would show it only once both loops end.</summary>
    private async Task ReportFaultAsync(Task loop, string name)
    {
        try
        {
            await loop;
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            LogCriticalLoopEnded(exception, name);
            throw;
        }
    }

    private async Task FollowMembershipAsync(CancellationToken stoppingToken)
    {
        TimeSpan backoff = MinBackoff;
        while (!stoppingToken.IsCancellationRequested)
        {
            IAsyncEnumerator<ClusterMembershipSnapshot>? updates = null;
            try
            {
                updates = membership.MembershipUpdates.GetAsyncEnumerator(stoppingToken);

                // WaitAsync: stop promptly even if the enumerator does not watch the token itself.
                while (await updates.MoveNextAsync().AsTask().WaitAsync(stoppingToken))
                {
                    PurgeDeadSilos(updates.Current, "membership update");
                    backoff = MinBackoff;
                }

                // The stream ended (membership is stopping); subscribe again after a pause.
                await DisposeQuietlyAsync(updates);
                updates = null;
                await Task.Delay(backoff, timeProvider, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                // A pending MoveNextAsync may still run: the enumerator is left to it rather than disposed under it.
                return;
            }
            catch (Exception exception)
            {
                LogErrorMembershipLoop(exception, backoff);
                if (updates is not null)
                {
                    await DisposeQuietlyAsync(updates);
                }

                if (!await DelayAsync(backoff, stoppingToken))
                {
                    return;
                }

                backoff = Next(backoff);
            }
        }
    }

    /// <summary>Runs <paramref name="work"/> every <paramref name="interval"/> until the host stops; a failure is logged and retried after a back-off.</summary>
    private async Task EveryAsync(TimeSpan interval, Action work, string name, CancellationToken stoppingToken)
    {
        // Made inside the guard below: a timer that cannot be made is an error logged and retried like any other.
        PeriodicTimer? timer = null;
        TimeSpan backoff = MinBackoff;
        try
        {
            while (true)
            {
                try
                {
                    timer ??= new PeriodicTimer(interval, timeProvider);
                    if (!await timer.WaitForNextTickAsync(stoppingToken))
                    {
                        return;
                    }

                    work();
                    backoff = MinBackoff;
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception exception)
                {
                    LogErrorPeriodic(exception, name, backoff);
                    if (!await DelayAsync(backoff, stoppingToken))
                    {
                        return;
                    }

                    backoff = Next(backoff);
                }
            }
        }
        finally
        {
            timer?.Dispose();
        }
    }

    private void Sweep()
    {
        int purged = PurgeDeadSilos(membership.CurrentSnapshot, "periodic sweep");
        int corrected = cache.Recount();
        if (corrected != 0)
        {
            LogWarningRecounted(corrected, cache.Count);
        }

        LogDebugSwept(purged, cache.Count, localActivations.Count);
    }

    /// <returns><c>false</c> when the host stopped during the delay.</returns>
    private async Task<bool> DelayAsync(TimeSpan delay, CancellationToken stoppingToken)
    {
        try
        {
            await Task.Delay(delay, timeProvider, stoppingToken);
            return true;
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return false;
        }
    }

    private async Task DisposeQuietlyAsync(IAsyncEnumerator<ClusterMembershipSnapshot> updates)
    {
        try
        {
            await updates.DisposeAsync();
        }
        catch (Exception exception)
        {
            LogWarningDispose(exception);
        }
    }

    private static TimeSpan Next(TimeSpan backoff) => backoff * 2 < MaxBackoff ? backoff * 2 : MaxBackoff;

    [LoggerMessage(Level = LogLevel.Debug, Message = "SyncMap registry maintenance started; sweeping every {PurgeInterval}")]
    private partial void LogDebugStarted(TimeSpan purgeInterval);

    [LoggerMessage(Level = LogLevel.Information, Message = "Purged {Removed} directory cache entries pointing at dead silo {Silo} ({Trigger}, membership version {MembershipVersion})")]
    private partial void LogInformationPurged(SiloAddress silo, int removed, string trigger, long membershipVersion);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Swept the SyncMap registry: purged {Purged} entries of dead silos; {CacheEntries} cached, {LocalActivations} local")]
    private partial void LogDebugSwept(int purged, int cacheEntries, int localActivations);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The directory cache's count had drifted; corrected by {Correction} to {CacheEntries}")]
    private partial void LogWarningRecounted(int correction, int cacheEntries);

    [LoggerMessage(Level = LogLevel.Critical, Message = "The registry's maintenance stopped: {Loop} failed")]
    private partial void LogCriticalLoopEnded(Exception exception, string loop);

    [LoggerMessage(Level = LogLevel.Error, Message = "Following membership updates failed; retrying in {Backoff}")]
    private partial void LogErrorMembershipLoop(Exception exception, TimeSpan backoff);

    [LoggerMessage(Level = LogLevel.Error, Message = "The SyncMap registry's {Work} failed; retrying in {Backoff}")]
    private partial void LogErrorPeriodic(Exception exception, string work, TimeSpan backoff);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Disposing the membership update stream failed")]
    private partial void LogWarningDispose(Exception exception);
}
