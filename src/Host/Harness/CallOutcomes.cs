using System.Collections.Concurrent;

namespace SyncMapRegistry.Host.Harness;

/// <summary>
/// What the fault tests read of the workload, kept apart from the demo: each call's outcome counted against its
/// grain's <em>home</em>, the silo its first activation answered from, so that a test can tell calls to the grains of
/// a silo that died from calls to the grains of a survivor, even after the former were activated again elsewhere;
/// and failed calls by exception type.
/// </summary>
internal sealed class CallOutcomes(int grains, TimeProvider time)
{
    private const long None = long.MinValue;

    // The silo each grain first answered from, or null before its first answer. Written once (compare-and-swap).
    private readonly SiloAddress?[] _homes = new SiloAddress?[grains];
    private readonly ConcurrentDictionary<SiloAddress, Target> _targets = new();
    private readonly Target _unknown = new();
    private readonly ConcurrentDictionary<string, long> _errors = new(StringComparer.Ordinal);

    /// <summary>A call about to start: its grain's home as it was then, where its outcome is counted, and when it started (Unix ms).</summary>
    internal readonly record struct Call(SiloAddress? Home, Target Target, long StartedMs);

    /// <summary>Calls that threw, over every home.</summary>
    public long FailedCalls => Volatile.Read(ref _unknown.Failed) + _targets.Values.Sum(t => Volatile.Read(ref t.Failed));

    /// <summary>The outcome of calls to grains that had not answered yet (no home silo).</summary>
    public TargetOutcome Unknown => _unknown.Outcome();

    /// <summary>Starts counting one call to <paramref name="grain"/>.</summary>
    public Call Start(int grain)
    {
        SiloAddress? home = Volatile.Read(ref _homes[grain]);
        Target target = home is null ? _unknown : _targets.GetOrAdd(home, static _ => new Target());
        return new Call(home, target, time.GetUtcNow().ToUnixTimeMilliseconds());
    }

    /// <summary>A grain answered from <paramref name="silo"/> (the warm-up's calls too): its first answer makes its home.</summary>
    public void Answered(int grain, SiloAddress silo) => Interlocked.CompareExchange(ref _homes[grain], silo, null);

    /// <summary>The call completed, answered by <paramref name="silo"/>.</summary>
    public void Succeeded(in Call call, SiloAddress silo)
    {
        Interlocked.Increment(ref call.Target.Succeeded);
        if (call.Home is not null && !silo.Equals(call.Home))
        {
            Interlocked.Increment(ref call.Target.Moved);
            Interlocked.CompareExchange(ref call.Target.FirstMovedMs, time.GetUtcNow().ToUnixTimeMilliseconds(), None);
        }
    }

    /// <summary>The call threw <paramref name="exception"/>.</summary>
    public void Failed(in Call call, Exception exception)
    {
        call.Target.Fail(exception, call.StartedMs, time.GetUtcNow().ToUnixTimeMilliseconds());
        _errors.AddOrUpdate(exception.GetType().Name, 1, static (_, n) => n + 1);
    }

    /// <summary>The outcome per home silo.</summary>
    public IReadOnlyDictionary<SiloAddress, TargetOutcome> Targets() => _targets.ToDictionary(kv => kv.Key, kv => kv.Value.Outcome());

    /// <summary>Failed calls by exception type.</summary>
    public IReadOnlyDictionary<string, long> Errors() => _errors.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);

    /// <summary>The counters of the calls to one home silo's grains; every field is written with <see cref="Interlocked"/>.</summary>
    internal sealed class Target
    {
        public long Succeeded;
        public long Failed;
        public long DirectoryFailed;
        public long Moved;
        public long FirstFailedStartMs = None;
        public long LastFailedStartMs = None;
        public long LastFailedEndMs = None;
        public long FirstMovedMs = None;

        public void Fail(Exception exception, long startedMs, long endedMs)
        {
            Interlocked.Increment(ref Failed);

            // The grain's directory registration lived on a silo that could not be reached, whichever silo hosts it.
            if (exception.ToString().Contains("Orleans.Runtime.GrainDirectory", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref DirectoryFailed);
            }

            Interlocked.CompareExchange(ref FirstFailedStartMs, startedMs, None);
            Max(ref LastFailedStartMs, startedMs);
            Max(ref LastFailedEndMs, endedMs);
        }

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
    }
}
