namespace SyncMapRegistry.Tests.SyncMap;

/// <summary>
/// The map under churn (new keys replacing old ones): what a promotion is paid with, and how a full shard makes room.
/// Int keys hash to themselves, so the shards and the counts below are deterministic.
/// </summary>
public class ChurnTests
{
    [Fact]
    public void AFullShardWhoseSnapshotHoldsAQuarterOfDeletedKeysIsPromotedInsteadOfSplitAndItsNextDirtyMapIsSizedForTheLastOne()
    {
        var map = new SyncMap<int, int>();
        for (int key = 0; key < 900; key++)
        {
            map.Store(key, key);
        }

        map.Range(static (_, _) => true);
        for (int key = 0; key < 300; key++)
        {
            Assert.True(map.Delete(key)); // lock-free: the entries stay in the snapshot, deleted
        }

        int added = SyncTable<int>.MaximumShardEntries - 900;
        for (int key = 10_000; key < 10_000 + added; key++)
        {
            map.Store(key, key);
        }

        Assert.Equal((900, added, 256, 1), Shape(map, 0)); // full: 900 + 124 keys, its dirty map grown from 4 slots to 256
        long promotions = map.GetStatistics().Promotions;

        // The next new key finds the shard full. A third of its snapshot is deleted, so it is promoted, which expunges
        // them, and the key goes to the successor, whose dirty map is allocated once for the 124 keys of the last one.
        map.Store(20_000, 20_000);
        Assert.Equal(1, map.ShardCount);
        Assert.Equal(promotions + 1, map.GetStatistics().Promotions);
        Assert.Equal((600 + added, 1, 256, 1), Shape(map, 0));

        Assert.Equal(
            Enumerable.Range(300, 600).Concat(Enumerable.Range(10_000, added)).Append(20_000),
            map.Select(pair => pair.Key).Order());
        Assert.All(map, pair => Assert.Equal(pair.Key, pair.Value));
        Assert.False(map.TryGetValue(0, out _));
    }

    [Fact]
    public void AFullShardWithFewDeletedKeysSplits()
    {
        var map = new SyncMap<int, int>();
        for (int key = 0; key < 900; key++)
        {
            map.Store(key, key);
        }

        map.Range(static (_, _) => true);
        for (int key = 0; key < 100; key++)
        {
            map.Delete(key);
        }

        for (int key = 10_000; key <= 10_000 + SyncTable<int>.MaximumShardEntries - 900; key++)
        {
            map.Store(key, key);
        }

        Assert.Equal(2, map.ShardCount);
        Assert.Equal(800 + SyncTable<int>.MaximumShardEntries - 900 + 1, map.Count);
    }

    [Fact]
    public void AShardFilledByNewKeysAloneSplitsWithoutAPromotion()
    {
        var map = new SyncMap<int, int>();
        for (int key = 0; key <= SyncTable<int>.MaximumShardEntries; key++)
        {
            map.Store(key, key);
        }

        Assert.Equal(2, map.ShardCount);
        Assert.Equal(0, map.GetStatistics().Promotions);
        Assert.Equal(SyncTable<int>.MaximumShardEntries + 1, map.GetStatistics().DirtyCount);
    }

    [Fact]
    public void MissesPayForTheDirectoryThatAPromotionCopiesAsWellAsForTheShard()
    {
        var map = new SyncMap<int, int>();
        for (int key = 0; key < 20_000; key++)
        {
            map.Store(key, key);
        }

        map.Range(static (_, _) => true);
        const int Key = 1_000_000;
        map.Store(Key, Key);
        (int snapshot, int dirty, _, int directory, int cost) = map.ShardShapeOf(Key);
        Assert.Equal(1, dirty);
        Assert.True(directory >= 16, $"A directory of {directory} entries only.");
        Assert.Equal(snapshot + dirty + Math.Min(directory / 2, snapshot + dirty), cost);

        // Go's count (the keys the new snapshot holds) is not enough: the shard is still pending after it.
        long promotions = map.GetStatistics().Promotions;
        long misses = map.GetStatistics().Misses;
        for (int i = 0; i < snapshot + dirty; i++)
        {
            Assert.True(map.TryGetValue(Key, out _));
        }

        Assert.Equal(misses + snapshot + dirty, map.GetStatistics().Misses);
        Assert.Equal(promotions, map.GetStatistics().Promotions);
        Assert.Equal(1, map.ShardShapeOf(Key).Dirty);

        // Half a key per directory entry more, and it is promoted.
        for (int i = 0; i < directory / 2; i++)
        {
            Assert.True(map.TryGetValue(Key, out _));
        }

        Assert.Equal(promotions + 1, map.GetStatistics().Promotions);
        Assert.Equal(0, map.ShardShapeOf(Key).Dirty);
    }

    [Fact]
    public void AMapUnderChurnSettlesAtAShardCountAndKeepsEveryKeyThatWasNotReplaced()
    {
        // No lookups: the misses are the deletions of keys still pending. After the fill, 32 shards of about 940 keys
        // split once; from then on the map promotes its shards (expunging what was deleted) and stays at 64.
        const int Size = 30_000;
        var map = new SyncMap<int, int>();
        for (int key = 0; key < Size; key++)
        {
            map.Store(key, key);
        }

        map.Range(static (_, _) => true);
        int step = 0;
        void Churn(int steps)
        {
            for (int end = step + steps; step < end; step++)
            {
                Assert.True(map.Delete(step));
                map.Store(Size + step, Size + step);
            }
        }

        Churn(2 * Size);
        int shards = map.ShardCount;
        long promotions = map.GetStatistics().Promotions;
        Churn(2 * Size);
        Assert.True(map.GetStatistics().Promotions > promotions, "No shard was promoted.");
        Assert.Equal(shards, map.ShardCount);
        Assert.Equal(Enumerable.Range(step, Size), map.Select(pair => pair.Key).Order());
        for (int key = step; key < step + Size; key += 97)
        {
            Assert.True(map.TryGetValue(key, out int value));
            Assert.Equal(key, value);
        }
    }

    private static (int Snapshot, int Dirty, int DirtySlots, int DirectoryLength) Shape(SyncMap<int, int> map, int key)
    {
        (int snapshot, int dirty, int dirtySlots, int directory, _) = map.ShardShapeOf(key);
        return (snapshot, dirty, dirtySlots, directory);
    }
}
