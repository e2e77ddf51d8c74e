namespace SyncMapRegistry.Tests.SyncMap;

/// <summary>
/// Soak: threads hammer CompareAndSwap counters, Swap, Delete/Store and new keys (which drive promotions
/// and rebuilds) for a fixed time, then the map's invariants are checked.
/// </summary>
public class StressTests
{
    private static readonly TimeSpan Duration = TimeSpan.FromSeconds(3);

    [Fact]
    public void Invariants_hold_after_concurrent_compare_and_swap_swap_delete_and_store()
    {
        const int counters = 8;
        const int keysPerWorker = 64;
        int workers = Math.Max(4, Environment.ProcessorCount);
        var map = new SyncMap<string, long>();
        for (int c = 0; c < counters; c++)
        {
            map.Store($"counter{c}", 0);
        }

        map.Range(static (_, _) => true);
        using var stop = new CancellationTokenSource(Duration);
        var results = new WorkerResult[workers];

        Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers }, w =>
        {
            var random = new Random(w);
            var result = new WorkerResult();
            long fresh = 0;
            for (long i = 0; !stop.IsCancellationRequested; i++)
            {
                // A CAS increment of a shared counter: each success adds exactly one.
                string counter = $"counter{random.Next(counters)}";
                if (map.TryGetValue(counter, out long seen) && map.CompareAndSwap(counter, seen, seen + 1))
                {
                    result.SuccessfulIncrements++;
                }

                // Swap on shared keys: the previous value is always one that some worker stored (worker * 10^9 + i).
                string swapKey = $"swap{random.Next(4)}";
                if (map.Swap(swapKey, (w * 1_000_000_000L) + i, out long previous))
                {
                    Assert.InRange(previous / 1_000_000_000L, 0, workers - 1);
                }

                // Delete/Store on this worker's own keys; the last operation on each key decides its fate.
                int own = random.Next(keysPerWorker);
                string ownKey = $"w{w}k{own}";
                if (random.Next(2) == 0)
                {
                    map.Store(ownKey, i);
                    result.Expected[own] = i;
                }
                else
                {
                    bool deleted = map.Delete(ownKey);
                    Assert.Equal(result.Expected[own].HasValue, deleted);
                    result.Expected[own] = null;
                }

                // Fresh keys and lookups of absent keys drive rebuilds, misses and promotions.
                if (i % 16 == 0)
                {
                    map.LoadOrStore($"w{w}fresh{fresh++}", i, out _);
                    map.TryGetValue($"absent{i}", out _);
                }

                if (i % 4096 == 0)
                {
                    map.Range(static (_, _) => true);
                }
            }

            results[w] = result;
        });

        long counted = 0;
        for (int c = 0; c < counters; c++)
        {
            counted += map[$"counter{c}"];
        }

        Assert.Equal(results.Sum(r => r.SuccessfulIncrements), counted);
        for (int w = 0; w < workers; w++)
        {
            for (int k = 0; k < keysPerWorker; k++)
            {
                string key = $"w{w}k{k}";
                if (results[w].Expected[k] is long expected)
                {
                    Assert.Equal(expected, map[key]);
                }
                else
                {
                    Assert.False(map.ContainsKey(key), $"{key} was deleted for good but came back.");
                }
            }
        }

        // A walk agrees with the lookups, and the run really went through the design's transitions.
        var walked = map.ToDictionary(p => p.Key, p => p.Value);
        Assert.Equal(walked.Count, map.Count);
        foreach ((string key, long value) in walked)
        {
            Assert.Equal(value, map[key]);
        }

        SyncMapStatistics statistics = map.GetStatistics();
        Assert.True(statistics.Promotions > 0, "No promotion happened.");
        Assert.True(statistics.DirtyRebuilds > 0, "No dirty rebuild happened.");
        Assert.True(statistics.EntriesExpunged > 0, "No entry was expunged.");
        Assert.True(map.ShardCount > 1, "The map never grew past one shard.");
    }

    [Fact]
    public void Keys_added_from_many_threads_at_once_all_survive_splits_promotions_walks_and_the_switch_to_randomized_hashing()
    {
        // Each worker adds keys of its own (different shards, each under its own lock), reads back and deletes some
        // of them, while another thread walks the map (promoting every pending shard, one lock at a time) and one
        // worker, halfway, stores keys that collide under the non-randomized hash, so that the map rehashes with
        // every shard locked while the others keep adding.
        const int KeysPerWorker = 6_000;
        int workers = Math.Max(4, Environment.ProcessorCount);
        string[] colliding = DesignTests.CollidingKeys(300);
        var map = new SyncMap<string, int>();
        int running = workers;
        int walks = 0;
        Exception? walkFailure = null;
        var walker = new Thread(() =>
        {
            try
            {
                while (Volatile.Read(ref running) > 0)
                {
                    var seen = new HashSet<string>();
                    map.Range((key, _) => seen.Add(key) ? true : throw new InvalidOperationException($"The walk visited {key} twice."));
                    _ = map.Count;
                    walks++;
                }
            }
            catch (Exception exception)
            {
                walkFailure = exception;
            }
        });
        walker.Start();

        Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers }, w =>
        {
            try
            {
                for (int i = 0; i < KeysPerWorker; i++)
                {
                    map.Store($"w{w}/{i}", i);
                    if (i >= 8 && (i - 8) % 10 != 4)
                    {
                        // A key stored a moment ago (and not deleted since): pending in its shard's dirty map, or promoted already.
                        Assert.True(map.TryGetValue($"w{w}/{i - 8}", out int back) && back == (i - 8), $"w{w}/{i - 8} was lost.");
                    }

                    if (i % 10 == 9)
                    {
                        Assert.True(map.Delete($"w{w}/{i - 5}"), $"w{w}/{i - 5} was not there to delete.");
                    }

                    if (w == 0 && i == KeysPerWorker / 2)
                    {
                        for (int c = 0; c < colliding.Length; c++)
                        {
                            map.Store(colliding[c], -c);
                        }
                    }
                }
            }
            finally
            {
                Interlocked.Decrement(ref running);
            }
        });
        walker.Join();
        Assert.Null(walkFailure);

        Assert.True(map.HashesStringsRandomized, "The colliding keys did not switch the map to randomized hashing.");
        int expected = colliding.Length;
        for (int w = 0; w < workers; w++)
        {
            for (int i = 0; i < KeysPerWorker; i++)
            {
                bool deleted = i % 10 == 4 && i + 5 < KeysPerWorker;
                Assert.Equal(!deleted, map.TryGetValue($"w{w}/{i}", out int value));
                if (!deleted)
                {
                    Assert.Equal(i, value);
                    expected++;
                }
            }
        }

        Assert.All(Enumerable.Range(0, colliding.Length), c => Assert.Equal(-c, map[colliding[c]]));
        Assert.Equal(expected, map.Count);
        Assert.Equal(expected, map.Count());
        Assert.True(walks > 0, "The walker never finished a walk.");
        map.Range(static (_, _) => true);
        Assert.Equal(0, map.GetStatistics().DirtyCount); // a walk promotes every pending shard
        Assert.True(map.ShardCount > workers, $"Only {map.ShardCount} shards.");
    }

    private sealed class WorkerResult
    {
        internal long SuccessfulIncrements;
        internal readonly long?[] Expected = new long?[64];
    }
}
