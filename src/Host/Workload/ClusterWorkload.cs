using System.Collections.Concurrent;
using SyncMapRegistry.Host.Grains;
using SyncMapRegistry.Host.Telemetry;

namespace SyncMapRegistry.Host.Workload;

/// <summary>Where the cluster workload's calls start: a silo of this process, or its cluster client.</summary>
/// <param name="Scope">The <see cref="SiloScope"/> of calls made from it.</param>
/// <param name="Name">Its name.</param>
/// <param name="Grains">Where its calls start.</param>
/// <param name="Silo">The silo's address; <c>null</c> for a client.</param>
internal sealed record ClusterCaller(int Scope, string Name, IGrainFactory Grains, SiloAddress? Silo);

/// <summary>
/// The outcome of the calls made to the grains whose first activation this workload saw on one silo (the grains'
/// <em>home</em> silo), cumulative.
/// </summary>
/// <param name="Succeeded">Calls that completed.</param>
/// <param name="Failed">Calls that threw.</param>
/// <param name="DirectoryFailed">
/// Of <paramref name="Failed"/>, calls that failed while Orleans looked the grain up in its grain directory (the
/// exception comes from <c>Orleans.Runtime.GrainDirectory</c>): the grain's directory registration lived on a silo that
/// could not be reached, whichever silo hosts the grain.
/// </param>
/// <param name="Moved">Completed calls answered by another silo than the home silo: the grain was activated again elsewhere.</param>
/// <param name="FirstFailedStartMs">When the first failed call started (Unix ms), or <c>null</c>.</param>
/// <param name="LastFailedStartMs">When the last failed call started (Unix ms), or <c>null</c>.</param>
/// <param name="LastFailedEndMs">When the last failed call failed (Unix ms), or <c>null</c>.</param>
/// <param name="FirstMovedMs">When the first moved call completed (Unix ms), or <c>null</c>.</param>
internal readonly record struct TargetOutcome(long Succeeded, long Failed, long DirectoryFailed, long Moved, long? FirstFailedStartMs, long? LastFailedStartMs, long? LastFailedEndMs, long? FirstMovedMs);

/// <summary>
/// A read-mostly workload for a cluster that spans processes: every caller of this process calls grains of
/// <see cref="IClusterDemoGrain"/>, which live all over the cluster. Each call is counted against the grain's home:
/// the silo its first activation answered from (in the warm-up), so a test can tell calls to the grains of a
/// silo that died from calls to the grains of a survivor, even after the former were activated again elsewhere.
/// </summary>
internal sealed class ClusterWorkload
{
    /// <summary>Open loop: the most calls in flight at once.</summary>
    public const int MaxInFlight = 10_000;

    private const long None = long.MinValue;
    private static readonly TimeSpan PacerTick = TimeSpan.FromMilliseconds(2);

    private readonly IReadOnlyList<ClusterCaller> _callers;
    private readonly HostOptions _options;
    private readonly TimeProvider _time;

    // The silo each grain last answered from, or null before its first answer. Any worker may write it; a
    // stale value only counts one call against the grain's previous silo.
    private readonly SiloAddress?[] _locations;

    // The silo each grain first answered from, or null before its first answer. Written once.
    private readonly SiloAddress?[] _homes;
    private readonly ConcurrentDictionary<SiloAddress, Target> _targets = new();
    private readonly ConcurrentDictionary<string, long> _errors = new(StringComparer.Ordinal);
    private readonly Target _unknown = new();
    private long _activated;
    private long _reads;
    private long _updates;
    private long _crossSilo;
    private long _latencyTicks;
    private long _inFlight;
    private long _skipped;

    public ClusterWorkload(IReadOnlyList<ClusterCaller> callers, HostOptions options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(callers);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        if (callers.Count == 0)
        {
            throw new ArgumentException("The workload needs at least one caller.", nameof(callers));
        }

        _callers = callers;
        _options = options;
        _time = time;
        _locations = new SiloAddress?[options.Grains];
        _homes = new SiloAddress?[options.Grains];
    }

    /// <summary>Calls every grain once (activating it where its hash places it), retrying a failed call a few times.</summary>
    public async Task ActivateAsync(CancellationToken cancellationToken)
    {
        await Parallel.ForAsync(
            0,
            _options.Grains,
            new ParallelOptions { MaxDegreeOfParallelism = _options.Concurrency, CancellationToken = cancellationToken },
            async (grain, ct) =>
            {
                ClusterCaller caller = _callers[grain % _callers.Count];
                SiloScope.Current = caller.Scope;
                for (int attempt = 1; ; attempt++)
                {
                    try
                    {
                        DemoReply reply = await caller.Grains.GetGrain<IClusterDemoGrain>(grain).ReadAsync();
                        Volatile.Write(ref _locations[grain], reply.Silo);
                        Interlocked.CompareExchange(ref _homes[grain], reply.Silo, null);
                        Interlocked.Increment(ref _activated);
                        return;
                    }
                    catch (Exception) when (attempt < 5 && !ct.IsCancellationRequested)
                    {
                        await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt), _time, ct);
                    }
                }
            });
    }

    /// <summary>
    /// Runs until <paramref name="cancellationToken"/> is canceled: <see cref="HostOptions.Concurrency"/> workers that
    /// each wait for a call before the next (closed loop), or, with <see cref="HostOptions.Rate"/> set, calls started
    /// at that rate (open loop).
    /// </summary>
    public Task RunAsync(CancellationToken cancellationToken) =>
        _options.Rate > 0
            ? Task.Run(() => RunOpenLoopAsync(cancellationToken), CancellationToken.None)
            : Task.WhenAll(Enumerable.Range(0, _options.Concurrency).Select(worker => Task.Run(() => RunWorkerAsync(worker, cancellationToken), CancellationToken.None)));

    /// <summary>Calls in flight now.</summary>
    public long InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Open loop: calls not started because <see cref="MaxInFlight"/> calls were in flight.</summary>
    public long Skipped => Volatile.Read(ref _skipped);

    /// <summary>The counters in the single-process host's shape, for its progress display and summary.</summary>
    public WorkloadSnapshot Snapshot()
    {
        long failed = Volatile.Read(ref _unknown.Failed);
        foreach (Target target in _targets.Values)
        {
            failed += Volatile.Read(ref target.Failed);
        }

        long reads = Volatile.Read(ref _reads), updates = Volatile.Read(ref _updates);
        return new WorkloadSnapshot(Volatile.Read(ref _activated), reads + updates, reads, updates, Volatile.Read(ref _crossSilo), failed, Volatile.Read(ref _latencyTicks));
    }

    /// <summary>The outcome per home silo.</summary>
    public IReadOnlyDictionary<SiloAddress, TargetOutcome> Targets() =>
        _targets.ToDictionary(kv => kv.Key, kv => kv.Value.Outcome());

    /// <summary>The outcome of calls to grains that had not answered yet (no home silo).</summary>
    public TargetOutcome UnknownTarget => _unknown.Outcome();

    /// <summary>How many grains were last seen on each silo.</summary>
    public IReadOnlyDictionary<SiloAddress, int> GrainsBySilo()
    {
        var counts = new Dictionary<SiloAddress, int>();
        for (int i = 0; i < _locations.Length; i++)
        {
            if (Volatile.Read(ref _locations[i]) is { } silo)
            {
                counts[silo] = counts.GetValueOrDefault(silo) + 1;
            }
        }

        return counts;
    }

    /// <summary>Failed calls by exception type.</summary>
    public IReadOnlyDictionary<string, long> Errors() => _errors.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);

    private async Task RunWorkerAsync(int worker, CancellationToken cancellationToken)
    {
        var random = new Random(unchecked((worker + 1) * 7919) ^ Environment.ProcessId);
        while (!cancellationToken.IsCancellationRequested)
        {
            (int grain, ClusterCaller caller, bool read) = Pick(random);
            await CallAsync(grain, caller, read, cancellationToken);
        }
    }

    /// <summary>
    /// Open loop: starts <see cref="HostOptions.Rate"/> calls a second whether or not earlier calls have returned,
    /// so calls to a silo that hangs (killed, not yet declared dead) do not hold back calls to the others.
    /// At most <see cref="MaxInFlight"/> calls are in flight; a call that would exceed it is counted as skipped.
    /// </summary>
    private async Task RunOpenLoopAsync(CancellationToken cancellationToken)
    {
        var random = new Random(Environment.ProcessId);
        var calls = new List<Task>();
        long started = _time.GetTimestamp();
        long issued = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            long due = (long)(_time.GetElapsedTime(started).TotalSeconds * _options.Rate);
            for (; issued < due; issued++)
            {
                if (Volatile.Read(ref _inFlight) >= MaxInFlight)
                {
                    Interlocked.Increment(ref _skipped);
                    continue;
                }

                (int grain, ClusterCaller caller, bool read) = Pick(random);
                Interlocked.Increment(ref _inFlight);
                calls.Add(CallAndReleaseAsync(grain, caller, read, cancellationToken));
            }

            calls.RemoveAll(t => t.IsCompleted);
            try
            {
                await Task.Delay(PacerTick, _time, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
        }

        // Calls still waiting on a silo that does not answer end with their response timeout at the latest.
        await Task.WhenAll(calls);
    }

    private async Task CallAndReleaseAsync(int grain, ClusterCaller caller, bool read, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Yield();
            await CallAsync(grain, caller, read, cancellationToken);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    private (int Grain, ClusterCaller Caller, bool Read) Pick(Random random) =>
        (random.Next(_options.Grains), _callers[random.Next(_callers.Count)], random.NextDouble() < _options.ReadRatio);

    /// <summary>One call, counted against the grain's home silo.</summary>
    private async Task CallAsync(int grain, ClusterCaller caller, bool read, CancellationToken cancellationToken)
    {
        SiloAddress? home = Volatile.Read(ref _homes[grain]);
        Target target = home is null ? _unknown : _targets.GetOrAdd(home, static _ => new Target());
        SiloScope.Current = caller.Scope;
        long started = _time.GetTimestamp();
        long startedMs = _time.GetUtcNow().ToUnixTimeMilliseconds();
        try
        {
            IClusterDemoGrain grainRef = caller.Grains.GetGrain<IClusterDemoGrain>(grain);
            DemoReply reply = read ? await grainRef.ReadAsync() : await grainRef.UpdateAsync(started);
            Interlocked.Add(ref _latencyTicks, _time.GetTimestamp() - started);
            Interlocked.Increment(ref read ? ref _reads : ref _updates);
            if (caller.Silo is not null && !reply.Silo.Equals(caller.Silo))
            {
                Interlocked.Increment(ref _crossSilo);
            }

            Volatile.Write(ref _locations[grain], reply.Silo);
            Interlocked.CompareExchange(ref _homes[grain], reply.Silo, null);
            Interlocked.Increment(ref target.Succeeded);
            if (home is not null && !reply.Silo.Equals(home))
            {
                Interlocked.Increment(ref target.Moved);
                Interlocked.CompareExchange(ref target.FirstMovedMs, _time.GetUtcNow().ToUnixTimeMilliseconds(), None);
            }
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            Interlocked.Increment(ref target.Failed);
            if (exception.ToString().Contains("Orleans.Runtime.GrainDirectory", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref target.DirectoryFailed);
            }

            Interlocked.CompareExchange(ref target.FirstFailedStartMs, startedMs, None);
            Max(ref target.LastFailedStartMs, startedMs);
            Max(ref target.LastFailedEndMs, _time.GetUtcNow().ToUnixTimeMilliseconds());
            _errors.AddOrUpdate(exception.GetType().Name, 1, static (_, n) => n + 1);
        }
        catch (Exception)
        {
            // A call cut short by the end of the run is neither a success nor a failure.
        }
    }

    private static void Max(ref long location, long value)
    {
        long current = Volatile.Read(ref location);
        while (value > current)
        {
            long seen = Interlocked.CompareExchange(ref location, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }

    /// <summary>The counters of the calls to one home silo's grains; every field is written with <see cref="Interlocked"/>.</summary>
    private sealed class Target
    {
        public long Succeeded;
        public long Failed;
        public long DirectoryFailed;
        public long Moved;
        public long FirstFailedStartMs = None;
        public long LastFailedStartMs = None;
        public long LastFailedEndMs = None;
        public long FirstMovedMs = None;

        public TargetOutcome Outcome() => new(
            Volatile.Read(ref Succeeded),
            Volatile.Read(ref Failed),
            Volatile.Read(ref DirectoryFailed),
            Volatile.Read(ref Moved),
            Read(ref FirstFailedStartMs),
            Read(ref LastFailedStartMs),
            Read(ref LastFailedEndMs),
            Read(ref FirstMovedMs));

        private static long? Read(ref long field)
        {
            long value = Volatile.Read(ref field);
            return value == None ? null : value;
        }
    }
}
