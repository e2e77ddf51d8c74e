using Microsoft.Extensions.Time.Testing;
using Orleans.Configuration;
using static SyncMapRegistry.OrleansTests.TestSupport;

namespace SyncMapRegistry.OrleansTests;

/// <summary>
/// Expire after access, as Orleans' own cache does with <see cref="GrainDirectoryOptions.MaximumCacheTTL"/>: an entry
/// not read for that long goes at the next maintenance; a read, learned from the readers' samples, restarts its time.
/// On a fake clock, with maintenance run by the test.
/// </summary>
public sealed class IdleExpiryTests
{
    private static readonly TimeSpan TimeToIdle = TimeSpan.FromSeconds(240);

    private static (SyncMapGrainDirectoryCache Cache, FakeTimeProvider Clock) NewCache(TimeSpan timeToIdle)
    {
        var clock = new FakeTimeProvider();
        var scheduler = new ManualScheduler(); // never run: maintenance happens only when the test calls it
        var cache = new SyncMapGrainDirectoryCache(
            new SyncMapRegistryOptions { MaxEntries = 10_000, Name = "expiry-test" },
            new GrainDirectoryOptions { MaximumCacheTTL = timeToIdle },
            clock,
            scheduleEviction: scheduler.Schedule);
        return (cache, clock);
    }

    private static void Read(SyncMapGrainDirectoryCache cache, GrainId grain)
    {
        for (int i = 0; i < 4 * HitSampler.SampleEvery; i++)
        {
            Assert.True(cache.TryLookUp(grain, out _));
        }
    }

    [Fact]
    public void AnEntryNotReadForTheTimeToIdleExpiresAndAReadRestartsItsTime()
    {
        (SyncMapGrainDirectoryCache cache, FakeTimeProvider clock) = NewCache(TimeToIdle);
        SiloAddress silo = Silo(1000);
        cache.AddOrUpdate(Address(Grain(1), silo), 1);
        cache.AddOrUpdate(Address(Grain(2), silo), 1);

        clock.Advance(TimeSpan.FromSeconds(200));
        cache.Maintain();
        Assert.Equal(2, cache.Count); // not idle for long enough yet

        Read(cache, Grain(1));
        cache.Maintain(); // the samples are drained: grain 1 was read at 200 s
        clock.Advance(TimeSpan.FromSeconds(41));
        cache.Maintain();
        Assert.False(cache.TryLookUp(Grain(2), out _), "An entry idle for 241 s of a 240 s time to idle survived.");
        Assert.True(cache.TryLookUp(Grain(1), out _), "An entry read 41 s ago expired.");

        // That lookup was a read too: a drain stamps what it finds with its own time (here 241 s), so a read counts
        // from the maintenance after it, at most a maintenance interval late.
        cache.Maintain();
        clock.Advance(TimeSpan.FromSeconds(240));
        cache.Maintain();
        Assert.False(cache.TryLookUp(Grain(1), out _), "An entry idle for 240 s after its last read survived.");
        Assert.Equal(0, cache.Count);
        Assert.Empty(cache);
        Assert.Equal(2, cache.GetStatistics().Evicted);
        Assert.Equal(0, cache.Policy.Linked);
    }

    [Fact]
    public void AnUpdateRestartsAnEntrysTimeAsANewKeyDoes()
    {
        (SyncMapGrainDirectoryCache cache, FakeTimeProvider clock) = NewCache(TimeToIdle);
        SiloAddress silo = Silo(1000);
        cache.AddOrUpdate(Address(Grain(1), silo), 1);
        clock.Advance(TimeSpan.FromSeconds(239));
        cache.Remove(Grain(1));
        cache.AddOrUpdate(Address(Grain(1), silo), 2);
        clock.Advance(TimeSpan.FromSeconds(2));
        cache.Maintain();
        Assert.True(cache.LookUp(Grain(1), out _, out int version));
        Assert.Equal(2, version);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void WithoutATimeToIdleNothingExpires(int seconds)
    {
        (SyncMapGrainDirectoryCache cache, FakeTimeProvider clock) = NewCache(seconds < 0 ? Timeout.InfiniteTimeSpan : TimeSpan.Zero);
        cache.AddOrUpdate(Address(Grain(1), Silo(1000)), 1);
        clock.Advance(TimeSpan.FromDays(30));
        cache.Maintain();
        Assert.True(cache.TryLookUp(Grain(1), out _));
        Assert.False(cache.Policy.Expires);
    }

    [Fact]
    public void ExpiryRemovesManyIdleEntriesInBatchesAndKeepsTheCountExact()
    {
        (SyncMapGrainDirectoryCache cache, FakeTimeProvider clock) = NewCache(TimeToIdle);
        SiloAddress silo = Silo(1000);
        for (int i = 0; i < 1_000; i++)
        {
            cache.AddOrUpdate(Address(Grain(i), silo), 1);
        }

        clock.Advance(TimeSpan.FromSeconds(120));
        for (int i = 1_000; i < 1_100; i++)
        {
            cache.AddOrUpdate(Address(Grain(i), silo), 1);
        }

        clock.Advance(TimeSpan.FromSeconds(121));
        cache.Maintain();
        Assert.Equal(100, cache.Count);
        Assert.Equal(100, cache.AsEnumerable().Count());
        Assert.All(cache, pair => Assert.InRange(int.Parse(pair.Key.Key.ToString()!, System.Globalization.CultureInfo.InvariantCulture), 1_000, 1_099));
        Assert.Equal(0, cache.Recount());
    }
}
