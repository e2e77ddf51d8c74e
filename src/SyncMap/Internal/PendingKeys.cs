using System.Numerics;
using System.Runtime.CompilerServices;

namespace SyncMapRegistry;

/// <summary>
/// A Bloom filter over the hash codes of the keys added to the dirty map since the current snapshot's table
/// was published (the keys that make the snapshot <c>amended</c>). It lets a lookup of a key that is in neither
/// table answer "absent" without taking the lock: Go's design sends every such lookup under the lock while
/// new keys are pending, which is what makes its adversarial workloads slow.
/// </summary>
/// <remarks>
/// Invariant: a key's bits are set <b>before</b> the key is added to the dirty map, and bits are never cleared;
/// the filter is replaced only together with the snapshot, at a promotion, or by <see cref="Saturated"/>, which
/// contains every key. So a reader that finds a bit clear
/// knows the key was not pending at any moment since it loaded the snapshot, and may answer from the snapshot
/// alone. A set bit may be a false positive: the reader then takes the lock and looks in the dirty map exactly
/// as Go does. Only the holder of the shard's lock writes to a published filter, so a bit is set with a plain
/// read and a volatile write, no atomic instruction; the writer releases the lock before its operation returns,
/// and that release makes the bits visible to every thread that can know the key was added.
/// </remarks>
internal sealed class PendingKeys
{
    private const int MinimumBits = 4096;

    /// <summary>
    /// A filter that may contain every key, never written: the switch to randomized hashing gives it to every shard
    /// it retires, before it changes any hash code, so that a lookup that missed such a shard's snapshot takes the lock.
    /// </summary>
    internal static readonly PendingKeys Saturated = new(MinimumBits, saturated: true);

    private readonly ulong[] _words;

    /// <summary><c>32 - log2(bit count)</c>: turns a mixed hash into a bit position.</summary>
    private readonly int _shift;

    /// <summary>Sizes the filter at about four bits per key of the snapshot it amends (at least 4,096 bits).</summary>
    internal PendingKeys(int snapshotCount)
        : this(snapshotCount, saturated: false)
    {
    }

    private PendingKeys(int snapshotCount, bool saturated)
    {
        int bits = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Clamp(snapshotCount * 4L, MinimumBits, 1 << 30));
        _words = new ulong[bits / 64];
        _shift = 32 - BitOperations.Log2((uint)bits);
        if (saturated)
        {
            Array.Fill(_words, ulong.MaxValue);
        }
    }

    /// <summary>
    /// A filter for a shard whose snapshot holds <paramref name="snapshotCount"/> keys and whose dirty map is
    /// <paramref name="dirty"/>, holding the dirty map's keys; <c>null</c> when there is no dirty map (the shard is not
    /// amended). For a shard about to be published, whose filter no reader has seen yet.
    /// </summary>
    internal static PendingKeys? Of<TKey>(int snapshotCount, Entry<TKey>?[]? dirty)
    {
        if (dirty is null)
        {
            return null;
        }

        var pending = new PendingKeys(snapshotCount);
        foreach (Entry<TKey>? entry in dirty)
        {
            if (entry is not null)
            {
                pending.Add(entry.HashCode);
            }
        }

        return pending;
    }

    /// <summary>Records a key that is about to be added to the dirty map. Caller holds the shard's lock (the filter's one writer).</summary>
    internal void Add(int hashCode)
    {
        (uint first, uint second) = Positions(hashCode);
        Set(first);
        Set(second);
    }

    /// <summary>Whether a key with this hash code may be pending. <c>false</c> is certain; <c>true</c> may be a false positive.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool MayContain(int hashCode)
    {
        (uint first, uint second) = Positions(hashCode);
        return (Volatile.Read(ref _words[first >> 6]) & (1UL << (int)(first & 63))) != 0
            && (Volatile.Read(ref _words[second >> 6]) & (1UL << (int)(second & 63))) != 0;
    }

    private void Set(uint bit)
    {
        ref ulong word = ref _words[bit >> 6];
        Volatile.Write(ref word, word | (1UL << (int)(bit & 63)));
    }

    /// <summary>Two bit positions from independent multiplicative mixes of the hash code.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private (uint First, uint Second) Positions(int hashCode) =>
        ((uint)(hashCode * -1640531527) >> _shift, (uint)(hashCode * 0x2545F491) >> _shift);
}
