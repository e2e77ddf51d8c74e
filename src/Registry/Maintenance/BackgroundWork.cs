namespace SyncMapRegistry;

/// <summary>
/// Runs one piece of work off the caller's thread whenever it is signalled: at most one run at a time, and a
/// signal that arrives during a run makes the run go round once more, so no signal is lost. Signalling is
/// O(1) and lock-free, which lets a thread that holds someone else's lock (Orleans' activation lock, a
/// message-path writer) hand work over without doing it.
/// </summary>
/// <remarks>
/// A run that throws is reported and does not stop later signals from running the work again.
/// </remarks>
internal sealed class BackgroundWork
{
    /// <summary>Queues on the thread pool without capturing the caller's execution context.</summary>
    private static readonly Action<Action> s_threadPool = static run => ThreadPool.UnsafeQueueUserWorkItem(static run => run(), run, preferLocal: false);

    private readonly Action _work;
    private readonly Action<Exception> _onFault;
    private readonly Action<Action> _schedule;

    /// <summary><see cref="Run"/>, made into a delegate once.</summary>
    private readonly Action _run;

    /// <summary>
    /// Signals not yet answered by a run. 0: idle. The signal that takes it from 0 to 1 schedules a run; the run
    /// subtracts what it has answered and ends only when that brings it back to 0.
    /// </summary>
    private int _pending;

    /// <param name="work">The work; called on the scheduler's thread, never concurrently with itself.</param>
    /// <param name="onFault">Told of an exception thrown by <paramref name="work"/>.</param>
    /// <param name="schedule">Queues a run; the thread pool by default. Tests pass one that they drive by hand.</param>
    public BackgroundWork(Action work, Action<Exception> onFault, Action<Action>? schedule = null)
    {
        _work = work;
        _onFault = onFault;
        _schedule = schedule ?? s_threadPool;
        _run = Run;
    }

    /// <summary>Asks for a run. Cheap enough for any hot path: one interlocked increment, and a queue only when idle.</summary>
    public void Signal()
    {
        if (Interlocked.Increment(ref _pending) == 1)
        {
            _schedule(_run);
        }
    }

    private void Run()
    {
        int answered;
        do
        {
            answered = Volatile.Read(ref _pending);
            try
            {
                _work();
            }
            catch (Exception exception)
            {
                ReportQuietly(exception);
            }
        }
        while (Interlocked.Add(ref _pending, -answered) != 0);
    }

    /// <summary>A reporter that throws must not end the run with signals unanswered (nothing would run again).</summary>
    private void ReportQuietly(Exception exception)
    {
        try
        {
            _onFault(exception);
        }
        catch (Exception)
        {
            // Nowhere left to report it; the next signal runs the work again.
        }
    }
}
