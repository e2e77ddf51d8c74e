namespace SyncMapRegistry.Tests.Telemetry;

/// <summary>
/// A single-threaded script whose every promotion, miss and copy follows from the read/dirty design
/// (docs: shared/design/sync-map.md). Each step states what the design makes it do; the expected totals
/// at the bottom are the sums of those steps.
/// </summary>
internal static class ScriptedScenario
{
    // Step 1. Store keys 0..9 into an empty map.
    //   Store(0): the snapshot is not amended, so the first new key marks it amended with an empty dirty map
    //             (nothing is copied: the copy waits for the promotion). Dirty = {0}.
    //   Store(1..9): new keys while amended: added to dirty. A new key never counts a miss.
    //   => read 0, dirty 10; promotions 0; misses 0.
    // Step 2. TryGetValue(k) for k = 0..9.
    //   Each key is absent from the (empty) snapshot while amended: under the lock, found in dirty:
    //   a dirty hit and a miss. Misses go 1..10; at the 10th, misses (10) >= snapshot + dirty (0 + 10):
    //   promotion #1 after 10 misses merges 0 snapshot entries and 10 dirty ones: 10 copied,
    //   0 expunged. Dirty = null.
    //   => dirty hits 10, misses 10, promotions 1 (size 10), copied 10.
    // Step 3. Delete(3).
    //   Key 3 is in the snapshot: its entry is CASed to deleted, lock-free. Nothing is counted.
    // Step 4. Store(10), Store(11), Store(12).
    //   Store(10): a new key, and the snapshot is not amended: an empty dirty map again, then 10 is added.
    //   Store(11), Store(12): dirty 3. Each new key is also added to the snapshot's pending-key filter.
    //   => read 10 (the deleted key 3 included), dirty 3; still 1 promotion.
    // Step 5. Delete(12), TryGetValue(12), TryGetValue(99), TryGetValue(3).
    //   Delete(12): 12 is only in dirty: removed from it under the lock, a miss (1 < 10 + 2: no promotion).
    //   TryGetValue(12): the filter still holds 12, so the lookup goes under the lock and finds nothing in
    //   dirty: a lookup miss and a miss (2 < 12). TryGetValue(99): 99 was never pending, so the filter answers
    //   "absent" without the lock: nothing counted. Key 3 is in the snapshot, deleted: false at once, nothing counted.
    //   => lookup misses 1, misses 10 + 2 = 12.
    //   Midway (here): read 10, dirty 2.
    // Step 6. Range.
    //   Amended, so Range promotes first: promotion #2, after 2 misses, expunges the deleted
    //   entry 3 and merges the 9 live snapshot entries with the 2 dirty ones: 11 copied, 1 expunged.
    //   It visits the 11 live keys (0..11 but 3).
    //   => promotions 2 (sizes 10 and 11), copied 10 + 11 = 21, expunged 1; read 11, dirty 0.
    internal const long Promotions = 2;
    internal const long Misses = 12;
    internal const long EntriesCopied = 10 + 11;
    internal const long Expunged = 1;
    internal const long DirtyHits = 10;
    internal const long LookupMisses = 1;
    internal const long MidwayRead = 10;
    internal const long MidwayDirty = 2;
    internal const long FinalRead = 11;
    internal const long FinalDirty = 0;
    internal const int LiveKeys = 11;

    /// <summary>The promotion spans the script ends, in order, as (entries, misses, expunged): one span per promotion.</summary>
    internal static readonly (int Entries, int Misses, int Expunged)[] Promotes =
    [
        (10, 10, 0),
        (11, 2, 1),
    ];

    /// <summary>Runs steps 1 to 5; <paramref name="midway"/> is called there; then step 6.</summary>
    internal static SyncMap<int, string> Run(string mapName, Action? midway = null) =>
        Run(new SyncMap<int, string>(new SyncMapOptions { Name = mapName }), midway);

    private static SyncMap<int, string> Run(SyncMap<int, string> map, Action? midway)
    {
        for (int key = 0; key < 10; key++)
        {
            map.Store(key, $"v{key}");
        }

        for (int key = 0; key < 10; key++)
        {
            Assert.True(map.TryGetValue(key, out _));
        }

        Assert.True(map.Delete(3));
        map.Store(10, "v10");
        map.Store(11, "v11");
        map.Store(12, "v12");
        Assert.True(map.Delete(12));
        Assert.False(map.TryGetValue(12, out _));
        Assert.False(map.TryGetValue(99, out _));
        Assert.False(map.TryGetValue(3, out _));
        midway?.Invoke();

        int visited = 0;
        map.Range((_, _) =>
        {
            visited++;
            return true;
        });
        Assert.Equal(LiveKeys, visited);
        return map;
    }
}
