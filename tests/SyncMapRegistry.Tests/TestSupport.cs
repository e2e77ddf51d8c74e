using System.Collections.Immutable;
using System.Diagnostics;
using System.Net;

namespace SyncMapRegistry.OrleansTests;

internal static class TestSupport
{
    private static int s_generation = 1;

    internal static SiloAddress Silo(int port) =>
        SiloAddress.New(new IPEndPoint(IPAddress.Loopback, port), Interlocked.Increment(ref s_generation));

    internal static GrainId Grain(long key) => GrainId.Create("test", key.ToString(System.Globalization.CultureInfo.InvariantCulture));

    internal static GrainAddress Address(GrainId grain, SiloAddress silo, ActivationId? activation = null, long membershipVersion = 0) => new()
    {
        GrainId = grain,
        SiloAddress = silo,
        ActivationId = activation ?? ActivationId.NewId(),
        MembershipVersion = new MembershipVersion(membershipVersion),
    };

    /// <summary>Polls <paramref name="condition"/> until it holds or <paramref name="timeout"/> passes.</summary>
    /// <returns>Whether it held.</returns>
    internal static async Task<bool> WaitUntilAsync(Func<bool> condition, TimeSpan timeout)
    {
        var stopwatch = Stopwatch.StartNew();
        while (!condition())
        {
            if (stopwatch.Elapsed > timeout)
            {
                return false;
            }

            await Task.Delay(50);
        }

        return true;
    }

    /// <summary>Runs background work at once, on the thread that asks for it.</summary>
    internal static readonly Action<Action> Inline = static run => run();

    /// <summary>A membership table at <paramref name="version"/> holding <paramref name="members"/>.</summary>
    internal static ClusterMembershipSnapshot Membership(long version, params (SiloAddress Silo, SiloStatus Status)[] members) => new(
        members.ToImmutableDictionary(member => member.Silo, member => new ClusterMember(member.Silo, member.Status, member.Silo.ToString())),
        new MembershipVersion(version));
}

/// <summary>Background work queued by the code under test, run when the test says so: the test decides the interleaving.</summary>
internal sealed class ManualScheduler
{
    private readonly Queue<Action> _queued = new();

    /// <summary>Pass this where the code takes a scheduler.</summary>
    internal Action<Action> Schedule => run =>
    {
        lock (_queued)
        {
            _queued.Enqueue(run);
        }
    };

    internal int Queued
    {
        get
        {
            lock (_queued)
            {
                return _queued.Count;
            }
        }
    }

    /// <summary>Runs everything queued so far, and what that queues in turn.</summary>
    internal void RunAll()
    {
        while (true)
        {
            Action run;
            lock (_queued)
            {
                if (!_queued.TryDequeue(out run!))
                {
                    return;
                }
            }

            run();
        }
    }
}
