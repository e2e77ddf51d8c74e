using static SyncMapRegistry.OrleansTests.TestSupport;

namespace SyncMapRegistry.OrleansTests;

/// <summary>The policy's regions on their own, without a map.</summary>
public sealed class WindowTinyLfuPolicyTests
{
    [Fact]
    public void AProtectedRegionTheWindowGrewIntoDemotesItsExcessInMaintenance()
    {
        // When the tuner grows the window (a recency-heavy workload), protected must give up its room then, not a
        // couple of keys per promotion: left oversized, it keeps a shifted workload's stale keys and starves probation.
        const int cap = 100;
        var policy = new WindowTinyLfuPolicy(cap, TimeSpan.Zero, TimeProvider.System);
        PolicyNode[] nodes = [.. Enumerable.Range(0, cap).Select(i => policy.NewNode(Address(i), version: 0, SyncMapGrainDirectoryCache.NeverRead))];
        foreach (PolicyNode node in nodes)
        {
            policy.Link(node);
        }

        policy.OnSampledHits([.. nodes.Select(node => node.Sample)]);
        (int before, int maximumBefore) = policy.Protected;
        Assert.Equal(maximumBefore, before); // full: every key in main was read

        policy.ResizeForTests = cap / 2;

        // Bounded, so that a policy whose maintenance never settles fails here instead of hanging the run.
        int passes = 0;
        while (policy.Maintain() && ++passes < 1_000)
        {
        }

        Assert.True(passes < 1_000, "Maintenance never settled after the resize.");

        (int count, int maximum) = policy.Protected;
        Assert.True(maximum < before, $"The resize did not shrink protected ({maximum} of {before}).");
        Assert.InRange(count, 0, maximum);
        Assert.Equal(cap, policy.Linked);
    }

    [Fact]
    public void ANewKeysNodeIsMadeWhileAnotherThreadHoldsThePolicysLock()
    {
        // A new key's node takes the slot table's own lock, not the policy's: racing writers meet on the policy's
        // lock once per new key (at its link), not twice.
        var policy = new WindowTinyLfuPolicy(100, TimeSpan.Zero, TimeProvider.System);
        using var made = new ManualResetEventSlim();
        PolicyNode? node = null;
        lock (policy.LockForTests)
        {
            var maker = new Thread(() =>
            {
                node = policy.NewNode(Address(1), version: 0, SyncMapGrainDirectoryCache.NeverRead);
                made.Set();
            });
            maker.Start();

            // An order, not a time: only a maker blocked on the held lock waits this long.
            Assert.True(made.Wait(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken), "The new node waited for the policy's lock.");
        }

        policy.Link(node!);
        Assert.Equal(1, policy.Linked);
    }

    [Fact]
    public void SampleDrainsThatRaceTheSlotTablesGrowthFindOnlyTheNodesTheyName()
    {
        // Drains read the slot table under the policy's lock while new nodes grow it under the slot lock. The drainer
        // here names the slots at and just past the makers' frontier, with numbers no node has, so it reads exactly
        // the slots, chunks and directories being published: a count published ahead of its chunk, or a chunk read
        // from a directory that does not hold it yet, throws in the drain.
        const int makers = 2;
        const int perMaker = 24_000; // 48 chunks: the chunk directory doubles four times during the run
        var policy = new WindowTinyLfuPolicy(makers * perMaker, TimeSpan.Zero, TimeProvider.System);
        var samples = new long[makers * perMaker];
        int published = 0;
        int running = makers;
        var failures = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
        var threads = new List<Thread>();
        for (int m = 0; m < makers; m++)
        {
            int first = m * perMaker;
            threads.Add(new Thread(() =>
            {
                try
                {
                    for (int i = 0; i < perMaker; i++)
                    {
                        PolicyNode node = policy.NewNode(Address(first + i), version: 0, SyncMapGrainDirectoryCache.NeverRead);
                        Volatile.Write(ref samples[Interlocked.Increment(ref published) - 1], node.Sample);
                        if (i % 2 == 0)
                        {
                            policy.Link(node);
                        }
                    }
                }
                catch (Exception exception)
                {
                    failures.Enqueue(exception);
                }
                finally
                {
                    Interlocked.Decrement(ref running);
                }
            }));
        }

        threads.Add(new Thread(() =>
        {
            try
            {
                var batch = new long[128];
                var random = new Random(7);
                while (Volatile.Read(ref running) > 0)
                {
                    int frontier = Volatile.Read(ref published);
                    for (int i = 0; i < batch.Length; i++)
                    {
                        // Slots 0 to 63 past the frontier, under a number no node was made with.
                        int slot = frontier + random.Next(64);
                        batch[i] = PolicyNode.SampleOf(uint.MaxValue, slot);
                    }

                    policy.OnSampledHits(batch);
                    int linked = policy.Linked;
                    if (linked > Volatile.Read(ref published))
                    {
                        throw new InvalidOperationException($"{linked} nodes linked of {published} made.");
                    }
                }
            }
            catch (Exception exception)
            {
                failures.Enqueue(exception);
            }
        }));

        threads.ForEach(thread => thread.Start());
        threads.ForEach(thread => thread.Join());
        Assert.Empty(failures);

        // Each node's own sample, applied once all are made: samples move linked nodes and never link one.
        policy.OnSampledHits(samples);
        Assert.Equal(makers * perMaker / 2, policy.Linked);
    }

    private static GrainAddress Address(int grain) => new() { GrainId = Grain(grain) };
}
