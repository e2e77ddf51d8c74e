using HdrHistogram;
using SyncMapRegistry.Host.Harness;
using SyncMapRegistry.Host.Telemetry;

namespace SyncMapRegistry.Host.Workload;

/// <summary>Where calls start: a silo of this process, or its cluster client.</summary>
/// <param name="Scope">The <see cref="SiloScope"/> of calls made from it.</param>
/// <param name="Grains">Where its calls start.</param>
/// <param name="Silo">The silo's address, to tell local calls from cross-silo ones; <c>null</c> for a client.</param>
internal sealed record Caller(int Scope, IGrainFactory Grains, SiloAddress? Silo);

/// <summary>Workload counters at one moment, cumulative; the warm-up's calls count only in <paramref name="Activated"/>.</summary>
/// <param name="Activated">Grains the warm-up reached.</param>
/// <param name="Calls">Calls that completed after the warm-up.</param>
/// <param name="Reads">Completed calls that read.</param>
/// <param name="Updates">Completed calls that updated (and so deactivated) a grain.</param>
/// <param name="CrossSilo">Completed calls answered by a silo other than the calling one.</param>
/// <param name="Failed">Calls that threw.</param>
public readonly record struct WorkloadSnapshot(long Activated, long Calls, long Reads, long Updates, long CrossSilo, long Failed)
{
    /// <summary>The share of completed calls that crossed silos.</summary>
    public double CrossSiloShare => Calls == 0 ? 0 : (double)CrossSilo / Calls;
}

/// <summary>Call latency percentiles, in milliseconds, from an HdrHistogram (microsecond resolution, 3 significant digits).</summary>
/// <param name="P50">The median.</param>
/// <param name="P99">The 99th percentile.</param>
/// <param name="P999">The 99.9th percentile.</param>
/// <param name="Max">The longest call.</param>
/// <param name="Mean">The mean.</param>
public readonly record struct LatencySummary(double P50, double P99, double P999, double Max, double Mean);

/// <summary>
/// The host's one workload. The warm-up calls each grain once, activating it on a random silo of the cluster. Then,
/// closed loop, <see cref="HostOptions.Concurrency"/> workers each call a grain and wait for it, or, open loop, calls
/// start at <see cref="HostOptions.Rate"/> per second. Which grain a call goes to follows
/// <see cref="HostOptions.Popularity"/> (every grain alike, or Zipf). A call reads the grain
/// (<see cref="HostOptions.ReadRatio"/>) or updates it, and starts from a silo other than the grain's
/// (<see cref="HostOptions.CrossSiloRatio"/>) when this process has one.
/// </summary>
/// <remarks>
/// Each call's outcome is also counted by <see cref="CallOutcomes"/>, for the fault tests (STATUS lines).
/// </remarks>
internal sealed class GrainWorkload
{
    /// <summary>Open loop: the most calls in flight at once.</summary>
    public const int MaxInFlight = 10_000;

    /// <summary>The most reference slots (callers x grains) the workload keeps; 32 MB of arrays.</summary>
    public const long MaxReferences = 4_000_000;

    private const long MaxLatencyMicroseconds = 60_000_000;
    private static readonly TimeSpan PacerTick = TimeSpan.FromMilliseconds(2);

    private readonly IReadOnlyList<Caller> _callers;
    private readonly Dictionary<SiloAddress, int> _callerOf;
    private readonly HostOptions _options;
    private readonly GrainPicker _picker;
    private readonly TimeProvider _time;

    // The silo each grain last answered from, or null before its first answer. Any call may write it; a stale
    // value only makes one call local instead of cross-silo.
    private readonly SiloAddress?[] _locations;

    // A reference per caller and grain, made on a caller's first call to the grain: Orleans' GetGrain resolves the
    // interface's grain type by reflection on every call (about 8% of the process's processor time in the host's
    // default workload), work that has nothing to do with the directory cache that the host measures. Two threads
    // may both make a grain's first reference; either is as good, and the last one written is kept. Null (GetGrain on
    // every call) past MaxReferences slots, so that millions of grains on many silos do not cost gigabytes of arrays.
    private readonly IRegistryDemoGrain?[][]? _references;

    // Latencies of the calls completed after the warm-up, in microseconds; safe to copy while calls record.
    private readonly LongConcurrentHistogram _latency = new(1, MaxLatencyMicroseconds, 3);

    // Every counter below is written with Interlocked and read with Volatile.
    private long _activated;
    private long _reads;
    private long _updates;
    private long _crossSilo;
    private long _inFlight;
    private long _skipped;

    public GrainWorkload(IReadOnlyList<Caller> callers, HostOptions options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(callers);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        if (callers.Count == 0)
        {
            throw new ArgumentException("The workload needs at least one caller.", nameof(callers));
        }

        _callers = callers;
        _callerOf = callers.Select((c, i) => (c.Silo, i)).Where(c => c.Silo is not null).ToDictionary(c => c.Silo!, c => c.i);
        _options = options;
        _picker = GrainPicker.For(options.ParsedPopularity, options.Grains);
        _time = time;
        _locations = new SiloAddress?[options.Grains];
        _references = (long)callers.Count * options.Grains <= MaxReferences ? [.. callers.Select(_ => new IRegistryDemoGrain?[options.Grains])] : null;
        Outcomes = new CallOutcomes(options.Grains, time);
    }

    /// <summary>Each call's outcome by its grain's home silo, for the fault tests.</summary>
    public CallOutcomes Outcomes { get; }

    /// <summary>Calls in flight now (open loop).</summary>
    public long InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Open loop: calls not started because <see cref="MaxInFlight"/> calls were in flight.</summary>
    public long Skipped => Volatile.Read(ref _skipped);

    /// <summary>Calls every grain once (from caller k mod N), activating it; a failed call is retried a few times.</summary>
    public Task ActivateAsync(CancellationToken cancellationToken) => Parallel.ForAsync(
        0,
        _options.Grains,
        new ParallelOptions { MaxDegreeOfParallelism = _options.Concurrency, CancellationToken = cancellationToken },
        async (grain, ct) =>
        {
            Caller caller = _callers[grain % _callers.Count];
            SiloScope.Current = caller.Scope;
            for (int attempt = 1; ; attempt++)
            {
                try
                {
                    DemoReply reply = await caller.Grains.GetGrain<IRegistryDemoGrain>(grain).ReadAsync();
                    Seen(grain, reply.Silo);
                    Interlocked.Increment(ref _activated);
                    return;
                }
                catch (Exception) when (attempt < 5 && !ct.IsCancellationRequested)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt), _time, ct);
                }
            }
        });

    /// <summary>Runs until <paramref name="cancellationToken"/> is canceled; never throws for that.</summary>
    public Task RunAsync(CancellationToken cancellationToken) =>
        _options.Rate > 0
            ? Task.Run(() => RunOpenLoopAsync(cancellationToken), CancellationToken.None)
            : Task.WhenAll(Enumerable.Range(0, _options.Concurrency).Select(worker => Task.Run(() => RunWorkerAsync(worker, cancellationToken), CancellationToken.None)));

    public WorkloadSnapshot Snapshot()
    {
        long failed = Outcomes.FailedCalls;
        long reads = Volatile.Read(ref _reads), updates = Volatile.Read(ref _updates);
        return new WorkloadSnapshot(Volatile.Read(ref _activated), reads + updates, reads, updates, Volatile.Read(ref _crossSilo), failed);
    }

    public LatencySummary Latency()
    {
        HistogramBase copy = _latency.Copy();
        static double Ms(long microseconds) => microseconds / 1000.0;
        return copy.TotalCount == 0
            ? default
            : new LatencySummary(Ms(copy.GetValueAtPercentile(50)), Ms(copy.GetValueAtPercentile(99)), Ms(copy.GetValueAtPercentile(99.9)), Ms(copy.GetMaxValue()), copy.GetMean() / 1000.0);
    }

    /// <summary>How many grains last answered from each silo.</summary>
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

    private async Task RunWorkerAsync(int worker, CancellationToken cancellationToken)
    {
        var random = new Random(unchecked((worker + 1) * 7919) ^ Environment.ProcessId);
        while (!cancellationToken.IsCancellationRequested)
        {
            await CallAsync(random, cancellationToken);
        }
    }

    /// <summary>
    /// Open loop: starts <see cref="HostOptions.Rate"/> calls a second whether or not earlier calls returned, so calls
    /// to a silo that hangs do not hold back calls to the others. A call beyond <see cref="MaxInFlight"/> is skipped.
    /// </summary>
    private async Task RunOpenLoopAsync(CancellationToken cancellationToken)
    {
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

                Interlocked.Increment(ref _inFlight);
                calls.Add(CallAndReleaseAsync(cancellationToken));
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

    private async Task CallAndReleaseAsync(CancellationToken cancellationToken)
    {
        try
        {
            await Task.Yield();
            await CallAsync(Random.Shared, cancellationToken);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    /// <summary>One call to a grain picked by <see cref="HostOptions.Popularity"/>.</summary>
    private async Task CallAsync(Random random, CancellationToken cancellationToken)
    {
        int grain = _picker.Next(random);
        int callerIndex = PickCaller(random, Volatile.Read(ref _locations[grain]));
        Caller caller = _callers[callerIndex];
        bool read = random.NextDouble() < _options.ReadRatio;
        CallOutcomes.Call outcome = Outcomes.Start(grain);
        SiloScope.Current = caller.Scope;
        long started = _time.GetTimestamp();
        try
        {
            IRegistryDemoGrain grainRef = Reference(callerIndex, grain);
            DemoReply reply = read ? await grainRef.ReadAsync() : await grainRef.UpdateAsync(started);
            long microseconds = (long)_time.GetElapsedTime(started).TotalMicroseconds;
            _latency.RecordValue(Math.Clamp(microseconds, 1, MaxLatencyMicroseconds));
            Interlocked.Increment(ref read ? ref _reads : ref _updates);
            if (caller.Silo is not null && !reply.Silo.Equals(caller.Silo))
            {
                Interlocked.Increment(ref _crossSilo);
            }

            Seen(grain, reply.Silo);
            Outcomes.Succeeded(outcome, reply.Silo);
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            Outcomes.Failed(outcome, exception);
        }
        catch (Exception)
        {
            // A call cut short by the end of the run is neither a success nor a failure.
        }
    }

    /// <summary>The caller's reference to <paramref name="grain"/>, made on its first use (see <see cref="_references"/>).</summary>
    private IRegistryDemoGrain Reference(int caller, int grain)
    {
        if (_references is null)
        {
            return _callers[caller].Grains.GetGrain<IRegistryDemoGrain>(grain);
        }

        ref IRegistryDemoGrain? slot = ref _references[caller][grain];
        if (Volatile.Read(ref slot) is { } reference)
        {
            return reference;
        }

        reference = _callers[caller].Grains.GetGrain<IRegistryDemoGrain>(grain);
        Volatile.Write(ref slot, reference);
        return reference;
    }

    private void Seen(int grain, SiloAddress silo)
    {
        Volatile.Write(ref _locations[grain], silo);
        Outcomes.Answered(grain, silo);
    }

    /// <summary>The index of the caller: the grain's own silo (1 - <see cref="HostOptions.CrossSiloRatio"/> of the calls) or another; any caller when its silo is not one of ours.</summary>
    private int PickCaller(Random random, SiloAddress? location)
    {
        int count = _callers.Count;
        if (location is null || count == 1 || !_callerOf.TryGetValue(location, out int own))
        {
            return random.Next(count);
        }

        if (random.NextDouble() >= _options.CrossSiloRatio)
        {
            return own;
        }

        int other = random.Next(count - 1);
        return other >= own ? other + 1 : other;
    }
}
