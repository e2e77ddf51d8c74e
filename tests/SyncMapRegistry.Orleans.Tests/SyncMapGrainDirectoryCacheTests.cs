using static SyncMapRegistry.OrleansTests.TestSupport;

namespace SyncMapRegistry.OrleansTests;

/// <summary>What our cache adds to Orleans' contract: the cap's accounting, counters, purging and the read contract.</summary>
public sealed class SyncMapGrainDirectoryCacheTests
{
    private static SyncMapGrainDirectoryCache NewCache(int maxEntries = 1_000, bool countLookups = true) =>
        new(new SyncMapRegistryOptions { MaxEntries = maxEntries, Name = "cache-test", CountLookups = countLookups });

    [Fact]
    public void LookupsAreCountedAsHitsAndMisses()
    {
        SyncMapGrainDirectoryCache cache = NewCache();
        cache.AddOrUpdate(Address(Grain(1), Silo(1000)), 1);
        for (int i = 0; i < 5; i++)
        {
            cache.LookUp(Grain(1), out _, out _);
        }

        cache.LookUp(Grain(2), out _, out _);
        cache.TryLookUp(Grain(1), out _);
        GrainRegistryStatistics statistics = cache.GetStatistics();
        Assert.Equal(6, statistics.LookupHits);
        Assert.Equal(1, statistics.LookupMisses);
    }

    [Fact]
    public void WithLookupCountingOffNoLookupIsCounted()
    {
        SyncMapGrainDirectoryCache cache = NewCache(countLookups: false);
        cache.AddOrUpdate(Address(Grain(1), Silo(1000)), 1);
        cache.LookUp(Grain(1), out _, out _);
        cache.LookUp(Grain(2), out _, out _);
        Assert.Equal(0, cache.GetStatistics().LookupHits);
        Assert.Equal(0, cache.GetStatistics().LookupMisses);
    }

    [Fact]
    public void CountFollowsAddsReplacementsRemovalsAndClear()
    {
        SyncMapGrainDirectoryCache cache = NewCache();
        SiloAddress silo = Silo(1000);
        for (int i = 0; i < 10; i++)
        {
            cache.AddOrUpdate(Address(Grain(i), silo), 1);
        }

        cache.AddOrUpdate(Address(Grain(3), Silo(1001)), 2);
        Assert.Equal(10, cache.Count);
        cache.Remove(Grain(0));
        cache.Remove(Address(Grain(1), silo));
        cache.Remove(Address(Grain(3), silo));
        Assert.Equal(8, cache.Count);
        GrainRegistryStatistics statistics = cache.GetStatistics();
        Assert.Equal(11, statistics.Updates);
        Assert.Equal(2, statistics.Removals);
        Assert.Equal(8, statistics.Count);
        Assert.Equal(8, cache.Recount());
        cache.Clear();
        Assert.Equal(0, cache.Count);
        Assert.Empty(cache);
    }

    [Fact]
    public void InsertsOverTheCapEvictDownToNinetyPercentAndKeepTheNewestEntry()
    {
        const int cap = 100;
        SyncMapGrainDirectoryCache cache = NewCache(cap);
        SiloAddress silo = Silo(1000);
        for (int i = 0; i < 1_000; i++)
        {
            GrainAddress address = Address(Grain(i), silo);
            cache.AddOrUpdate(address, i);
            Assert.InRange(cache.Count, 1, cap);
            Assert.True(cache.TryLookUp(address.GrainId, out _));
        }

        int live = cache.AsEnumerable().Count();
        Assert.Equal(live, cache.Count);
        Assert.Equal(cache.KeyValues.Count(), live);
        GrainRegistryStatistics statistics = cache.GetStatistics();
        Assert.Equal(1_000 - live, statistics.Evicted);
        Assert.Equal(cap, cache.MaxEntries);
    }

    [Fact]
    public void ACapOfOneKeepsOnlyTheNewestEntry()
    {
        SyncMapGrainDirectoryCache cache = NewCache(1);
        SiloAddress silo = Silo(1000);
        for (int i = 0; i < 20; i++)
        {
            cache.AddOrUpdate(Address(Grain(i), silo), i);
            KeyValuePair<GrainId, GrainAddress> only = Assert.Single(cache);
            Assert.Equal(Grain(i), only.Key);
        }

        Assert.Equal(19, cache.GetStatistics().Evicted);
    }

    [Fact]
    public void PurgeSiloRemovesOnlyThatSilosEntriesAndCountsThem()
    {
        SyncMapGrainDirectoryCache cache = NewCache();
        SiloAddress dead = Silo(1000);
        SiloAddress alive = Silo(1001);
        for (int i = 0; i < 30; i++)
        {
            cache.AddOrUpdate(Address(Grain(i), i % 3 == 0 ? dead : alive), 1);
        }

        Assert.Equal([dead], cache.FindSilos(silo => silo.Equals(dead)));
        Assert.Empty(cache.FindSilos(_ => false));
        Assert.Equal(10, cache.PurgeSilo(dead));
        Assert.Equal(0, cache.PurgeSilo(dead));
        Assert.All(cache, pair => Assert.Equal(alive, pair.Value.SiloAddress));
        Assert.Equal(20, cache.Count);
        Assert.Equal(10, cache.GetStatistics().Purged);
        Assert.Equal(0, cache.GetStatistics().Removals);
    }

    [Fact]
    public void TheReadContractEnumeratesGrainsWithTheirAddresses()
    {
        SyncMapGrainDirectoryCache cache = NewCache();
#pragma warning disable CA1859 // The test reads through the public contract on purpose.
        IGrainRegistryView<GrainAddress> view = cache;
#pragma warning restore CA1859
        var expected = Enumerable.Range(0, 20).Select(i => Address(Grain(i), Silo(1000))).ToList();
        expected.ForEach(address => cache.AddOrUpdate(address, 1));
        Assert.Equal("cache-test", view.Name);
        Assert.Equal(20, view.Count);
        Assert.Equal(
            expected.ToDictionary(address => address.GrainId),
            view.ToDictionary(pair => pair.Key, pair => pair.Value));
        GrainRegistryStatistics statistics = view.GetStatistics();

        // Enumerating promoted the pending keys: the map's statistics show them all in the read snapshot.
        Assert.Equal(20, statistics.Map.ReadCount);
        Assert.Equal(0, statistics.Map.DirtyCount);
        Assert.True(statistics.Map.Promotions >= 1);
    }

    [Fact]
    public async Task UnderConcurrentInsertsRemovalsAndEvictionsTheCountStaysExactAndNearTheCap()
    {
        const int cap = 200;
        const int writers = 4;
        SyncMapGrainDirectoryCache cache = NewCache(cap);
        SiloAddress[] silos = [Silo(1000), Silo(1001)];
        int maxSeen = 0;
        await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(() =>
        {
            var random = new Random(w);
            for (int i = 0; i < 20_000; i++)
            {
                GrainId grain = Grain(random.Next(2_000));
                if (random.Next(5) == 0)
                {
                    cache.Remove(grain);
                }
                else
                {
                    cache.AddOrUpdate(Address(grain, silos[random.Next(2)]), i);
                }

                int count = cache.Count;
                int seen;
                while (count > (seen = Volatile.Read(ref maxSeen)) && Interlocked.CompareExchange(ref maxSeen, count, seen) != seen)
                {
                }
            }
        })));

        // Quiescent now: the count kept by writers equals the live entries.
        int live = cache.AsEnumerable().Count();
        Assert.Equal(live, cache.Count);
        Assert.Equal(live, cache.Recount());
        Assert.InRange(live, 1, cap);

        // One writer evicts at a time and the others wait for it, so the cap is overshot by at most one insert per writer.
        Assert.InRange(maxSeen, 1, cap + writers);
        GrainRegistryStatistics statistics = cache.GetStatistics();
        Assert.True(statistics.Evicted > 0);
    }
}
