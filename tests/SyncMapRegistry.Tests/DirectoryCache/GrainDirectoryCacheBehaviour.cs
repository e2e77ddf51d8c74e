using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using Orleans.Runtime.GrainDirectory;
using static SyncMapRegistry.OrleansTests.TestSupport;

namespace SyncMapRegistry.OrleansTests;

/// <summary>
/// One behaviour suite, run against our cache and against Orleans' own (made through
/// <see cref="GrainDirectoryCacheFactory"/>), so that both behave the same.
/// </summary>
public abstract class GrainDirectoryCacheBehaviour : IAsyncDisposable
{
    private readonly List<IGrainDirectoryCache> _caches = [];

    protected abstract IGrainDirectoryCache Create(int maxEntries);

    private IGrainDirectoryCache NewCache(int maxEntries = 1_000)
    {
        IGrainDirectoryCache cache = Create(maxEntries);
        _caches.Add(cache);
        return cache;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (IGrainDirectoryCache cache in _caches)
        {
            if (cache is IAsyncDisposable disposable)
            {
                await disposable.DisposeAsync();
            }
        }

        GC.SuppressFinalize(this);
    }

    [Fact]
    public void LookUpOfAnAbsentGrainMisses()
    {
        IGrainDirectoryCache cache = NewCache();
        Assert.False(cache.LookUp(Grain(1), out GrainAddress? address, out int version));
        Assert.Null(address);
        Assert.Equal(0, version);
    }

    [Fact]
    public void LookUpReturnsTheAddressAndVersionAdded()
    {
        IGrainDirectoryCache cache = NewCache();
        GrainAddress added = Address(Grain(1), Silo(1000));
        cache.AddOrUpdate(added, 7);
        Assert.True(cache.LookUp(added.GrainId, out GrainAddress? address, out int version));
        Assert.Equal(added, address);
        Assert.Equal(7, version);
    }

    [Fact]
    public void AddOrUpdateReplacesTheAddressAndVersion()
    {
        IGrainDirectoryCache cache = NewCache();
        GrainId grain = Grain(1);
        cache.AddOrUpdate(Address(grain, Silo(1000)), 1);
        GrainAddress newer = Address(grain, Silo(1001));
        cache.AddOrUpdate(newer, 2);
        Assert.True(cache.LookUp(grain, out GrainAddress? address, out int version));
        Assert.Equal(newer, address);
        Assert.Equal(2, version);
        Assert.Single(cache.KeyValues);
    }

    [Fact]
    public void RemoveByGrainIdRemovesWhateverIsCached()
    {
        IGrainDirectoryCache cache = NewCache();
        GrainAddress added = Address(Grain(1), Silo(1000));
        cache.AddOrUpdate(added, 1);
        Assert.True(cache.Remove(added.GrainId));
        Assert.False(cache.LookUp(added.GrainId, out _, out _));
        Assert.False(cache.Remove(added.GrainId));
    }

    [Fact]
    public void RemoveByAddressRemovesTheSameActivation()
    {
        IGrainDirectoryCache cache = NewCache();
        GrainAddress added = Address(Grain(1), Silo(1000));
        cache.AddOrUpdate(added, 1);
        Assert.True(cache.Remove(Address(added.GrainId, added.SiloAddress!, added.ActivationId)));
        Assert.False(cache.LookUp(added.GrainId, out _, out _));
    }

    [Fact]
    public void RemoveByAddressMatchesGrainAndSiloNotActivation()
    {
        // Orleans compares GrainId and silo (GrainAddress.MatchesGrainIdAndSilo), not the activation id.
        IGrainDirectoryCache cache = NewCache();
        GrainAddress added = Address(Grain(1), Silo(1000));
        cache.AddOrUpdate(added, 1);
        Assert.True(cache.Remove(Address(added.GrainId, added.SiloAddress!, ActivationId.NewId())));
        Assert.False(cache.LookUp(added.GrainId, out _, out _));
    }

    [Fact]
    public void RemoveByAddressOfAnotherSiloKeepsTheEntry()
    {
        IGrainDirectoryCache cache = NewCache();
        GrainAddress added = Address(Grain(1), Silo(1000));
        cache.AddOrUpdate(added, 3);
        Assert.False(cache.Remove(Address(added.GrainId, Silo(1001), added.ActivationId)));
        Assert.True(cache.LookUp(added.GrainId, out GrainAddress? address, out int version));
        Assert.Equal(added, address);
        Assert.Equal(3, version);
    }

    [Fact]
    public void RemoveByAddressOfAnAbsentGrainReturnsFalse()
    {
        IGrainDirectoryCache cache = NewCache();
        cache.AddOrUpdate(Address(Grain(1), Silo(1000)), 1);
        Assert.False(cache.Remove(Address(Grain(2), Silo(1000))));
        Assert.Single(cache.KeyValues);
    }

    [Fact]
    public void RemoveByAddressOfAStaleActivationKeepsTheNewerSilosEntry()
    {
        // The grain moved: an invalidation for the old silo must not remove the new address (dotnet/orleans#8646).
        IGrainDirectoryCache cache = NewCache();
        GrainId grain = Grain(1);
        GrainAddress old = Address(grain, Silo(1000));
        cache.AddOrUpdate(old, 1);
        GrainAddress moved = Address(grain, Silo(1001));
        cache.AddOrUpdate(moved, 2);
        Assert.False(cache.Remove(old));
        Assert.True(cache.LookUp(grain, out GrainAddress? address, out _));
        Assert.Equal(moved, address);
    }

    [Fact]
    public void ClearRemovesEverything()
    {
        IGrainDirectoryCache cache = NewCache();
        for (int i = 0; i < 50; i++)
        {
            cache.AddOrUpdate(Address(Grain(i), Silo(1000)), i);
        }

        cache.Clear();
        Assert.Empty(cache.KeyValues);
        Assert.False(cache.LookUp(Grain(3), out _, out _));
    }

    [Fact]
    public void KeyValuesListsEveryEntryWithItsVersion()
    {
        IGrainDirectoryCache cache = NewCache();
        var expected = new Dictionary<GrainAddress, int>();
        SiloAddress silo = Silo(1000);
        for (int i = 0; i < 100; i++)
        {
            GrainAddress address = Address(Grain(i), silo);
            cache.AddOrUpdate(address, i);
            expected[address] = i;
        }

        var actual = cache.KeyValues.ToDictionary(pair => pair.ActivationAddress, pair => pair.Version);
        Assert.Equal(expected.OrderBy(p => p.Value), actual.OrderBy(p => p.Value));
    }

    [Fact]
    public void KeyValuesToleratesRemovalsWhileEnumerating()
    {
        // LocalGrainDirectory enumerates KeyValues and calls Remove on membership changes.
        IGrainDirectoryCache cache = NewCache();
        SiloAddress dead = Silo(1000);
        SiloAddress alive = Silo(1001);
        for (int i = 0; i < 200; i++)
        {
            cache.AddOrUpdate(Address(Grain(i), i % 2 == 0 ? dead : alive), 1);
        }

        foreach ((GrainAddress address, int _) in cache.KeyValues)
        {
            if (address.SiloAddress!.Equals(dead))
            {
                Assert.True(cache.Remove(address));
            }
        }

        Assert.Equal(100, cache.KeyValues.Count());
        Assert.All(cache.KeyValues, pair => Assert.Equal(alive, pair.ActivationAddress.SiloAddress));
    }

    [Fact]
    public void KeyValuesToleratesAdditionsWhileEnumerating()
    {
        IGrainDirectoryCache cache = NewCache();
        SiloAddress silo = Silo(1000);
        for (int i = 0; i < 50; i++)
        {
            cache.AddOrUpdate(Address(Grain(i), silo), 1);
        }

        int seen = 0;
        foreach ((GrainAddress address, int _) in cache.KeyValues)
        {
            seen++;
            cache.AddOrUpdate(Address(Grain(1_000 + seen), silo), 2);
        }

        Assert.True(seen >= 50);
        Assert.Equal(50 + seen, cache.KeyValues.Count());
    }

    [Fact]
    public void EntriesAreCappedAndTheLatestIsKept()
    {
        const int cap = 10;
        IGrainDirectoryCache cache = NewCache(cap);
        SiloAddress silo = Silo(1000);
        GrainAddress last = null!;
        for (int i = 0; i < 200; i++)
        {
            last = Address(Grain(i), silo);
            cache.AddOrUpdate(last, i);
        }

        Assert.InRange(cache.KeyValues.Count(), 1, cap);
        Assert.True(cache.LookUp(last.GrainId, out GrainAddress? address, out int version));
        Assert.Equal(last, address);
        Assert.Equal(199, version);
    }

    [Fact]
    public async Task ConcurrentWritersAndReadersLeaveAConsistentCache()
    {
        IGrainDirectoryCache cache = NewCache(100_000);
        SiloAddress[] silos = [Silo(1000), Silo(1001), Silo(1002)];
        const int keys = 64;
        using var stop = new CancellationTokenSource();
        Task[] writers = [.. Enumerable.Range(0, 2).Select(w => Task.Run(() =>
        {
            var random = new Random(w);
            for (int i = 0; i < 20_000; i++)
            {
                GrainId grain = Grain(random.Next(keys));
                switch (random.Next(4))
                {
                    case 0:
                        cache.Remove(grain);
                        break;
                    case 1:
                        cache.Remove(Address(grain, silos[random.Next(silos.Length)]));
                        break;
                    default:
                        cache.AddOrUpdate(Address(grain, silos[random.Next(silos.Length)]), i);
                        break;
                }
            }
        }))];
        Task reader = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                for (int k = 0; k < keys; k++)
                {
                    if (cache.LookUp(Grain(k), out GrainAddress? address, out _))
                    {
                        Assert.Equal(Grain(k), address.GrainId);
                    }
                }

                foreach ((GrainAddress address, int _) in cache.KeyValues)
                {
                    Assert.Contains(address.SiloAddress, silos);
                }
            }
        }, TestContext.Current.CancellationToken);

        await Task.WhenAll(writers);
        await stop.CancelAsync();
        await reader;

        var listed = cache.KeyValues.ToList();
        Assert.Equal(listed.Count, listed.Select(pair => pair.ActivationAddress.GrainId).Distinct().Count());
        foreach ((GrainAddress listedAddress, int listedVersion) in listed)
        {
            Assert.True(cache.LookUp(listedAddress.GrainId, out GrainAddress? address, out int version));
            Assert.Equal(listedAddress, address);
            Assert.Equal(listedVersion, version);
        }
    }
}

public sealed class SyncMapGrainDirectoryCacheBehaviour : GrainDirectoryCacheBehaviour
{
    protected override IGrainDirectoryCache Create(int maxEntries) =>
        new SyncMapGrainDirectoryCache(new SyncMapRegistryOptions { MaxEntries = maxEntries, Name = "behaviour-test" }, scheduleEviction: Inline);
}

public sealed class OrleansLruGrainDirectoryCacheBehaviour : GrainDirectoryCacheBehaviour
{
    protected override IGrainDirectoryCache Create(int maxEntries)
    {
        ServiceProvider services = new ServiceCollection().AddSingleton(TimeProvider.System).BuildServiceProvider();
        IGrainDirectoryCache cache = GrainDirectoryCacheFactory.CreateGrainDirectoryCache(
            services,
            new GrainDirectoryOptions { CacheSize = maxEntries, CachingStrategy = GrainDirectoryOptions.CachingStrategyType.LRU });
        Assert.Equal("LruGrainDirectoryCache", cache.GetType().Name);
        return cache;
    }
}
