using BenchmarkDotNet.Attributes;

namespace SyncMapRegistry.Benchmarks.Infrastructure;

/// <summary>
/// The base of every parallel benchmark. One invocation is one Go <c>b.RunParallel</c> run with
/// <c>b.N = </c><see cref="Ops"/>: every worker thread starts at once, worker <c>w</c> works on its own key range
/// starting at <c>w * Ops</c> (Go's <c>id * b.N</c>), the workers share the <see cref="Ops"/> operations, and
/// ns/op is the wall time over <see cref="Ops"/> (<c>OperationsPerInvoke</c>). Each iteration runs one invocation
/// on a freshly built and primed map (an <c>[IterationSetup]</c>), as each Go run starts from a fresh map.
/// </summary>
[MemoryDiagnoser]
public abstract class ParallelBenchmark
{
    /// <summary>Operations per invocation, shared by all workers.</summary>
    internal const int Ops = 1 << 18;

    private readonly List<IDisposable> _resources = [];
    private ParallelRunner? _runner;
    private Action<int>? _body;
    private bool _warmedUp;

    /// <summary>1, 2, ... <see cref="Environment.ProcessorCount"/>: the thread counts of the scaling benchmarks.</summary>
    public static IEnumerable<int> AllThreadCounts => Enumerable.Range(1, Environment.ProcessorCount);

    /// <summary>Worker threads, the calling thread included; every core unless a benchmark says otherwise.</summary>
    protected virtual int ThreadCount => Environment.ProcessorCount;

    [GlobalCleanup]
    public void Cleanup()
    {
        _runner?.Dispose();
        _runner = null;
        foreach (IDisposable resource in _resources)
        {
            resource.Dispose();
        }

        _resources.Clear();
    }

    /// <summary>Disposes <paramref name="resource"/> in the global cleanup.</summary>
    private protected void DisposeOnCleanup(IDisposable resource) => _resources.Add(resource);

    /// <summary>
    /// Builds the next invocation's state with <paramref name="build"/> and sets its body; call from an iteration
    /// setup. The first call for a benchmark case first warms the code up (see <see cref="WarmUp"/>).
    /// </summary>
    private protected void Prepare<TState>(Func<TState> build, Action<TState, int, int, int> work)
    {
        if (!_warmedUp)
        {
            WarmUp(build, work);
            _warmedUp = true;
        }

        TState state = build();
        _runner ??= new ParallelRunner(ThreadCount);
        int threads = _runner.Threads;
        int opsPerRun = BenchmarkSettings.Quick ? Ops / 256 : Ops;
        _body = worker =>
        {
            int count = opsPerRun / threads;
            if (worker == 0)
            {
                count += opsPerRun % threads;
            }

            work(state, worker, worker * Ops, count);
        };
        _runner.Arm();
    }

    /// <summary>
    /// Calls the workload often enough, on throwaway state and with pauses, for tiered compilation to finish
    /// before the first measured iteration: each round makes more than 30 calls (the call count that promotes a
    /// method from instrumented tier-0 code) and then waits longer than the tiering delay (100 ms without new
    /// compilations), so that the workload's loop and every method it calls (the peers' own included) run as
    /// tier-1 code compiled with the dynamic PGO profile, not as on-stack-replacement code. BenchmarkDotNet's own
    /// warm-up, with one short invocation per iteration, makes too few calls for that.
    /// </summary>
    private static void WarmUp<TState>(Func<TState> build, Action<TState, int, int, int> work)
    {
        if (BenchmarkSettings.Quick)
        {
            return;
        }

        for (int round = 0; round < 3; round++)
        {
            TState state = build();
            for (int call = 0; call < 40; call++)
            {
                work(state, 0, call * (Ops / 256), Ops / 256);
            }

            Thread.Sleep(150);
        }
    }

    /// <summary>The invocation: runs the prepared body on every worker.</summary>
    private protected void RunParallel() => _runner!.Run(_body!);
}
