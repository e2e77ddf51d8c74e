namespace SyncMapRegistry.Benchmarks.Infrastructure;

/// <summary>
/// Runs one body on a fixed set of threads at once, as Go's <c>b.RunParallel</c> does: the calling thread is
/// worker 0 and <c>threads - 1</c> helper threads, started once, are the others. Helpers block between rounds;
/// <see cref="Arm"/> (called from an iteration setup) wakes them to spin, so that <see cref="Run"/> starts every
/// worker within about a microsecond and the measured time is the workers' time, not thread wake-up latency.
/// </summary>
internal sealed class ParallelRunner : IDisposable
{
    private readonly Thread[] _helpers;
    private readonly SemaphoreSlim _armed = new(0);
    private Action<int>? _body;
    private int _round;
    private int _running;
    private bool _isArmed;
    private volatile bool _stopping;

    internal ParallelRunner(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        Threads = threads;
        _helpers = new Thread[threads - 1];
        for (int i = 0; i < _helpers.Length; i++)
        {
            int worker = i + 1;
            _helpers[i] = new Thread(() => HelperLoop(worker)) { IsBackground = true, Name = $"bench-worker-{worker}" };
            _helpers[i].Start();
        }
    }

    internal int Threads { get; }

    /// <summary>Wakes the helpers so that they spin, ready for the next <see cref="Run"/>.</summary>
    internal void Arm()
    {
        if (!_isArmed && _helpers.Length > 0)
        {
            _isArmed = true;
            _armed.Release(_helpers.Length);
        }
    }

    /// <summary>Runs <paramref name="body"/>(worker) on every worker at once and returns when all are done.</summary>
    internal void Run(Action<int> body)
    {
        Arm();
        _isArmed = false;
        _body = body;
        Volatile.Write(ref _running, _helpers.Length);
        Interlocked.Increment(ref _round); // publishes _body to the spinning helpers
        body(0);
        var spin = default(SpinWait);
        while (Volatile.Read(ref _running) != 0)
        {
            spin.SpinOnce(sleep1Threshold: -1);
        }
    }

    public void Dispose()
    {
        _stopping = true;
        if (_helpers.Length > 0)
        {
            _armed.Release(_helpers.Length);
        }

        foreach (Thread helper in _helpers)
        {
            helper.Join();
        }

        _armed.Dispose();
    }

    private void HelperLoop(int worker)
    {
        int seen = 0;
        while (true)
        {
            _armed.Wait();
            var spin = default(SpinWait);
            while (Volatile.Read(ref _round) == seen)
            {
                if (_stopping)
                {
                    return;
                }

                spin.SpinOnce(sleep1Threshold: -1);
            }

            seen++;
            _body!(worker);
            Interlocked.Decrement(ref _running);
        }
    }
}
