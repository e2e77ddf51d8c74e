namespace SyncMapRegistry.Tests.SyncMap;

/// <summary>The read path and live-key updates allocate nothing.</summary>
public class AllocationTests
{
    private const int Calls = 10_000;

    [Fact]
    public void TryGetValueOnAReadHitAllocatesNothing()
    {
        var map = new SyncMap<int, int>();
        for (int i = 0; i < 1024; i++)
        {
            map.Store(i, i);
        }

        map.Range(static (_, _) => true);
        Assert.True(map.TryGetValue(1, out _)); // warm up (JIT, statics)

        long before = GC.GetAllocatedBytesForCurrentThread();
        long sum = 0;
        for (int i = 0; i < Calls; i++)
        {
            map.TryGetValue(i & 1023, out int value);
            sum += value;
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.True(sum > 0);
    }

    [Fact]
    public void TryGetValueWithReadHitCountingOnAllocatesNothing()
    {
        var map = new SyncMap<string, string>(new SyncMapOptions { CountReadHits = true });
        map.Store("a", "x");
        map.Range(static (_, _) => true);
        Assert.True(map.TryGetValue("a", out _));

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Calls; i++)
        {
            map.TryGetValue("a", out _);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(Calls + 1, map.GetStatistics().ReadHits);
    }

    [Fact]
    public void StoreOverALiveKeyAllocatesNothingForAReferenceTypeValue()
    {
        var map = new SyncMap<int, string>();
        string[] values = ["first", "second"];
        map.Store(1, values[0]);
        map.Range(static (_, _) => true);
        map.Store(1, values[1]); // warm up

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Calls; i++)
        {
            map.Store(1, values[i & 1]);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(values[(Calls - 1) & 1], map[1]);
    }
}
