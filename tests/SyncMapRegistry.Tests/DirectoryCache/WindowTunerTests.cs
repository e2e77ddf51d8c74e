using static SyncMapRegistry.OrleansTests.TestSupport;

namespace SyncMapRegistry.OrleansTests;

/// <summary>
/// The window's tuner on its own, and the policy it tunes on traces that want opposite windows: one whose popularity
/// shifts wholesale (recency pays: the window must grow) and one that holds still (frequency pays: it must stay small).
/// </summary>
public sealed class WindowTunerTests
{
    [Fact]
    public void AMissOnAKeyTheWindowTurnedAwayLatelyGrowsTheWindow()
    {
        var tuner = new WindowTuner(10_000);
        tuner.OnRejected(42);

        Assert.Equal(tuner.Step, tuner.OnMiss(42));
        Assert.Equal(0, tuner.OnMiss(43));
    }

    [Fact]
    public void AMissOnAKeyMainEvictedLatelyShrinksTheWindow()
    {
        var tuner = new WindowTuner(10_000);
        tuner.OnEvictedFromMain(42);

        Assert.Equal(-tuner.Step, tuner.OnMiss(42));
    }

    [Fact]
    public void DeparturesOlderThanTheGhostListAreForgotten()
    {
        var tuner = new WindowTuner(1_000);
        tuner.OnRejected(7);
        tuner.OnRejected(7); // twice: forgotten only once both have aged out
        for (int i = 0; i < tuner.GhostCapacity - 1; i++)
        {
            tuner.OnRejected(1_000_000 + i);
        }

        Assert.Equal(tuner.Step, tuner.OnMiss(7)); // the second departure of 7 is still among the last GhostCapacity

        tuner.OnRejected(2_000_000);
        Assert.Equal(0, tuner.OnMiss(7));
        Assert.Equal(tuner.Step, tuner.OnMiss(2_000_000));
    }

    [Fact]
    public void OnATraceWhosePopularityShiftsTheWindowGrows()
    {
        // Zipf 1.0 over ten keys per key of the cap, every key's popularity moved at once every 6 caps of requests (the
        // hitratio mode's drifting trace at half its size): recency pays, stale frequencies do not. Caffeine's hill
        // climber, which moved the window once per ten requests per key of the cap on the change of the hit ratio, left
        // it at 1,231 keys here (61.8% hits, against 65.6% with the tuner's 3,471).
        const int cap = 5_000;
        int[] trace = Drifting(keys: 10 * cap, length: 60 * cap, phase: 6 * cap, seed: 43);

        (_, int window) = PlayPolicy(cap, trace);

        Assert.True(window >= cap / 2, $"The window stayed at {window} of {cap} keys.");
    }

    [Fact]
    public void OnAStableSkewedTraceTheWindowStaysSmallAndTheCacheBeatsLru()
    {
        // Zipf 1.0 over 100,000 keys that never moves: frequency pays, and a window grown past a tenth of the cap costs
        // hits (ghost lists a quarter of the cap long, which measure average rather than marginal worth, grow it to half
        // the cap here).
        const int cap = 10_000;
        int[] trace = Drifting(keys: 10 * cap, length: 60 * cap, phase: int.MaxValue, seed: 42);

        (double policy, int window) = PlayPolicy(cap, trace);
        double lru = PlayLru(cap, trace);

        Assert.True(window <= cap / 10, $"The window grew to {window} of {cap} keys.");
        Assert.True(policy > lru, $"Hit ratio {policy:P2} against LRU's {lru:P2}.");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(16)]
    public void TinyCapsKeepTheWindowWithinTheCapWhileTheTunerMovesIt(int cap)
    {
        // Ghost lists of at least 16 keys and steps of at least one key, against caps smaller than both: the window must
        // stay between one key and the cap, and the policy must keep exactly the keys the cache holds.
        var driver = new PolicyDriver(cap);
        var random = new Random(cap);
        int smallest = int.MaxValue, largest = 0;
        for (int n = 0; n < 20_000; n++)
        {
            driver.Request(Grain(random.Next(n % 2_000 < 1_000 ? 4 * cap : 40 * cap)));
            Assert.InRange(driver.Policy.WindowMaximum, 1, cap);
            Assert.Equal(driver.Cached, driver.Policy.Linked);
            smallest = Math.Min(smallest, driver.Policy.WindowMaximum);
            largest = Math.Max(largest, driver.Policy.WindowMaximum);
        }

        if (cap >= 3)
        {
            Assert.True(largest > smallest, $"The window never moved from {smallest} keys.");
        }
    }

    /// <summary>Plays the trace against the policy as the cache drives it; hit ratio after the first fifth, and the window at the end.</summary>
    private static (double HitRatio, int Window) PlayPolicy(int cap, int[] trace)
    {
        var driver = new PolicyDriver(cap);
        var grains = new Dictionary<int, GrainId>();
        long hits = 0;
        int warmup = trace.Length / 5;
        for (int n = 0; n < trace.Length; n++)
        {
            if (!grains.TryGetValue(trace[n], out GrainId grain))
            {
                grains[trace[n]] = grain = Grain(trace[n]);
            }

            hits += driver.Request(grain) && n >= warmup ? 1 : 0;
        }

        return ((double)hits / (trace.Length - warmup), driver.Policy.WindowMaximum);
    }

    /// <summary>
    /// Drives a policy as the cache does, single-threaded: a hit is sampled, a miss makes and links a node, the cap
    /// evicts the policy's victims, and maintenance runs to completion after each insert.
    /// </summary>
    private sealed class PolicyDriver(int cap)
    {
        private readonly Dictionary<GrainId, PolicyNode> _cached = [];

        internal WindowTinyLfuPolicy Policy { get; } = new(cap, TimeSpan.Zero, TimeProvider.System);

        /// <summary>The keys the driven cache holds.</summary>
        internal int Cached => _cached.Count;

        /// <summary>Looks the grain up; on a miss, adds it. Whether it hit.</summary>
        internal bool Request(GrainId grain)
        {
            if (_cached.TryGetValue(grain, out PolicyNode? node))
            {
                Policy.OnSampledHits([node.Sample]);
                return true;
            }

            node = Policy.NewNode(new GrainAddress { GrainId = grain }, version: 0, SyncMapGrainDirectoryCache.NeverRead);
            _cached[grain] = node;
            Policy.Link(node);
            while (_cached.Count > cap)
            {
                Assert.True(_cached.Remove(Policy.TakeVictim()!.Key), "The victim was not a cached key.");
            }

            // Bounded, so that a policy whose maintenance never settles fails instead of hanging the run.
            int passes = 0;
            while (Policy.Maintain() && ++passes < 1_000)
            {
            }

            Assert.True(passes < 1_000, "Maintenance never settled.");
            return false;
        }
    }

    private static double PlayLru(int cap, int[] trace)
    {
        var order = new LinkedList<int>();
        var cached = new Dictionary<int, LinkedListNode<int>>();
        long hits = 0;
        int warmup = trace.Length / 5;
        for (int n = 0; n < trace.Length; n++)
        {
            if (cached.TryGetValue(trace[n], out LinkedListNode<int>? node))
            {
                hits += n >= warmup ? 1 : 0;
                order.Remove(node);
                order.AddLast(node);
                continue;
            }

            cached[trace[n]] = order.AddLast(trace[n]);
            if (cached.Count > cap)
            {
                cached.Remove(order.First!.Value);
                order.RemoveFirst();
            }
        }

        return (double)hits / (trace.Length - warmup);
    }

    /// <summary>Zipf requests over shuffled keys, every key moved by a tenth of the keys each <paramref name="phase"/> requests.</summary>
    private static int[] Drifting(int keys, int length, int phase, int seed, double exponent = 1.0)
    {
        var random = new Random(seed);
        double[] cumulative = new double[keys];
        double total = 0;
        for (int rank = 0; rank < keys; rank++)
        {
            cumulative[rank] = total += 1 / Math.Pow(rank + 1, exponent);
        }

        int[] keyOfRank = [.. Enumerable.Range(0, keys)];
        random.Shuffle(keyOfRank);
        int[] trace = new int[length];
        for (int n = 0; n < length; n++)
        {
            int rank = Array.BinarySearch(cumulative, random.NextDouble() * total);
            rank = Math.Min(rank < 0 ? ~rank : rank, keys - 1);
            trace[n] = (keyOfRank[rank] + (n / phase * (keys / 10))) % keys;
        }

        return trace;
    }
}
