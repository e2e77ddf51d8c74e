using SyncMapRegistry.Host.Grains;
using SyncMapRegistry.Host.Telemetry;

namespace SyncMapRegistry.Host.Workload;

/// <summary>A silo (or client) the workload makes calls from.</summary>
/// <param name="Index">The caller's silo index in this process; also its <see cref="SiloScope"/>.</param>
/// <param name="Name">The caller's name.</param>
/// <param name="Grains">Where its calls start.</param>
/// <param name="Silo">The silo's address, to tell local calls from cross-silo ones.</param>
internal sealed record WorkloadCaller(int Index, string Name, IGrainFactory Grains, SiloAddress Silo);

/// <summary>Workload counters at one moment, cumulative since the workload started.</summary>
/// <param name="Activated">Grains activated by the warm-up.</param>
/// <param name="Calls">Calls that completed.</param>
/// <param name="Reads">Completed calls that read.</param>
/// <param name="Updates">Completed calls that updated (and so deactivated) a grain.</param>
/// <param name="CrossSilo">Completed calls answered by a silo other than the caller's.</param>
/// <param name="Failed">Calls that threw.</param>
/// <param name="LatencyTicks">The summed latency of completed calls, in <see cref="TimeProvider"/> ticks.</param>
public readonly record struct WorkloadSnapshot(long Activated, long Calls, long Reads, long Updates, long CrossSilo, long Failed, long LatencyTicks)
{
    /// <summary>The share of completed calls that crossed silos.</summary>
    public double CrossSiloShare => Calls == 0 ? 0 : (double)CrossSilo / Calls;
}

/// <summary>
/// A read-mostly workload of grain calls. The warm-up activates grain k on silo k mod N (the grains prefer
/// the calling silo); then <see cref="HostOptions.Concurrency"/> workers each pick a grain at random and call it
/// from a silo other than the one it was last seen on (<see cref="HostOptions.CrossSiloRatio"/> of the calls),
/// reading it (<see cref="HostOptions.ReadRatio"/>) or updating it.
/// </summary>
internal sealed class GrainWorkload
{
    private const int Unknown = -1;

    private readonly IReadOnlyList<WorkloadCaller> _callers;
    private readonly HostOptions _options;
    private readonly TimeProvider _time;
    private readonly Dictionary<SiloAddress, int> _siloIndex;

    // The silo each grain was last seen on, or Unknown. Written by whichever worker saw it last; a stale
    // value only makes one call local instead of cross-silo.
    private readonly int[] _locations;
    private readonly WorkerCounters[] _workers;
    private long _activated;

    public GrainWorkload(IReadOnlyList<WorkloadCaller> callers, HostOptions options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(callers);
        ArgumentNullException.ThrowIfNull(options);
        if (callers.Count == 0)
        {
            throw new ArgumentException("The workload needs at least one caller.", nameof(callers));
        }

        if (callers.Where((c, i) => c.Index != i).Any())
        {
            throw new ArgumentException("Caller i must have index i.", nameof(callers));
        }

        _callers = callers;
        _options = options;
        _time = time;
        _siloIndex = callers.ToDictionary(c => c.Silo, c => c.Index);
        _locations = new int[options.Grains];
        Array.Fill(_locations, Unknown);
        _workers = [.. Enumerable.Range(0, options.Concurrency).Select(_ => new WorkerCounters())];
    }

    /// <summary>Activates every grain once, from silo k mod N, a bounded number at a time.</summary>
    public async Task ActivateAsync(CancellationToken cancellationToken)
    {
        await Parallel.ForAsync(
            0,
            _options.Grains,
            new ParallelOptions { MaxDegreeOfParallelism = _options.Concurrency, CancellationToken = cancellationToken },
            async (grain, _) =>
            {
                WorkloadCaller caller = _callers[grain % _callers.Count];
                SiloScope.Current = caller.Index;
                DemoReply reply = await caller.Grains.GetGrain<IRegistryDemoGrain>(grain).ReadAsync();
                Volatile.Write(ref _locations[grain], IndexOf(reply.Silo));
                Interlocked.Increment(ref _activated);
            });
    }

    /// <summary>Runs the workers until <paramref name="cancellationToken"/> is canceled; never throws for that.</summary>
    public Task RunAsync(CancellationToken cancellationToken) =>
        Task.WhenAll(_workers.Select((counters, worker) => Task.Run(() => RunWorkerAsync(worker, counters, cancellationToken), CancellationToken.None)));

    public WorkloadSnapshot Snapshot()
    {
        long calls = 0, reads = 0, updates = 0, cross = 0, failed = 0, ticks = 0;
        foreach (WorkerCounters w in _workers)
        {
            reads += Volatile.Read(ref w.Reads);
            updates += Volatile.Read(ref w.Updates);
            cross += Volatile.Read(ref w.CrossSilo);
            failed += Volatile.Read(ref w.Failed);
            ticks += Volatile.Read(ref w.LatencyTicks);
        }

        calls = reads + updates;
        return new WorkloadSnapshot(Volatile.Read(ref _activated), calls, reads, updates, cross, failed, ticks);
    }

    private async Task RunWorkerAsync(int worker, WorkerCounters counters, CancellationToken cancellationToken)
    {
        var random = new Random(unchecked((worker + 1) * 7919));
        while (!cancellationToken.IsCancellationRequested)
        {
            int grain = random.Next(_options.Grains);
            WorkloadCaller caller = PickCaller(random, Volatile.Read(ref _locations[grain]));
            bool read = random.NextDouble() < _options.ReadRatio;
            SiloScope.Current = caller.Index;
            long started = _time.GetTimestamp();
            try
            {
                IRegistryDemoGrain target = caller.Grains.GetGrain<IRegistryDemoGrain>(grain);
                DemoReply reply = read ? await target.ReadAsync() : await target.UpdateAsync(started);
                long elapsed = _time.GetTimestamp() - started;
                int location = IndexOf(reply.Silo);

                // An update deactivates the grain: where it lives next is not known until it answers again.
                Volatile.Write(ref _locations[grain], read ? location : Unknown);
                Volatile.Write(ref counters.LatencyTicks, counters.LatencyTicks + elapsed);
                if (location != caller.Index)
                {
                    Volatile.Write(ref counters.CrossSilo, counters.CrossSilo + 1);
                }

                if (read)
                {
                    Volatile.Write(ref counters.Reads, counters.Reads + 1);
                }
                else
                {
                    Volatile.Write(ref counters.Updates, counters.Updates + 1);
                }
            }
            catch (Exception) when (!cancellationToken.IsCancellationRequested)
            {
                Volatile.Write(ref counters.Failed, counters.Failed + 1);
            }
            catch (Exception)
            {
                // A call cut short by the end of the run is neither a success nor a failure.
            }
        }
    }

    private WorkloadCaller PickCaller(Random random, int location)
    {
        int silos = _callers.Count;
        if (location == Unknown || silos == 1)
        {
            return _callers[random.Next(silos)];
        }

        if (random.NextDouble() >= _options.CrossSiloRatio)
        {
            return _callers[location];
        }

        // Any caller but the grain's own silo.
        int other = random.Next(silos - 1);
        return _callers[other >= location ? other + 1 : other];
    }

    private int IndexOf(SiloAddress silo) => _siloIndex.TryGetValue(silo, out int index) ? index : Unknown;

    /// <summary>One worker's counters; only that worker writes them, readers sum all workers.</summary>
    private sealed class WorkerCounters
    {
        public long Reads;
        public long Updates;
        public long CrossSilo;
        public long Failed;
        public long LatencyTicks;
    }
}
