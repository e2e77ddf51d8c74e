namespace SyncMapRegistry.Tests.SyncMap;

public sealed class StripedCounterTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(64)]
    public void Host_processor_ids_beyond_the_usable_count_land_in_range(int usableProcessors)
    {
        var counter = new StripedCounter(usableProcessors);
        foreach (int id in new[] { 0, 1, 7, 63, 64, 127, 1_023, 4_095, int.MaxValue, -1, int.MinValue })
        {
            int cell = counter.CellOf(id);
            Assert.InRange(cell, 0, counter.CellCount - 1);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public void Every_cpu_of_a_host_of_up_to_64_gets_a_cell_of_its_own_whatever_the_quota(int usableProcessors)
    {
        // A container limited to a few CPUs still runs on host CPUs 0..63: a strided cpuset (8,10,12,14) or any
        // other must not pile onto the cells that a mask sized by the quota would leave.
        var counter = new StripedCounter(usableProcessors);
        int[] cells = Enumerable.Range(0, 64).Select(counter.CellOf).ToArray();
        Assert.Equal(64, cells.Distinct().Count());
    }

    [Fact]
    public void Increments_from_many_threads_sum_exactly()
    {
        var counter = new StripedCounter();
        Parallel.For(0, 8, _ =>
        {
            for (int i = 0; i < 100_000; i++)
            {
                counter.Increment();
            }
        });

        Assert.Equal(800_000, counter.Sum());
    }
}
