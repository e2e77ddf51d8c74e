namespace SyncMapRegistry.Host.Workload;

/// <summary>
/// Runs a workload for the configured duration, ticking every report interval, and stops it early on
/// cancellation (Ctrl+C). The one loop behind the in-process host and every cluster role.
/// </summary>
internal static class WorkloadDriver
{
    // Below a timer's resolution a delay returns at once: the run is over.
    private static readonly TimeSpan MinDelay = TimeSpan.FromMilliseconds(5);

    /// <param name="run">The workload, or <c>null</c> for a process that only hosts grains.</param>
    /// <param name="duration">How long to run, from <paramref name="started"/>.</param>
    /// <param name="interval">How often to call <paramref name="tick"/>.</param>
    /// <param name="time">The clock.</param>
    /// <param name="started">The run's start timestamp, from <paramref name="time"/>.</param>
    /// <param name="tick">Called after each interval while the run goes on.</param>
    /// <param name="cancellationToken">Ends the run early.</param>
    /// <returns><c>true</c> when cancellation ended the run; the workload has stopped either way.</returns>
    internal static async Task<bool> RunAsync(
        Func<CancellationToken, Task>? run,
        TimeSpan duration,
        TimeSpan interval,
        TimeProvider time,
        long started,
        Action tick,
        CancellationToken cancellationToken)
    {
        using var stopWorkload = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task running = run?.Invoke(stopWorkload.Token) ?? Task.CompletedTask;
        try
        {
            while (true)
            {
                TimeSpan remaining = duration - time.GetElapsedTime(started);
                if (remaining < MinDelay)
                {
                    break;
                }

                await Task.Delay(remaining < interval ? remaining : interval, time, cancellationToken);
                tick();
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Ctrl+C: stop the workload and report where it got to.
        }

        await stopWorkload.CancelAsync();
        await running;
        return cancellationToken.IsCancellationRequested;
    }
}
