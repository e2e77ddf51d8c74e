namespace SyncMapRegistry.Tests.SyncMap;

/// <summary>The read/dirty transitions of the design, observed through <see cref="SyncMap{TKey, TValue}.GetStatistics"/>.</summary>
public class DesignTests
{
    [Fact]
    public void TheReadPathsSingleSnapshotIsTheOneShardsWhileTheDirectoryHasOneEntryAndNoneOnceItHasMore()
    {
        // The read path takes a one-shard map's snapshot from a field of its own (SyncMap._singleSnapshot), which must
        // follow every publication: a stale one would send every read of a grown map through the miss path.
        var map = new SyncMap<int, int>();
        map.CheckInvariants();
        for (int key = 0; key < 100; key++)
        {
            map.Store(key, key);
        }

        map.Range(static (_, _) => true);
        map.CheckInvariants();
        Assert.Equal(1, map.ShardCount);
        for (int key = 100; key < 5_000; key++)
        {
            map.Store(key, key);
        }

        map.Range(static (_, _) => true);
        Assert.True(map.ShardCount > 1, "The map did not split.");
        map.CheckInvariants();
        map.Clear();
        map.CheckInvariants();
        map.Store(1, 1);
        map.Range(static (_, _) => true);
        map.CheckInvariants();
        Assert.True(map.TryGetValue(1, out int one));
        Assert.Equal(1, one);
    }

    [Fact]
    public void APromotionHappensExactlyWhenMissesReachTheDirtyCount()
    {
        var map = new SyncMap<string, int>();
        map.Store("a", 1);
        map.Store("b", 2);
        map.Store("c", 3);
        Assert.Equal(new { Read = 0, Dirty = 3, Promotions = 0L }, Shape(map));

        // Each lookup of a dirty-only key is a miss; dirty holds 3 keys, so the 3rd miss promotes.
        Assert.True(map.TryGetValue("a", out _));
        Assert.True(map.TryGetValue("b", out _));
        Assert.Equal(new { Read = 0, Dirty = 3, Promotions = 0L }, Shape(map));
        Assert.Equal(2, map.GetStatistics().Misses);

        Assert.True(map.TryGetValue("c", out _));
        Assert.Equal(new { Read = 3, Dirty = 0, Promotions = 1L }, Shape(map));
        SyncMapStatistics statistics = map.GetStatistics();
        Assert.Equal(3, statistics.Misses);
        Assert.Equal(3, statistics.DirtyHits);

        // After the promotion the same lookups hit the snapshot and count nothing.
        Assert.True(map.TryGetValue("c", out int c));
        Assert.Equal(3, c);
        Assert.False(map.TryGetValue("absent", out _));
        Assert.Equal(3, map.GetStatistics().Misses);
    }

    [Fact]
    public void ALookupOfAKeyInNeitherTableSkipsTheLockUnlessThePendingFilterMayHoldIt()
    {
        // Int keys hash to themselves, so the filter's bits are deterministic here.
        var map = new SyncMap<int, int>();
        map.Store(1, 1);
        map.Store(2, 2); // pending: 1 and 2 are in dirty only

        for (int absent = 1_000; absent < 1_100; absent++)
        {
            Assert.False(map.TryGetValue(absent, out _));
            Assert.False(map.Delete(absent));
            Assert.False(map.CompareAndSwap(absent, 0, 1));
            Assert.False(map.CompareAndDelete(absent, 0));
        }

        Assert.Equal(0, map.GetStatistics().Misses); // 2 pending keys in 4,096 bits: no false positive among these

        // A pending key still goes under the lock, finds its value in dirty and counts a miss, as in Go.
        Assert.True(map.TryGetValue(2, out int two));
        Assert.Equal(2, two);
        Assert.Equal(1, map.GetStatistics().Misses);
    }

    [Fact]
    public void TheFirstNewKeyAfterAPromotionCopiesNothingAndTheNextPromotionMergesAndExpungesDeletedEntries()
    {
        SyncMap<string, int> map = PromotedMap("a", "b", "c");
        SyncMapStatistics before = map.GetStatistics();

        Assert.True(map.Delete("b")); // a snapshot hit: the value is CASed out, the key stays in read
        Assert.Equal(3, map.GetStatistics().ReadCount);

        // New keys go to an empty dirty map: no copy of the snapshot.
        map.Store("d", 4);
        map.Store("e", 5);
        SyncMapStatistics amended = map.GetStatistics();
        Assert.Equal(before.Promotions, amended.Promotions);
        Assert.Equal(before.EntriesCopied, amended.EntriesCopied);
        Assert.Equal(2, amended.DirtyCount); // d, e
        Assert.Equal(3, amended.ReadCount); // a, b (deleted), c

        // The promotion builds the new snapshot: the live snapshot entries and the dirty ones; b is expunged.
        map.Range(static (_, _) => true);
        SyncMapStatistics after = map.GetStatistics();
        Assert.Equal(amended.Promotions + 1, after.Promotions);
        Assert.Equal(amended.EntriesCopied + 4, after.EntriesCopied); // a, c, d, e
        Assert.Equal(amended.EntriesExpunged + 1, after.EntriesExpunged); // b
        Assert.Equal(new { Read = 4, Dirty = 0, Promotions = after.Promotions }, Shape(map));
        Assert.Equal(new[] { "a", "c", "d", "e" }, map.Keys.Order().ToArray());
    }

    [Fact]
    public void ADeletedSnapshotKeyIsRevivedInPlaceUntilAPromotionExpungesItAndThenComesBackAsANewKey()
    {
        SyncMap<string, int> map = PromotedMap("a", "b");
        map.Delete("b");
        map.Store("c", 3);
        Assert.Equal(1, map.GetStatistics().DirtyCount); // c

        map.Store("b", 20); // revives b's snapshot entry without the lock: dirty is unchanged
        Assert.Equal(1, map.GetStatistics().DirtyCount);
        Assert.True(map.TryGetValue("b", out int b));
        Assert.Equal(20, b);

        map.Range(static (_, _) => true); // promote: b is live, so it stays
        Assert.Equal(new[] { "a", "b", "c" }, map.Keys.Order().ToArray());
        long expunged = map.GetStatistics().EntriesExpunged;

        map.Delete("b");
        map.Store("d", 4);
        map.Range(static (_, _) => true); // promote: b is deleted, so it is expunged and left out
        Assert.Equal(expunged + 1, map.GetStatistics().EntriesExpunged);
        Assert.Equal(new { Read = 3, Dirty = 0, Promotions = map.GetStatistics().Promotions }, Shape(map));

        map.Store("b", 30); // a new key now, in dirty
        Assert.Equal(1, map.GetStatistics().DirtyCount);
        Assert.Equal(30, map["b"]);
        Assert.Equal(new[] { "a", "b", "c", "d" }, map.Keys.Order().ToArray());
    }

    [Fact]
    public void UpdatesOfSnapshotKeysAndLookupsOfAbsentKeysTakeNoSlowPathWhenNothingIsPending()
    {
        SyncMap<string, int> map = PromotedMap("a", "b");
        SyncMapStatistics before = map.GetStatistics();

        map.Store("a", 10);
        Assert.True(map.CompareAndSwap("a", 10, 11));
        Assert.False(map.TryGetValue("absent", out _));
        Assert.False(map.CompareAndSwap("absent", 0, 1));

        Assert.Equal(before, map.GetStatistics());
        Assert.Equal(11, map["a"]);
    }

    [Fact]
    public void ADirtyOnlyKeyDeletedBeforePromotionIsRemovedFromDirty()
    {
        var map = new SyncMap<string, int>();
        map.Store("a", 1);
        map.Store("b", 2);
        map.Store("c", 3);
        Assert.True(map.Delete("c")); // removed from dirty at once, then counted as a miss (1 < 2 keys left)
        SyncMapStatistics statistics = map.GetStatistics();
        Assert.Equal(2, statistics.DirtyCount);
        Assert.Equal(1, statistics.Misses);
        Assert.Equal(0, statistics.Promotions);
        Assert.False(map.ContainsKey("c"));
    }

    [Fact]
    public void ClearPublishesAnEmptySnapshotAndDropsDirty()
    {
        SyncMap<string, int> map = PromotedMap("a", "b");
        map.Store("c", 3);
        map.Clear();
        SyncMapStatistics statistics = map.GetStatistics();
        Assert.Equal(0, statistics.ReadCount);
        Assert.Equal(0, statistics.DirtyCount);
        Assert.Equal(0, map.Count);
        Assert.False(map.TryGetValue("a", out _));

        map.Store("a", 1);
        Assert.Equal(1, map["a"]);
    }

    private static SyncMap<string, int> PromotedMap(params string[] keys)
    {
        var map = new SyncMap<string, int>();
        for (int i = 0; i < keys.Length; i++)
        {
            map.Store(keys[i], i + 1);
        }

        map.Range(static (_, _) => true); // Range promotes pending keys at once.
        Assert.Equal(keys.Length, map.GetStatistics().ReadCount);
        return map;
    }

    private static object Shape<TKey, TValue>(SyncMap<TKey, TValue> map)
        where TKey : notnull
    {
        SyncMapStatistics s = map.GetStatistics();
        return new { Read = s.ReadCount, Dirty = s.DirtyCount, s.Promotions };
    }

    [Fact]
    public void AWalkWithoutPromotingVisitsSnapshotAndPendingKeysOnceAndLeavesDirtyInPlace()
    {
        var map = new SyncMap<int, int>();
        for (int key = 0; key < 10; key++)
        {
            map.Store(key, key);
        }

        map.Range((_, _) => true); // promotes: 0..9 in the snapshot
        Assert.True(map.Delete(3));
        for (int key = 10; key < 15; key++)
        {
            map.Store(key, key); // all five are pending, in dirty only
        }

        SyncMapStatistics before = map.GetStatistics();
        var seen = new List<(int Key, int Value)>();
        map.ForEachWithoutPromoting((key, value) =>
        {
            seen.Add((key, value));
            return true;
        });

        Assert.Equal(Enumerable.Range(0, 15).Where(key => key != 3).Select(key => (key, key)), seen.Order());
        map.Store(15, 15); // the walk promoted nothing, so this adds to the same dirty map
        SyncMapStatistics after = map.GetStatistics();
        Assert.Equal((before.Promotions, before.EntriesCopied), (after.Promotions, after.EntriesCopied));
    }

    [Fact]
    public void AWalkWithoutPromotingStopsWhenTheVisitorSaysSoAndLetsItCallTheMap()
    {
        var map = new SyncMap<int, int>();
        for (int key = 0; key < 100; key++)
        {
            map.Store(key, key);
        }

        int visited = 0;
        map.ForEachWithoutPromoting((key, _) =>
        {
            map.Store(1_000 + key, key); // new keys from inside the walk: it holds no lock
            map.Delete(key);
            return ++visited < 50;
        });

        Assert.Equal(50, visited);
        Assert.Equal(100, map.Count);
    }

    [Fact]
    public async Task AWalkWithoutPromotingSeesEachStableKeyExactlyOnceWhileOthersChurn()
    {
        var map = new SyncMap<int, int>();
        const int Stable = 5_000;
        for (int key = 0; key < Stable; key++)
        {
            map.Store(key, key);
        }

        using var stop = new CancellationTokenSource();
        Task churn = Task.Run(() =>
        {
            for (int i = 0; !stop.IsCancellationRequested; i++)
            {
                int key = Stable + (i % 20_000);
                map.Store(key, key);
                map.TryGetValue(key - 7, out _);
                if (key - 13 >= Stable)
                {
                    map.Delete(key - 13);
                }

                if (i % 1_000 == 0)
                {
                    map.Range(static (_, _) => true); // a whole walk promotes every pending shard, now and then
                }
            }
        }, TestContext.Current.CancellationToken);

        for (int walk = 0; walk < 20; walk++)
        {
            var counts = new int[Stable];
            map.ForEachWithoutPromoting((key, value) =>
            {
                if (key < Stable)
                {
                    Assert.Equal(key, value);
                    counts[key]++;
                }

                return true;
            });
            Assert.All(counts, count => Assert.Equal(1, count));
        }

        await stop.CancelAsync();
        await churn;
    }

    [Fact]
    public void ABigMapSplitsIntoShardsAndTheFirstNewKeyAfterAPromotionCopiesOneShardOnly()
    {
        const int Keys = 100_000;
        var map = new SyncMap<int, int>();
        for (int key = 0; key < Keys; key++)
        {
            map.Store(key, key);
        }

        map.Range(static (_, _) => true); // promotes every shard
        Assert.True(map.ShardCount >= Keys / SyncTable<int>.MaximumShardEntries, $"Only {map.ShardCount} shards.");
        Assert.Equal(Keys, map.GetStatistics().ReadCount);
        for (int round = 0; round < 50; round++)
        {
            Assert.True(map.Delete(round));
            SyncMapStatistics before = map.GetStatistics();
            map.Store(Keys + round, round);
            SyncMapStatistics after = map.GetStatistics();

            // A new key copies no snapshot (the promotion does, a shard at a time): bounded work, however big the map.
            Assert.Equal(before.EntriesCopied, after.EntriesCopied);
        }

        Assert.Equal(Keys, map.Count);
        for (int key = 50; key < Keys + 50; key++)
        {
            Assert.True(map.TryGetValue(key, out int value) && value == (key < Keys ? key : key - Keys), $"Key {key}.");
        }
    }

    [Fact]
    public void AWalkThatStopsEarlyPromotesNoShardItDidNotFinishAndAWholeWalkPromotesAllAndVisitsEachNewKeyOnce()
    {
        const int Keys = 10_000;
        const int NewKeys = 200;
        var map = new SyncMap<int, int>();
        for (int key = 0; key < Keys; key++)
        {
            map.Store(key, key);
        }

        map.Range(static (_, _) => true);
        Assert.Equal(0, map.GetStatistics().DirtyCount);
        for (int key = Keys; key < Keys + NewKeys; key++)
        {
            map.Store(key, key); // pending in most shards
        }

        long promotions = map.GetStatistics().Promotions;
        foreach (KeyValuePair<int, int> _ in map)
        {
            break; // in the middle of the first shard's snapshot
        }

        Assert.Equal(promotions, map.GetStatistics().Promotions);
        Assert.Equal(NewKeys, map.GetStatistics().DirtyCount);

        var seen = new HashSet<int>();
        foreach (KeyValuePair<int, int> pair in map)
        {
            Assert.True(seen.Add(pair.Key), $"Key {pair.Key} visited twice.");
            Assert.Equal(pair.Key, pair.Value);
        }

        Assert.Equal(Keys + NewKeys, seen.Count);
        Assert.True(map.GetStatistics().Promotions > promotions, "The whole walk promoted nothing.");
        Assert.Equal(0, map.GetStatistics().DirtyCount);
    }

    [Fact]
    public void ShardsPromoteIndependentlyOnceTheirOwnMissesReachTheirDirtySize()
    {
        var map = new SyncMap<int, int>();
        for (int key = 0; key < 10_000; key++)
        {
            map.Store(key, key);
        }

        map.Range(static (_, _) => true);
        long promotions = map.GetStatistics().Promotions;
        map.Store(-1, -1); // one new key: one shard amended
        Assert.True(map.TryGetValue(-1, out int value) && value == -1); // its dirty holds the shard's keys + 1: no promotion yet
        Assert.Equal(promotions, map.GetStatistics().Promotions);
        map.Range(static (_, _) => true); // promotes the one amended shard only
        Assert.Equal(promotions + 1, map.GetStatistics().Promotions);
    }

    [Fact]
    public void StringKeysHashNonRandomizedUntilCollidingKeysSwitchTheMapToRandomizedHashing()
    {
        var ordinary = new SyncMap<string, int>();
        for (int i = 0; i < 10_000; i++)
        {
            ordinary.Store($"grain/{i}", i);
        }

        Assert.False(ordinary.HashesStringsRandomized);

        // Four-char keys that all share one non-randomized hash code, as an attacker could craft them.
        string[] colliding = CollidingKeys(300);
        Assert.Single(colliding.Select(NonRandomizedStringComparer.Instance.GetHashCode).Distinct());
        var map = new SyncMap<string, int>();
        for (int i = 0; i < 2_000; i++)
        {
            map.Store($"grain/{i}", i);
        }

        map.Range(static (_, _) => true);
        for (int i = 0; i < colliding.Length; i++)
        {
            map.Store(colliding[i], -i);
        }

        Assert.True(map.HashesStringsRandomized);
        Assert.Same(EqualityComparer<string>.Default, map.KeyComparer);
        Assert.Equal(2_000 + colliding.Length, map.Count);
        for (int i = 0; i < colliding.Length; i++)
        {
            Assert.True(map.TryGetValue(colliding[i], out int value) && value == -i);
        }

        for (int i = 0; i < 2_000; i++)
        {
            Assert.True(map.TryGetValue($"grain/{i}", out int value) && value == i);
            Assert.True(map.CompareAndSwap($"grain/{i}", i, i + 1));
        }

        Assert.False(map.TryGetValue("absent", out _));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ReadHitsOfStringKeysAreCountedExactlyWhenAskedBeforeAndAfterTheSwitchToRandomizedHashing(bool countReadHits)
    {
        // A counting map reads out of line; the switch rewrites which path a read takes, and must keep the count.
        var map = new SyncMap<string, int>(new SyncMapOptions { CountReadHits = countReadHits });
        map.Store("before", 1);
        map.Range(static (_, _) => true);
        Assert.True(map.TryGetValue("before", out int before) && before == 1);
        Assert.Equal(countReadHits ? 1 : 0, map.GetStatistics().ReadHits);

        foreach (string key in CollidingKeys(300))
        {
            map.Store(key, 2);
        }

        Assert.True(map.HashesStringsRandomized);
        map.Range(static (_, _) => true);
        Assert.True(map.TryGetValue("before", out before) && before == 1);
        Assert.True(map.TryGetValue(CollidingKeys(1)[0], out int after) && after == 2);
        Assert.Equal(countReadHits ? 3 : 0, map.GetStatistics().ReadHits);
    }

    [Fact]
    public void ASplitDirtyMapTakesNewKeysUntilItsShardIsFullWithoutCopyingItselfAndASplitSnapshotFitsItsKeys()
    {
        var full = new SyncTable<int>(0);
        for (int key = 0; full.Count < SyncTable<int>.MaximumShardEntries; key++)
        {
            full.Add(new InlineEntry<int>(key, key.GetHashCode(), word: 0));
        }

        (SyncTable<int> lowerDirty, SyncTable<int> upperDirty) = SyncTable<int>.Split(full.Slots, depth: 0, roomToGrow: true);
        Assert.Equal(SyncTable<int>.MaximumShardEntries, lowerDirty.Count + upperDirty.Count);
        foreach (SyncTable<int> half in new[] { lowerDirty, upperDirty })
        {
            Entry<int>?[] slots = half.Slots;
            for (int key = -1; half.Count < SyncTable<int>.MaximumShardEntries; key--)
            {
                half.Add(new InlineEntry<int>(key, key.GetHashCode(), word: 0));
            }

            Assert.Same(slots, half.Slots);
        }

        // A snapshot's half never grows: it is sized for the keys it holds, at most half full.
        (SyncTable<int> lowerRead, _) = SyncTable<int>.Split(full.Slots, depth: 0, roomToGrow: false);
        Assert.InRange(lowerRead.Slots.Length, 2 * lowerRead.Count, 4 * lowerRead.Count);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AWalkWithoutPromotingVisitsEveryKeyOnceWhenTheMapSwitchesToRandomizedHashingUnderIt(bool shrinks)
    {
        // The switch rehashes every key into a new directory, so keys leave the runs of the directory that the walk
        // loaded; keys still pending in dirty maps are only in the new shards. `visit` makes the switch on its first
        // call, so every run but the first is caught up after it. With `shrinks`, most keys are deleted first, so the
        // rehashed directory is shorter than the walked one.
        var map = new SyncMap<string, int>();
        var live = new List<string>();
        if (shrinks)
        {
            live.AddRange(FillThenShrink(map));
        }
        else
        {
            for (int i = 0; i < 2_000; i++)
            {
                map.Store($"k{i}", i);
            }

            map.Range(static (_, _) => true);
            live.AddRange(Enumerable.Range(0, 2_000).Select(i => $"k{i}"));
        }

        for (int i = 0; i < 300; i++)
        {
            map.Store($"pending{i}", i); // new keys in every shard's dirty map
            live.Add($"pending{i}");
        }

        int shardsBefore = map.ShardCount;
        string[] colliding = CollidingKeys(70);
        var visits = new Dictionary<string, int>();
        map.ForEachWithoutPromoting((key, _) =>
        {
            visits[key] = visits.GetValueOrDefault(key) + 1;
            if (!map.HashesStringsRandomized)
            {
                foreach (string collidingKey in colliding)
                {
                    map.Store(collidingKey, -1);
                }
            }

            return true;
        });

        Assert.True(map.HashesStringsRandomized);
        Assert.True(shardsBefore > 1, $"Only {shardsBefore} shard: nothing to catch up.");
        Assert.Equal(shrinks, map.ShardCount < shardsBefore);
        string[] missed = live.Where(key => !visits.ContainsKey(key)).ToArray();
        string[] twice = visits.Where(visit => visit.Value > 1).Select(visit => visit.Key).ToArray();
        Assert.True(missed.Length == 0, $"{missed.Length} live keys never visited, as {string.Join(", ", missed.Take(5))}.");
        Assert.True(twice.Length == 0, $"{twice.Length} keys visited more than once, as {string.Join(", ", twice.Take(5))}.");
        Assert.Equal(live.Count + colliding.Length, map.Count);
    }

    [Fact]
    public void AReaderWhoseSnapshotsLagTheShardsFindsAKeyStoredAgainAfterItsExpungedEntry()
    {
        // A promotion publishes the shards, then the snapshots: between the two stores a writer can find the new shard
        // and store a key again whose old entry that promotion expunged, while a reader still loads the old snapshots.
        // That reader meets the expunged entry; it must not answer "absent" from it. The lag is made here by putting the
        // old snapshots back, as a reader that loaded them between the two stores sees them.
        var map = new SyncMap<int, int>();
        for (int key = 0; key < 10; key++)
        {
            map.Store(key, key);
        }

        map.Range(static (_, _) => true);
        Assert.True(map.Delete(5));
        map.Store(100, 100);
        System.Reflection.FieldInfo snapshotsField = typeof(SyncMap<int, int>).GetField("_snapshots", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!;
        object lagging = snapshotsField.GetValue(map)!;
        map.Range(static (_, _) => true); // the promotion that expunges 5's entry
        map.Store(5, 55);                // a new entry for 5, in the new shard's dirty map
        void Lag() => snapshotsField.SetValue(map, lagging);

        Lag();
        Assert.True(map.TryGetValue(5, out int value) && value == 55, "TryGetValue answered from the expunged entry.");
        Lag();
        Assert.True(map.CompareAndSwap(5, 55, 56), "CompareAndSwap answered from the expunged entry.");
        Lag();
        Assert.True(map.CompareAndDelete(5, 56), "CompareAndDelete answered from the expunged entry.");
        map.Store(5, 57);
        Lag();
        Assert.True(map.LoadAndDelete(5, out value) && value == 57, "LoadAndDelete answered from the expunged entry.");
        Lag();
        Assert.False(map.TryGetValue(5, out _));
    }

    /// <summary>
    /// Fills <paramref name="map"/> with 20,000 string keys, promotes them, deletes all but the first 500, then stores
    /// a new key in every shard (<c>early0..299</c>) and promotes again, which expunges the deleted keys: a map whose
    /// switch to randomized hashing builds a directory shorter than its own.
    /// </summary>
    /// <returns>The live keys.</returns>
    internal static string[] FillThenShrink(SyncMap<string, int> map)
    {
        for (int i = 0; i < 20_000; i++)
        {
            map.Store($"k{i}", i);
        }

        map.Range(static (_, _) => true);
        for (int i = 500; i < 20_000; i++)
        {
            map.Delete($"k{i}");
        }

        for (int i = 0; i < 300; i++)
        {
            map.Store($"early{i}", i);
        }

        map.Range(static (_, _) => true);
        return [.. Enumerable.Range(0, 500).Select(i => $"k{i}"), .. Enumerable.Range(0, 300).Select(i => $"early{i}")];
    }

    /// <summary>
    /// Keys of two 32-bit char pairs (p0, p1) whose hash (C ^ p0) + 1566083941 * (C ^ p1) is one target: pick p1, solve for p0.
    /// </summary>
    internal static string[] CollidingKeys(int count)
    {
        uint seed = (5381 << 16) + 5381;
        uint c = System.Numerics.BitOperations.RotateLeft(seed, 5) + seed;
        const uint Target = 0x5EED_5EED;
        var keys = new string[count];
        for (uint p1 = 0; p1 < count; p1++)
        {
            uint p0 = c ^ unchecked(Target - (1_566_083_941u * (c ^ (p1 + 0x0041_0041))));
            uint q1 = p1 + 0x0041_0041;
            keys[p1] = new string([(char)(p0 & 0xFFFF), (char)(p0 >> 16), (char)(q1 & 0xFFFF), (char)(q1 >> 16)]);
        }

        return keys;
    }
}
