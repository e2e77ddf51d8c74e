namespace SyncMapRegistry.Tests.SyncMap;

/// <summary>
/// Lookups of pending keys (added since their shard's promotion, so in its dirty map only): answered without the
/// shard's lock when the dirty map holds the key live (<c>TryGetPendingLockFree</c>), still counted as misses that pay
/// for the promotion (<see cref="ChurnTests"/> checks the price), and linearizable while the key is deleted and stored
/// again under the lock.
/// </summary>
public class PendingLookupTests
{
    [Fact]
    public async Task ALookupOfAPendingKeyIsAnsweredWhileAnotherThreadHoldsItsShardsLock()
    {
        var map = new SyncMap<int, int>();
        for (int key = 0; key < 100; key++)
        {
            map.Store(key, key);
        }

        map.Range(static (_, _) => true);
        const int Pending = 1_000;
        map.Store(Pending, 7);
        Assert.Equal(1, map.ShardShapeOf(Pending).Dirty);

        Lock shardLock = map.ShardLockOf(Pending);
        Task<(bool Found, int Value)> lookup;
        bool answeredWhileLocked;
        shardLock.Enter();
        try
        {
            lookup = Task.Run(() => (map.TryGetValue(Pending, out int value), value), TestContext.Current.CancellationToken);

            // Polls rather than waits: with the lock held here, a lookup that needs it cannot finish until it is released.
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (!lookup.IsCompleted && DateTime.UtcNow < deadline)
            {
                Thread.Sleep(5);
            }

            answeredWhileLocked = lookup.IsCompleted;
        }
        finally
        {
            shardLock.Exit();
        }

        Assert.True(answeredWhileLocked, "The lookup of a pending key waited for its shard's lock.");
        Assert.Equal((true, 7), await lookup);
        Assert.Equal(1, map.GetStatistics().DirtyHits);
        Assert.Equal(1, map.GetStatistics().Misses);
    }

    [Fact]
    public async Task ReadersOfPendingKeysSeeEachKeysValuesInTheOrderTheyWereStoredWhileTheKeysAreDeletedAndStoredAgain()
    {
        // Each round takes 64 new keys (pending in their shards' dirty maps) through a sequence of values 1..4, deleting
        // the key between stores in both ways a pending key is deleted: Delete takes it out of the dirty map (the next
        // store adds a new entry), CompareAndDelete leaves it there deleted (the next store revives it). Readers look the
        // round's keys up meanwhile. A reader that answered from a stale entry (one a delete took out and a later store
        // replaced) would see a value older than one it saw already; one that answered from a deleted entry, 0.
        const int Keys = 64;
        const int Rounds = 2_000;
        var map = new SyncMap<int, int>();
        for (int key = 0; key < 4_000; key++)
        {
            map.Store(key, 1);
        }

        map.Range(static (_, _) => true);
        static int KeyOf(int round, int i) => 10_000 + (round * Keys) + i;
        CancellationToken token = TestContext.Current.CancellationToken;
        int current = 0;
        var writer = Task.Run(
            () =>
            {
                for (int r = 0; r < Rounds; r++)
                {
                    for (int i = 0; i < Keys; i++)
                    {
                        map.Store(KeyOf(r, i), 1);
                    }

                    Volatile.Write(ref current, r);
                    for (int i = 0; i < Keys; i++)
                    {
                        int key = KeyOf(r, i);
                        map.CompareAndDelete(key, 1);
                        map.Store(key, 2);
                        map.Delete(key);
                        map.Store(key, 3);
                        map.CompareAndDelete(key, 3);
                        map.Store(key, 4);
                    }

                    for (int i = 0; i < Keys; i++)
                    {
                        map.Delete(KeyOf(r, i));
                    }
                }
            },
            token);

        long found = 0;
        var readers = Enumerable.Range(0, 2).Select(_ => Task.Run(
            () =>
            {
                int[] seen = new int[Keys];
                int round = -1;
                while (!writer.IsCompleted)
                {
                    int r = Volatile.Read(ref current);
                    if (r != round)
                    {
                        Array.Clear(seen);
                        round = r;
                    }

                    for (int i = 0; i < Keys; i++)
                    {
                        if (map.TryGetValue(KeyOf(r, i), out int value))
                        {
                            Assert.True(value >= Math.Max(seen[i], 1), $"Key {KeyOf(r, i)}: {value} after {seen[i]}.");
                            seen[i] = value;
                            Interlocked.Increment(ref found);
                        }
                    }
                }
            },
            token)).ToArray();

        await writer;
        await Task.WhenAll(readers);
        map.CheckInvariants();
        Assert.True(Interlocked.Read(ref found) > 0, "No lookup found a key.");
        Assert.True(map.GetStatistics().DirtyHits > 0, "No lookup found a pending key.");
    }
}
