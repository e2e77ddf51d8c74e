using static SyncMapRegistry.OrleansTests.TestSupport;

namespace SyncMapRegistry.OrleansTests;

/// <summary>
/// The cap is a memory promise: during a burst of misses, with the cache as a silo builds it (its maintenance on the
/// thread pool), the count never passes the cap by more than <c>max(64, cap / 64)</c>. The count is sampled during
/// the burst, by every inserter after each of its inserts and by a watcher thread, not only after it.
/// </summary>
public sealed class CapTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(100, 1)]
    [InlineData(100, 2)]
    [InlineData(100, 8)]
    [InlineData(1_000, 1)]
    [InlineData(1_000, 2)]
    [InlineData(1_000, 8)]
    [InlineData(10_000, 1)]
    [InlineData(10_000, 2)]
    [InlineData(10_000, 8)]
    [InlineData(100_000, 2)]
    [InlineData(100_000, 8)]
    [InlineData(1_000_000, 1)]
    [InlineData(1_000_000, 2)]
    [InlineData(1_000_000, 8)]
    public async Task DuringABurstOfMissesTheCountStaysWithinTheCapAndItsSlack(int cap, int threads)
    {
        int slack = Math.Max(64, cap / 64);
        var cache = new SyncMapGrainDirectoryCache(new SyncMapRegistryOptions { MaxEntries = cap, Name = $"cap-test-{cap}-{threads}" });
        SiloAddress silo = Silo(1000);

        // Every request is a miss (a new grain), looked up first and then added, as Orleans does after a directory
        // lookup: past the cap, each insert meets a full cache. Enough grains to fill it and go a long way past it.
        int grains = cap + Math.Max(cap / 4, 20_000);
        int perThread = grains / threads;
        int maxSeen = 0;
        void Observe(int count)
        {
            int seen;
            while (count > (seen = Volatile.Read(ref maxSeen)) && Interlocked.CompareExchange(ref maxSeen, count, seen) != seen)
            {
            }
        }

        using var done = new CancellationTokenSource();
        var watcher = new Thread(() =>
        {
            while (!done.IsCancellationRequested)
            {
                Observe(cache.Count);
            }
        })
        { IsBackground = true };
        watcher.Start();
        Thread[] inserters = [.. Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            for (int i = 0; i < perThread; i++)
            {
                GrainId grain = Grain(((long)t * perThread) + i);
                if (!cache.TryLookUp(grain, out _))
                {
                    cache.AddOrUpdate(Address(grain, silo), 1);
                }

                Observe(cache.Count);
            }
        }))];
        Array.ForEach(inserters, thread => thread.Start());
        Array.ForEach(inserters, thread => thread.Join());
        await done.CancelAsync();
        watcher.Join();

        output.WriteLine($"cap {cap:N0}, {threads} threads, {perThread * threads:N0} misses: highest count seen {maxSeen:N0} (bound {cap + slack:N0}), evicted {cache.GetStatistics().Evicted:N0}");
        Assert.True(maxSeen <= cap + slack, $"The count reached {maxSeen:N0} with a cap of {cap:N0} (bound {cap + slack:N0}).");
        Assert.True(maxSeen >= cap, $"The burst never filled the cache ({maxSeen:N0} of {cap:N0}): the test proved nothing.");
        Assert.True(await WaitUntilAsync(() => cache.Count <= cap, TimeSpan.FromSeconds(30)), $"{cache.Count:N0} entries stayed over the cap once the burst ended.");
    }
}
