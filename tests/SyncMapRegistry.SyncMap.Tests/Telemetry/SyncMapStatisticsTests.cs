using System.Globalization;

namespace SyncMapRegistry.Tests.Telemetry;

public sealed class SyncMapStatisticsTests
{
    [Fact]
    public void ToStringIsOneReadableLineWithEveryFigureByName()
    {
        SyncMap<int, string> map = ScriptedScenario.Run($"{nameof(ToStringIsOneReadableLineWithEveryFigureByName)}-{Guid.NewGuid():N}");

        string text = map.GetStatistics().ToString();

        Assert.Equal(
            $"read={ScriptedScenario.FinalRead} dirty={ScriptedScenario.FinalDirty} promotions={ScriptedScenario.Promotions} " +
            $"copied={ScriptedScenario.EntriesCopied} expunged={ScriptedScenario.Expunged} misses={ScriptedScenario.Misses} " +
            $"lookups: read_hit=0 dirty_hit={ScriptedScenario.DirtyHits} miss={ScriptedScenario.LookupMisses}",
            text);
    }

    [Fact]
    public void ToStringGroupsThousandsTheSameWayWhateverTheCurrentCulture()
    {
        const int Keys = 1_500;
        var map = new SyncMap<int, int>();
        for (int key = 0; key < Keys; key++)
        {
            map.Store(key, key);
        }

        // The walk promotes every shard's new keys: all of them are in read snapshots now, each copied once.
        map.Range(static (_, _) => true);
        CultureInfo before = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo("de-DE");
            string text = map.GetStatistics().ToString();

            Assert.StartsWith("read=1,500 dirty=0 promotions=", text, StringComparison.Ordinal);
            Assert.Contains(" copied=1,500 expunged=0 ", text, StringComparison.Ordinal);
            Assert.DoesNotContain('\n', text);
        }
        finally
        {
            CultureInfo.CurrentCulture = before;
        }
    }

    [Theory]
    [InlineData("promotion")]
    [InlineData("split")]
    [InlineData("clear")]
    public void LookupsOfPendingKeysAnsweredWithoutTheLockStayCountedWhenTheirShardRetires(string retirement)
    {
        // A lock-free lookup of a pending key counts its dirty hit and miss in its shard only, and the shard hands the
        // count to the map's totals when it retires (RetireLocked): a count left in a retired shard would vanish from
        // the statistics with it.
        const int Pending = 100;
        const int Looked = Pending / 2; // under the promotion's price, so that no lookup promotes
        var map = new SyncMap<int, int>();
        for (int key = 0; key < Pending; key++)
        {
            map.Store(key, key);
        }

        for (int key = 0; key < Looked; key++)
        {
            Assert.True(map.TryGetValue(key, out _));
        }

        SyncMapStatistics before = map.GetStatistics();
        Assert.Equal(0, before.Promotions);
        Assert.Equal(Looked, before.DirtyHits);
        Assert.Equal(Looked, before.Misses);

        switch (retirement)
        {
            case "promotion":
                map.Range(static (_, _) => true); // promotes the shard's pending keys
                break;
            case "split":
                for (int key = Pending; key < 4 * SyncTable<int>.MaximumShardEntries; key++)
                {
                    map.Store(key, key);
                }

                Assert.True(map.ShardCount > 1, "The map did not split.");
                break;
            default:
                map.Clear();
                break;
        }

        SyncMapStatistics after = map.GetStatistics();
        Assert.Equal(Looked, after.DirtyHits);
        Assert.True(after.Misses >= Looked, $"Misses fell from {Looked} to {after.Misses}.");
    }

    [Fact]
    public void ALockFreeLookupThatCountsInAShardRetiredMeanwhileCountsInTheTotals()
    {
        // The lookup found its key pending and live in the shard it loaded; before it counts, a promotion retires that
        // shard and moves the shard's count to the totals. Its increment then lands on the retired mark, and the
        // lookup must count itself in the totals, or its hit is lost.
        var map = new SyncMap<int, int>();
        for (int key = 0; key < 100; key++)
        {
            map.Store(key, key);
        }

        using var stalled = new ManualResetEventSlim();
        using var resume = new ManualResetEventSlim();
        int reader = 0;
        map.StallHook = point =>
        {
            if (point == StallPoint.CountingLockFreeHit && Environment.CurrentManagedThreadId == Volatile.Read(ref reader))
            {
                stalled.Set();
                resume.Wait(TestContext.Current.CancellationToken);
            }
        };

        bool found = false;
        var lookup = new Thread(() =>
        {
            Volatile.Write(ref reader, Environment.CurrentManagedThreadId);
            found = map.TryGetValue(7, out _);
        });
        lookup.Start();
        Assert.True(stalled.Wait(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken), "The lookup never reached its count.");

        map.Range(static (_, _) => true); // promotes: the shard the lookup holds retires
        Assert.Equal(1, map.GetStatistics().Promotions);
        resume.Set();
        lookup.Join();

        Assert.True(found);
        Assert.Equal(1, map.GetStatistics().DirtyHits);
    }
}
