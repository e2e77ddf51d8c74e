namespace SyncMapRegistry.Tests.SyncMap;

/// <summary>
/// Soak: threads hammer CompareAndSwap counters, Swap, Delete/Store and new keys (which drive promotions
/// and the copies they make) for a fixed time, then the map's invariants are checked.
/// </summary>
public class StressTests
{
    private static readonly TimeSpan Duration = TimeSpan.FromSeconds(3);

    [Fact]
    public void InvariantsHoldAfterConcurrentCompareAndSwapSwapDeleteAndStore()
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

                // Fresh keys and lookups of absent keys drive misses and promotions.
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
        Assert.True(statistics.EntriesCopied > 0, "No promotion copied an entry.");
        Assert.True(statistics.EntriesExpunged > 0, "No entry was expunged.");
        Assert.True(map.ShardCount > 1, "The map never grew past one shard.");
    }

    [Fact]
    public void WalksThatCatchUpWithPendingShardsVisitEverySettledKeyOnceWhileOtherThreadsAddKeysSplitAndPromote()
    {
        // Writers add keys of their own (new keys in every shard: splits, and promotions by misses and by the walks),
        // delete some (those with i % 10 == 4) and read others back; two walkers walk at once, one of them stopping
        // early every other walk, so that walks catch up with shards that others promoted or split while they ran.
        // A whole walk must visit exactly once every key stored before it started and never deleted: the settled
        // keys, stored before any walk, and each writer's keys below its progress when the walk started (many of
        // them still pending then).
        const int Settled = 20_000;
        const int KeysPerWriter = 40_000;
        int writers = Math.Max(2, Environment.ProcessorCount);
        var map = new SyncMap<int, int>();
        for (int key = 0; key < Settled; key++)
        {
            map.Store(key, key);
        }

        int running = writers;
        int[] progress = new int[writers];
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        int wholeWalks = 0;
        Thread Walker(bool stopsEarly) => new(() =>
        {
            for (int walk = 0; Volatile.Read(ref running) > 0 || walk < 2; walk++)
            {
                var seen = new HashSet<int>();
                bool whole = !stopsEarly || walk % 2 == 0;
                int[] storedBefore = new int[writers];
                for (int w = 0; w < writers; w++)
                {
                    storedBefore[w] = Volatile.Read(ref progress[w]);
                }

                foreach (KeyValuePair<int, int> pair in map)
                {
                    if (!seen.Add(pair.Key))
                    {
                        failures.Enqueue($"Key {pair.Key} visited twice.");
                    }

                    if (!whole && seen.Count == 100)
                    {
                        break;
                    }
                }

                if (whole)
                {
                    int missing = Enumerable.Range(0, Settled).Count(key => !seen.Contains(key));
                    for (int w = 0; w < writers; w++)
                    {
                        int first = Settled + (w * KeysPerWriter);
                        missing += Enumerable.Range(0, storedBefore[w]).Count(i => i % 10 != 4 && !seen.Contains(first + i));
                    }

                    if (missing > 0)
                    {
                        failures.Enqueue($"A walk missed {missing} keys stored before it started.");
                    }

                    Interlocked.Increment(ref wholeWalks);
                }
            }
        });
        Thread[] walkers = [Walker(stopsEarly: false), Walker(stopsEarly: true)];
        foreach (Thread walker in walkers)
        {
            walker.Start();
        }

        Parallel.For(0, writers, new ParallelOptions { MaxDegreeOfParallelism = writers }, w =>
        {
            int first = Settled + (w * KeysPerWriter);
            for (int i = 0; i < KeysPerWriter; i++)
            {
                map.Store(first + i, i);
                Volatile.Write(ref progress[w], i + 1);
                if (i % 10 == 9)
                {
                    map.Delete(first + i - 5);
                }

                if (i >= 3 && !map.TryGetValue(first + i - 3, out _) && (i - 3) % 10 != 4)
                {
                    failures.Enqueue($"Key {first + i - 3} was lost.");
                }
            }

            Interlocked.Decrement(ref running);
        });
        foreach (Thread walker in walkers)
        {
            walker.Join();
        }

        Assert.Empty(failures);
        Assert.True(wholeWalks >= 4, $"Only {wholeWalks} whole walks.");
        Assert.Equal(Settled + (writers * (KeysPerWriter - (KeysPerWriter / 10))), map.Count);
        SyncMapStatistics statistics = map.GetStatistics();
        Assert.True(statistics.Promotions > 0, "No promotion happened.");
        Assert.True(map.ShardCount > 64, $"The map grew to {map.ShardCount} shards only.");
    }

    [Fact]
    public void KeysAddedFromManyThreadsAtOnceAllSurviveSplitsPromotionsWalksAndTheSwitchToRandomizedHashing()
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

    [Fact]
    public void LockFreeLookupsOfPresentKeysNeverMissWhileTheMapSwitchesToRandomizedHashing()
    {
        // The switch rehashes every entry and publishes a new directory while readers keep going without a lock, on
        // the old snapshots or the new ones, hashing with the old comparer or the new one. Every present key must be
        // found, by each lock-free operation that reports absence: TryGetValue, CompareAndSwap and CompareAndDelete
        // (the last two with a value that never matches, so the map is not changed).
        const int Keys = 8_192;
        int readers = Math.Max(3, Environment.ProcessorCount);
        string[] colliding = DesignTests.CollidingKeys(300);
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        for (int round = 0; round < 12; round++)
        {
            var map = new SyncMap<string, int>();
            for (int i = 0; i < Keys; i++)
            {
                map.Store($"grain/{i}", i);
            }

            map.Range(static (_, _) => true);
            int finished = 0;
            var readerThreads = Enumerable.Range(0, readers).Select(r => new Thread(() =>
            {
                var random = new Random(r);
                for (int n = 0; Volatile.Read(ref finished) == 0 || n < 1_000; n++)
                {
                    int i = random.Next(Keys);
                    string key = $"grain/{i}";
                    bool found = (n % 3) switch
                    {
                        0 => map.TryGetValue(key, out int value) && value == i,
                        1 => !map.CompareAndSwap(key, -1, -2) && map.TryGetValue(key, out _),
                        _ => !map.CompareAndDelete(key, -1) && map.ContainsKey(key),
                    };
                    if (!found)
                    {
                        failures.Enqueue($"Round {round}: {key} was not found.");
                    }
                }
            })).ToArray();
            foreach (Thread reader in readerThreads)
            {
                reader.Start();
            }

            for (int c = 0; c < colliding.Length; c++)
            {
                map.Store(colliding[c], -c);
            }

            Volatile.Write(ref finished, 1);
            foreach (Thread reader in readerThreads)
            {
                reader.Join();
            }

            Assert.True(map.HashesStringsRandomized, "The colliding keys did not switch the map to randomized hashing.");
            Assert.Equal(Keys + colliding.Length, map.Count);
        }

        Assert.Empty(failures.Take(20));
    }

    [Fact]
    public void CountStaysBetweenTheKeysBeforeAndAfterWhileTheMapSwitchesToRandomizedHashing()
    {
        // Count walks the map without promoting while another thread's colliding keys switch it to randomized
        // hashing, which moves every key to a new shard. No key is deleted, so every count must lie between the
        // keys before the switch and the keys after it.
        const int Keys = 20_000;
        string[] colliding = DesignTests.CollidingKeys(70);
        var wrong = new System.Collections.Concurrent.ConcurrentQueue<int>();
        for (int round = 0; round < 40; round++)
        {
            var map = new SyncMap<string, int>();
            for (int i = 0; i < Keys; i++)
            {
                map.Store($"k{i}", i);
            }

            int stop = 0;
            var counter = new Thread(() =>
            {
                while (Volatile.Read(ref stop) == 0)
                {
                    int count = map.Count;
                    if (count < Keys || count > Keys + colliding.Length)
                    {
                        wrong.Enqueue(count);
                    }
                }
            });
            counter.Start();
            Thread.Yield();
            foreach (string key in colliding)
            {
                map.Store(key, -1);
            }

            Volatile.Write(ref stop, 1);
            counter.Join();
            Assert.True(map.HashesStringsRandomized);
        }

        Assert.True(wrong.IsEmpty, $"Counts outside [{Keys}, {Keys + colliding.Length}]: {string.Join(", ", wrong.Take(10))}.");
    }

    private sealed class WorkerResult
    {
        internal long SuccessfulIncrements;
        internal readonly long?[] Expected = new long?[64];
    }
}
