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
}
