using static SyncMapRegistry.OrleansTests.TestSupport;

namespace SyncMapRegistry.OrleansTests;

/// <summary>What <c>Console.WriteLine(registry.GetStatistics())</c> prints.</summary>
public sealed class RegistryStatisticsTests
{
    [Fact]
    public void AMapsStatisticsPrintItsRegistryCountersThenItsMapsLine()
    {
        var cache = new SyncMapGrainDirectoryCache(new SyncMapRegistryOptions { Name = "statistics-test", MaxEntries = 100 }, scheduleEviction: Inline);
        for (int i = 0; i < 3; i++)
        {
            cache.AddOrUpdate(Address(Grain(i), Silo(1000)), 1);
        }

        cache.LookUp(Grain(0), out _, out _);
        cache.LookUp(Grain(7), out _, out _);
        GrainRegistryStatistics statistics = cache.GetStatistics();

        Assert.Equal(
            $"statistics-test: count=3 hits=1 misses=1 updates=3 removals=0 purged=0 evicted=0 | map: {statistics.Map}",
            statistics.ToString());
        Assert.StartsWith("read=", statistics.Map.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void TheRegistrysStatisticsNameBothMapsOnOneLine()
    {
        var registry = new SyncMapGrainRegistry(
            new SyncMapGrainDirectoryCache(new SyncMapRegistryOptions(), scheduleEviction: Inline),
            new LocalActivationIndex(new SyncMapRegistryOptions()));

        string text = registry.GetStatistics().ToString();

        Assert.StartsWith($"directory cache: {SyncMapRegistryOptions.DefaultName}: count=0 ", text, StringComparison.Ordinal);
        Assert.Contains($"; local activations: {SyncMapRegistryOptions.DefaultLocalActivationsName}: count=0 ", text, StringComparison.Ordinal);
        Assert.DoesNotContain(nameof(SyncMapStatistics), text, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', text);
    }
}
