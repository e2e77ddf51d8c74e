namespace SyncMapRegistry.Tests.SyncMap;

/// <summary>
/// What ConcurrentDictionary users look for: IsEmpty, GetOrAdd with a factory argument, AddOrUpdate with an update
/// factory (atomic), and a Count that allocates nothing. The reference model (<see cref="MapOp"/>'s operations)
/// and the linearizability check cover their results; these tests cover their arguments, atomicity and costs.
/// </summary>
public class ApiParityTests
{
    [Fact]
    public void NullKeysAndFactoriesThrowArgumentNullExceptionAndChangeNothing()
    {
        var map = new SyncMap<string, int>();
        map.Store("a", 1);
        Assert.Equal("key", Assert.Throws<ArgumentNullException>(() => map.GetOrAdd(null!, static (_, arg) => arg, 2)).ParamName);
        Assert.Equal("key", Assert.Throws<ArgumentNullException>(() => map.AddOrUpdate(null!, 2, static (_, old) => old + 1)).ParamName);
        Assert.Equal("key", Assert.Throws<ArgumentNullException>(() => map.AddOrUpdate(null!, static _ => 2, static (_, old) => old + 1)).ParamName);
        Assert.Equal("valueFactory", Assert.Throws<ArgumentNullException>(() => map.GetOrAdd("a", (Func<string, int, int>)null!, 2)).ParamName);
        Assert.Equal("updateValueFactory", Assert.Throws<ArgumentNullException>(() => map.AddOrUpdate("a", 2, null!)).ParamName);
        Assert.Equal("addValueFactory", Assert.Throws<ArgumentNullException>(() => map.AddOrUpdate("a", null!, static (_, old) => old + 1)).ParamName);
        Assert.Equal("updateValueFactory", Assert.Throws<ArgumentNullException>(() => map.AddOrUpdate("a", static _ => 2, null!)).ParamName);
        Assert.Equal(1, map["a"]);
        Assert.Equal(1, map.Count);
    }

    [Fact]
    public void AddOrUpdateAddsThenUpdatesAndGetOrAddPassesItsArgumentToTheFactoryOnlyWhenAbsent()
    {
        var map = new SyncMap<string, int>();
        Assert.True(map.IsEmpty);
        Assert.Equal(5, map.AddOrUpdate("a", 5, static (_, old) => old * 10));
        Assert.Equal(50, map.AddOrUpdate("a", 5, static (_, old) => old * 10));
        Assert.Equal(7, map.AddOrUpdate("b", static key => key.Length + 6, static (_, old) => old * 10));
        Assert.Equal(70, map.AddOrUpdate("b", static key => throw new InvalidOperationException("Not absent."), static (_, old) => old * 10));
        int calls = 0;
        Assert.Equal(3, map.GetOrAdd("c", (key, arg) => ++calls + arg, 2));
        Assert.Equal(3, map.GetOrAdd("c", (key, arg) => ++calls + arg, 100));
        Assert.Equal(1, calls);
        Assert.False(map.IsEmpty);
        Assert.True(map.Delete("a") && map.Delete("b") && map.Delete("c"));
        Assert.True(map.IsEmpty);
        Assert.Equal(1, map.AddOrUpdate("a", 1, static (_, old) => old + 1)); // a deleted key is added again
    }

    [Fact]
    public void AddOrUpdateIsAtomicUnderContentionNoUpdateIsLost()
    {
        // Threads increment shared counters (some in snapshots, some new, pending in dirty maps, promoted meanwhile by
        // walks and misses), and delete and re-add others: every increment that returned must be in the final value.
        const int Counters = 16;
        const int Increments = 20_000;
        int threads = Math.Max(4, Environment.ProcessorCount);
        var map = new SyncMap<int, long>();
        for (int c = 0; c < Counters / 2; c++)
        {
            map.Store(c, 0);
        }

        map.Range(static (_, _) => true);
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
        {
            for (int i = 0; i < Increments; i++)
            {
                map.AddOrUpdate((i + t) % Counters, 1, static (_, old) => old + 1);
                if (i % 1_000 == 0)
                {
                    map.Range(static (_, _) => true);
                }
            }
        });

        Assert.Equal((long)threads * Increments, Enumerable.Range(0, Counters).Sum(c => map[c]));
    }

    [Fact]
    public void CountIsEmptyAndGetOrAddWithAStaticFactoryAllocateNothing()
    {
        var map = new SyncMap<int, int>();
        for (int key = 0; key < 3_000; key++)
        {
            map.Store(key, key);
        }

        map.Range(static (_, _) => true);
        for (int key = 3_000; key < 3_100; key++)
        {
            map.Store(key, key); // pending: Count catches up with them under their shards' locks
        }

        // One call site for the warm-up and the measure: a static lambda's delegate is created at its site's first call.
        static int Calls(SyncMap<int, int> map, int key) => map.Count + (map.IsEmpty ? 0 : 1) + map.GetOrAdd(key, static (_, arg) => arg, -1);
        Assert.Equal(3_100 + 1 + 5, Calls(map, 5)); // warm up
        long before = GC.GetAllocatedBytesForCurrentThread();
        int sum = 0;
        for (int i = 0; i < 20; i++)
        {
            sum += Calls(map, i);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal((20 * 3_101) + Enumerable.Range(0, 20).Sum(), sum);
    }
}
