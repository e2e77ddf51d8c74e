namespace SyncMapRegistry.Tests.SyncMap;

public sealed class PerThreadCounterTests
{
    [Fact]
    public void IncrementsFromManyThreadsSumExactly()
    {
        var counter = new PerThreadCounter();
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, _ =>
        {
            for (int i = 0; i < 100_000; i++)
            {
                counter.Increment();
            }
        });

        Assert.Equal(800_000, counter.Sum());
    }

    [Fact]
    public void CellsOfExitedThreadsAreDroppedOnceTheirCountsAreKept()
    {
        // A silo's thread pool starts and retires threads: a counter must not keep a cell for every thread it ever had.
        var counter = new PerThreadCounter();
        for (int round = 0; round < 5; round++)
        {
            var threads = Enumerable.Range(0, 20).Select(_ => new Thread(() =>
            {
                for (int i = 0; i < 100; i++)
                {
                    counter.Increment();
                }
            })).ToList();
            threads.ForEach(thread => thread.Start());
            threads.ForEach(thread => thread.Join());
        }

        Assert.Equal(10_000, counter.Sum());
        Assert.Equal(0, counter.CellCount);
        counter.Increment();
        Assert.Equal((10_001, 1), (counter.Sum(), counter.CellCount));
    }

    [Fact]
    public void TwoCountersCountApartOnOneThread()
    {
        var first = new PerThreadCounter();
        var second = new PerThreadCounter();
        first.Increment();
        first.Increment();
        second.Increment();

        Assert.Equal((2, 1), (first.Sum(), second.Sum()));
    }
}
