using System.Runtime.CompilerServices;

namespace SyncMapRegistry.Tests.SyncMap;

/// <summary>Go's sync.Map tests (map_test.go), carried over.</summary>
public class GoMapTests
{
    [Fact]
    public async Task ConcurrentRangeWhileStoringSeesEachKeyOnceWithAStoredValue()
    {
        // TestConcurrentRange: writers keep overwriting keys 1..n with multiples of the key; every Range must
        // see each key at most once, with a value that is a multiple of the key.
        const int n = 1 << 10;
        var map = new SyncMap<long, long>();
        for (long i = 1; i <= n; i++)
        {
            map.Store(i, i);
        }

        using var stop = new CancellationTokenSource();
        Task[] writers = Enumerable.Range(0, 2).Select(w => Task.Run(() =>
        {
            var random = new Random(w);
            for (long j = 0; !stop.IsCancellationRequested; j++)
            {
                for (long k = 1; k <= n; k++)
                {
                    map.Store(k, k * random.Next(1, 1000));
                }
            }
        })).ToArray();

        for (int iteration = 0; iteration < 200; iteration++)
        {
            var seen = new HashSet<long>();
            map.Range((k, v) =>
            {
                Assert.True(seen.Add(k), $"Range visited {k} twice.");
                Assert.Equal(0, v % k);
                return true;
            });
            Assert.Equal(n, seen.Count);
        }

        await stop.CancelAsync();
        await Task.WhenAll(writers);
    }

    [Fact]
    public void RangeNestedInRangeWithMutationsVisitsEachKeyOnce()
    {
        // TestMapRangeNestedCall: Range inside Range, storing, swapping and deleting as it goes.
        var map = new SyncMap<int, string>();
        for (int i = 0; i < 5; i++)
        {
            map.Store(i, $"v{i}");
        }

        int outer = 0;
        map.Range((key, value) =>
        {
            outer++;
            var inner = new HashSet<int>();
            map.Range((k, v) =>
            {
                Assert.True(inner.Add(k), $"The nested Range visited {k} twice.");
                // Writes to the key being visited and to new keys must not disturb either walk.
                map.Store(k, v);
                if (k < 100)
                {
                    map.Swap(100 + k, v, out _);
                }

                return true;
            });
            Assert.Contains(key, inner); // the key the outer walk is on is still live
            Assert.True(map.LoadAndDelete(key, out string? deleted));
            Assert.Equal(value, deleted);
            return true;
        });
        Assert.Equal(5, outer);

        // Only the keys stored inside the walks remain.
        Assert.Equal(Enumerable.Range(100, 5), map.Keys.Order());
    }

    [Fact]
    public void DeletedKeysAreNotLeaked()
    {
        // TestIssue40999: a key deleted from the map must become collectable, whether it was still dirty-only
        // or had reached the read snapshot (then the next rebuild expunges it and the next promotion drops it).
        var map = new SyncMap<object, int>();
        map.Store(new object(), 0);

        WeakReference dirtyOnly = StoreAndDelete(map, promoteFirst: false);
        WeakReference promoted = StoreAndDelete(map, promoteFirst: true);
        map.Store(new object(), 1); // rebuild dirty: expunges the deleted snapshot key
        map.Range(static (_, _) => true); // promote: the snapshot holding it is dropped

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        Assert.False(dirtyOnly.IsAlive, "A key deleted while dirty-only is still referenced.");
        Assert.False(promoted.IsAlive, "A key deleted from the snapshot is still referenced after a rebuild and promotion.");
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference StoreAndDelete(SyncMap<object, int> map, bool promoteFirst)
    {
        var key = new object();
        map.Store(key, 1);
        if (promoteFirst)
        {
            map.Range(static (_, _) => true);
        }

        Assert.True(map.Delete(key));
        return new WeakReference(key);
    }

    [Fact]
    public void RangeForeachAndClearOnAnEmptyMapAllocateNothing()
    {
        // TestMapRangeNoAllocations and TestMapClearNoAllocations.
        var map = new SyncMap<int, int>();
        static bool Visit(int key, int value) => true;
        Func<int, int, bool> visit = Visit;
        map.Range(visit);
        map.Clear();
        foreach (KeyValuePair<int, int> pair in map)
        {
            Assert.Fail($"Unexpected {pair}.");
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            map.Range(visit);
            map.Clear();
            foreach (KeyValuePair<int, int> pair in map)
            {
                Assert.Fail($"Unexpected {pair}.");
            }
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void ConcurrentClearWithStoreAndLoadLeavesOnlyStoredValuesAndEndsEmpty()
    {
        // TestConcurrentClear, with more rounds, and asserted where it can fail: after each concurrent round, and
        // after concurrent Clears that no store follows (Go's test asserts only after a final sequential Clear).
        var map = new SyncMap<int, int>();
        for (int round = 0; round < 200; round++)
        {
            Parallel.For(0, 30, i =>
            {
                switch (i % 3)
                {
                    case 0: map.Store(i, i * 10); break;
                    case 1: map.TryGetValue(i, out _); break;
                    default: map.Clear(); break;
                }
            });

            int ranged = 0;
            map.Range((k, v) =>
            {
                Assert.Equal(k * 10, v);
                Assert.Equal(0, k % 3);
                Assert.True(map.TryGetValue(k, out int loaded) && loaded == v);
                ranged++;
                return true;
            });
            Assert.Equal(ranged, map.Count);

            // Only Clears and loads now, started together: whatever order they run in, the map ends empty.
            using var start = new Barrier(6);
            Parallel.For(0, 6, new ParallelOptions { MaxDegreeOfParallelism = 6 }, i =>
            {
                start.SignalAndWait();
                if (i % 2 == 0)
                {
                    map.Clear();
                }
                else
                {
                    map.TryGetValue(i, out _);
                }
            });

            map.Range((k, v) => throw new InvalidOperationException($"Range saw {k}={v} after the Clears."));
            Assert.Equal(0, map.Count);
            Assert.Equal(0, map.GetStatistics().ReadCount);
            Assert.Equal(0, map.GetStatistics().DirtyCount);
        }

        map.Store(1, 1);
        Assert.Equal(1, map[1]);
    }
}
