using Microsoft.Extensions.Time.Testing;
using Orleans.Configuration;
using static SyncMapRegistry.OrleansTests.TestSupport;

namespace SyncMapRegistry.OrleansTests;

/// <summary>
/// Expire after access, as Orleans' own cache does with <see cref="GrainDirectoryOptions.MaximumCacheTTL"/>: an entry
/// not read for that long goes at a maintenance soon after (at most an access epoch, an eighth of the time to idle,
/// late); an entry read at least once per time to idle never goes, whether or not its reads were sampled. On a fake
/// clock, with maintenance run by the test once a second, as the registry's maintenance service runs it.
/// </summary>
public sealed class IdleExpiryTests
{
    private static readonly TimeSpan TimeToIdle = TimeSpan.FromSeconds(240);

    /// <summary>How late an idle entry may go: an access epoch and a maintenance interval.</summary>
    private static readonly TimeSpan Lateness = (TimeToIdle / SyncMapGrainDirectoryCache.EpochsPerTimeToIdle) + TimeSpan.FromSeconds(1);

    private static (SyncMapGrainDirectoryCache Cache, FakeTimeProvider Clock) NewCache(TimeSpan timeToIdle, bool countLookups = true)
    {
        var clock = new FakeTimeProvider();
        var scheduler = new ManualScheduler(); // never run: maintenance happens only when the test calls it
        var cache = new SyncMapGrainDirectoryCache(
            new SyncMapRegistryOptions { MaxEntries = 10_000, Name = "expiry-test", CountLookups = countLookups },
            new GrainDirectoryOptions { MaximumCacheTTL = timeToIdle },
            clock,
            scheduleEviction: scheduler.Schedule);
        return (cache, clock);
    }

    /// <summary>Moves the clock on a second at a time to <paramref name="second"/> (since the cache's creation), maintaining after each.</summary>
    private static void MaintainUntil(SyncMapGrainDirectoryCache cache, FakeTimeProvider clock, DateTimeOffset start, double second)
    {
        while (clock.GetUtcNow() - start < TimeSpan.FromSeconds(second))
        {
            clock.Advance(TimeSpan.FromSeconds(1));
            cache.Maintain();
        }
    }

    /// <summary>Whether the cache holds <paramref name="grain"/>, found by a walk (a lookup would be a read).</summary>
    private static bool Holds(SyncMapGrainDirectoryCache cache, GrainId grain) => cache.Any(pair => pair.Key.Equals(grain));

    [Fact]
    public void AnEntryNotReadForTheTimeToIdleExpiresAndOneReadWithinItStays()
    {
        (SyncMapGrainDirectoryCache cache, FakeTimeProvider clock) = NewCache(TimeToIdle);
        DateTimeOffset start = clock.GetUtcNow();
        SiloAddress silo = Silo(1000);
        cache.AddOrUpdate(Address(Grain(1), silo), 1);
        cache.AddOrUpdate(Address(Grain(2), silo), 1);

        MaintainUntil(cache, clock, start, 200);
        Assert.Equal(2, cache.Count); // not idle for long enough yet
        Assert.True(cache.TryLookUp(Grain(1), out _)); // read at 200 s

        // Grain 2, never read, goes by its insertion: within a maintenance interval of 240 s.
        MaintainUntil(cache, clock, start, 239);
        Assert.True(Holds(cache, Grain(2)), "An entry idle for 239 s of a 240 s time to idle expired.");
        MaintainUntil(cache, clock, start, 241);
        Assert.False(Holds(cache, Grain(2)), "An entry idle for 241 s of a 240 s time to idle survived.");

        // Grain 1, read at 200 s, stays until 440 s, and goes at most an epoch late.
        MaintainUntil(cache, clock, start, 439);
        Assert.True(Holds(cache, Grain(1)), "An entry read 239 s ago expired.");
        MaintainUntil(cache, clock, start, 440 + Lateness.TotalSeconds);
        Assert.False(Holds(cache, Grain(1)), "An entry idle for longer than its time to idle and an epoch survived.");
        Assert.Equal(0, cache.Count);
        Assert.Equal(2, cache.GetStatistics().Evicted);
        Assert.Equal(0, cache.Policy.Linked);
    }

    [Fact]
    public void AReadTheSamplesLostStillKeepsItsEntry()
    {
        // A thread's ring keeps its last RingSize samples: a read followed by more hits than that before the next drain
        // leaves no sample. The entry's access epoch still records it.
        (SyncMapGrainDirectoryCache cache, FakeTimeProvider clock) = NewCache(TimeToIdle);
        DateTimeOffset start = clock.GetUtcNow();
        SiloAddress silo = Silo(1000);
        cache.AddOrUpdate(Address(Grain(1), silo), 1);
        cache.AddOrUpdate(Address(Grain(2), silo), 1);
        MaintainUntil(cache, clock, start, 200);
        Assert.True(cache.TryLookUp(Grain(1), out _));
        for (int i = 0; i < 2 * HitSampler.RingSize; i++)
        {
            Assert.True(cache.TryLookUp(Grain(2), out _));
        }

        MaintainUntil(cache, clock, start, 439);
        Assert.True(Holds(cache, Grain(1)), "An entry read 239 s ago, its sample lost, expired.");
        Assert.True(Holds(cache, Grain(2)));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void AnEntryReadOncePerTimeToIdleNeverExpiresWhateverTheSampling(bool countLookups)
    {
        // With lookups not counted, the cache samples no hit before it holds half its cap: here no read is ever sampled.
        (SyncMapGrainDirectoryCache cache, FakeTimeProvider clock) = NewCache(TimeToIdle, countLookups);
        DateTimeOffset start = clock.GetUtcNow();
        SiloAddress silo = Silo(1000);
        cache.AddOrUpdate(Address(Grain(1), silo), 1);
        cache.AddOrUpdate(Address(Grain(2), silo), 1);
        const int period = 239;
        for (int read = 1; read <= 8; read++)
        {
            MaintainUntil(cache, clock, start, read * period);
            Assert.True(cache.TryLookUp(Grain(1), out _), $"An entry read every {period} s expired before read {read}.");
        }

        Assert.False(Holds(cache, Grain(2)));
        Assert.Equal(1, cache.Count);
    }

    [Fact]
    public void AReadWhileMaintenanceIsStalledKeepsItsEntry()
    {
        // No maintenance for longer than the time to idle: the epoch does not move, and a read in that time stamps the
        // last one published, which lasts until the next publication. (Lookups not counted: no sample records the read.)
        (SyncMapGrainDirectoryCache cache, FakeTimeProvider clock) = NewCache(TimeToIdle, countLookups: false);
        DateTimeOffset start = clock.GetUtcNow();
        SiloAddress silo = Silo(1000);
        cache.AddOrUpdate(Address(Grain(1), silo), 1);
        cache.AddOrUpdate(Address(Grain(2), silo), 1);
        MaintainUntil(cache, clock, start, 100);
        clock.Advance(TimeSpan.FromSeconds(1_000));
        Assert.True(cache.TryLookUp(Grain(1), out _));
        clock.Advance(TimeSpan.FromSeconds(10));
        cache.Maintain();
        Assert.True(Holds(cache, Grain(1)), "An entry read 10 s ago expired after a stall of maintenance.");
        Assert.False(Holds(cache, Grain(2)));
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
