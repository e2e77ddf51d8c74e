using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Numerics;

namespace SyncMapRegistry;

/// <summary>The places where a debug build lets a test stall a thread (<c>SyncMap.StallHook</c>, debug builds only).</summary>
internal enum StallPoint
{
    /// <summary>
    /// A directory has been published and the directory lock released, while the shards it replaces are still locked and
    /// not yet retired: after a promotion or a split (one shard), a clear or the switch to randomized hashing (all).
    /// </summary>
    Published,

    /// <summary>A shard's first new key since its promotion is making it amended (<c>AmendLocked</c>), between its two allocations. A hook that throws here stands for an out-of-memory there.</summary>
    Amending,

    /// <summary>A promotion has merged its tables (expunging deleted entries) and is about to publish. A hook that throws here stands for an out-of-memory there.</summary>
    Promoting,

    /// <summary>A walk's catch-up has loaded the key comparer and is about to load the directory of shards.</summary>
    CatchUpLoadedComparer,

    /// <summary>A walk's catch-up has taken a chunk under its shard's lock and released the lock; it has visited none of it yet.</summary>
    CatchUpTookChunk,
}

// Test seams and invariant checks. The stall hooks exist in debug builds only: their calls are compiled out of a
// release build ([Conditional("DEBUG")]), so the shipped map pays nothing for them.
public sealed partial class SyncMap<TKey, TValue>
{
#if DEBUG
    /// <summary>
    /// Called at each <see cref="StallPoint"/> on the thread that reaches it, so that a test can pin an interleaving
    /// (block the thread until another has done something). Debug builds only; <c>null</c> by default.
    /// </summary>
    internal Action<StallPoint>? StallHook;
#endif

    /// <summary>Lets a test stall this thread at <paramref name="point"/> (debug builds only).</summary>
    [Conditional("DEBUG")]
    [SuppressMessage("Performance", "CA1822:Mark members as static", Justification = "It reads the instance's hook in debug builds; a release build has no hook.")]
    private void Stall(StallPoint point)
    {
#if DEBUG
        StallHook?.Invoke(point);
#endif
    }

    /// <summary>The lock of the shard that holds <paramref name="key"/> now, for a test that holds it while another thread works (at a quiescent point: nothing may replace the shard meanwhile).</summary>
    internal Lock ShardLockOf(TKey key)
    {
        Shard<TKey> shard = EnterShard(key, out _);
        shard.Lock.Exit();
        return shard.Lock;
    }

    /// <summary>
    /// Checks the map's structural invariants and throws <see cref="InvalidOperationException"/> naming the first one
    /// broken. For tests, at a quiescent point (no operation running): it reads shards' state without their locks. O(n).
    /// </summary>
    internal void CheckInvariants()
    {
        Shard<TKey>[] shards = Volatile.Read(ref _shards);
        Entry<TKey>?[][] snapshots = Volatile.Read(ref _snapshots);
        IEqualityComparer<TKey>? comparer = _keyComparer;
        CheckDirectory(shards, snapshots);
        Check(ReferenceEquals(Volatile.Read(ref _singleSnapshot), snapshots.Length == 1 ? snapshots[0] : null), "the single snapshot is not the one-entry directory's, or is set for a longer one");
        for (int i = 0; i < shards.Length; i += shards.Length >> shards[i].Depth)
        {
            Shard<TKey> shard = shards[i];
            Check(!shard.Retired, $"the current shard at {i} is retired");
            Check((shard.Dirty is null) == (shard.Pending is null), $"shard {i} has a dirty map but no filter of pending keys, or the converse");
            Check(shard.Slots.Count(entry => entry is not null) == shard.Count, $"shard {i}'s count is not its snapshot's");
            foreach (Entry<TKey>? entry in shard.Slots.Concat(shard.Dirty?.Slots ?? []))
            {
                if (entry is null)
                {
                    continue;
                }

                Check(entry.HashCode == SyncTable<TKey>.Hash(entry.Key, comparer), $"{entry.Key}'s stored hash code is not its comparer's");
                Check(SyncTable<TKey>.ShardIndex(entry.HashCode, shards.Length) >> (BitOperations.Log2((uint)shards.Length) - shard.Depth) == shard.Prefix, $"{entry.Key} is outside its shard's run");
                Check(!entry.IsExpunged(Inline), $"the current shard at {i} holds {entry.Key} expunged");
            }

            if (shard.Dirty is { } dirty)
            {
                Check(dirty.Slots.Count(entry => entry is not null) == dirty.Count, $"shard {i}'s dirty count is not its table's");
                foreach (Entry<TKey>? entry in dirty.Slots)
                {
                    if (entry is not null)
                    {
                        Check(SyncTable<TKey>.Find(shard.Slots, entry.Key, entry.HashCode, comparer) is null, $"{entry.Key} is in both tables of shard {i}");
                        Check(shard.Pending!.MayContain(entry.HashCode), $"{entry.Key} is pending but not in its shard's filter");
                    }
                }
            }
        }
    }

    /// <summary>
    /// The directory's shape, which every publication keeps: two arrays of one power-of-two length, shard <c>i</c>'s
    /// snapshot at <c>i</c>, and each shard filling exactly the run of entries its depth and prefix name.
    /// </summary>
    private static void CheckDirectory(Shard<TKey>[] shards, Entry<TKey>?[][] snapshots)
    {
        Check(shards.Length == snapshots.Length && BitOperations.IsPow2(shards.Length), "the directory's arrays differ in length, or it is not a power of two");
        int depth = BitOperations.Log2((uint)shards.Length);
        for (int i = 0; i < shards.Length; i++)
        {
            Shard<TKey> shard = shards[i];
            Check(ReferenceEquals(shard.Slots, snapshots[i]), $"directory entry {i}'s snapshot is not its shard's");
            Check(shard.Depth <= depth && shard.Prefix == i >> (depth - shard.Depth), $"directory entry {i} holds a shard of another run");
        }
    }

    /// <summary><see cref="CheckDirectory"/> on a directory about to be published, in debug builds. Caller holds <see cref="_directoryLock"/>.</summary>
    [Conditional("DEBUG")]
    private static void AssertPublishable(Shard<TKey>[] shards, Entry<TKey>?[][] snapshots) => CheckDirectory(shards, snapshots);

    private static void Check([DoesNotReturnIf(false)] bool condition, string broken)
    {
        if (!condition)
        {
            throw new InvalidOperationException($"SyncMap invariant broken: {broken}.");
        }
    }
}
