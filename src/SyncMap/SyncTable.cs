using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace SyncMapRegistry;

/// <summary>One slot of a <see cref="SyncTable{TKey}"/>: the key, its hash code and its shared <see cref="Entry"/>.</summary>
/// <remarks>A slot is empty when <see cref="Entry"/> is <c>null</c>.</remarks>
internal struct Slot<TKey>
{
    internal int HashCode;
    internal TKey Key;
    internal Entry? Entry;
}

/// <summary>
/// An open-addressing hash table from keys to <see cref="Entry"/> references, built for the read path:
/// linear probing over one array of slots that carry the hash code beside the key and the entry inline,
/// so a hit costs the slot's cache line plus the entry.
/// </summary>
/// <remarks>
/// The same table serves as the dirty map (mutated only under the map's lock) and, once promoted, as
/// the read snapshot: promotion hands over <see cref="Slots"/> without copying. The invariant that makes
/// the lock-free read safe: <b>an array that has been published in a snapshot is never written again</b>.
/// Every mutation here happens on a dirty table whose array is not yet published; growth and rebuilds
/// allocate new arrays. The capacity is a power of two of at least 4, at most half full, so every probe
/// sequence ends at an empty slot.
/// </remarks>
internal sealed class SyncTable<TKey> where TKey : notnull
{
    private const int MinimumCapacity = 4;

    /// <summary>Slots, a power-of-two count. Written only while this table is the (unpublished) dirty map.</summary>
    internal Slot<TKey>[] Slots;

    /// <summary><c>32 - log2(Slots.Length)</c>: the shift that turns a Fibonacci-mixed hash into a home index.</summary>
    internal int Shift;

    /// <summary>Occupied slots.</summary>
    internal int Count;

    internal SyncTable(int capacity)
    {
        capacity = CapacityFor(capacity);
        Slots = new Slot<TKey>[capacity];
        Shift = ShiftFor(capacity);
    }

    private SyncTable(Slot<TKey>[] slots, int count)
    {
        Slots = slots;
        Shift = ShiftFor(slots.Length);
        Count = count;
    }

    /// <summary>The slot array capacity that holds <paramref name="count"/> keys at most half full.</summary>
    private static int CapacityFor(int count) =>
        (int)Math.Max(MinimumCapacity, BitOperations.RoundUpToPowerOf2((uint)Math.Max(count, 1) * 2));

    private static int ShiftFor(int capacity) => 32 - BitOperations.Log2((uint)capacity);

    /// <summary>The home slot of a hash code: Fibonacci hashing spreads sequential keys and weak hashes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint HomeIndex(int hashCode, int shift) => (uint)(hashCode * -1640531527) >> shift;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int Hash(TKey key, IEqualityComparer<TKey>? comparer) =>
        typeof(TKey).IsValueType && comparer is null
            ? EqualityComparer<TKey>.Default.GetHashCode(key)
            : HashWithComparer(key, comparer!);

    // Kept out of line so that the default-comparer read path carries no call and no spills.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int HashWithComparer(TKey key, IEqualityComparer<TKey> comparer) => comparer.GetHashCode(key);

    /// <summary>
    /// Finds a key's entry in <paramref name="slots"/>. Lock-free and write-free: safe on a published
    /// snapshot from any thread. <paramref name="comparer"/> is <c>null</c> only for a value-type key with
    /// the default comparer: that loop has no calls (the JIT devirtualizes and inlines the key's equality),
    /// so it keeps everything in registers; a custom comparer takes a separate loop.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Entry? Find(Slot<TKey>[] slots, int shift, TKey key, int hashCode, IEqualityComparer<TKey>? comparer)
    {
        if (!typeof(TKey).IsValueType || comparer is not null)
        {
            return FindWithComparer(slots, shift, key, hashCode, comparer!);
        }

        ref Slot<TKey> first = ref MemoryMarshal.GetArrayDataReference(slots);
        uint index = HomeIndex(hashCode, shift);
        while (true)
        {
            ref Slot<TKey> slot = ref Unsafe.Add(ref first, index);
            Entry? entry = slot.Entry;
            if (entry is null || (slot.HashCode == hashCode && EqualityComparer<TKey>.Default.Equals(slot.Key, key)))
            {
                return entry;
            }

            index = (index + 1) & ((uint)slots.Length - 1);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Entry? FindWithComparer(Slot<TKey>[] slots, int shift, TKey key, int hashCode, IEqualityComparer<TKey> comparer)
    {
        ref Slot<TKey> first = ref MemoryMarshal.GetArrayDataReference(slots);
        uint index = HomeIndex(hashCode, shift);
        while (true)
        {
            ref Slot<TKey> slot = ref Unsafe.Add(ref first, index);
            Entry? entry = slot.Entry;
            if (entry is null || (slot.HashCode == hashCode && comparer.Equals(slot.Key, key)))
            {
                return entry;
            }

            index = (index + 1) & ((uint)slots.Length - 1);
        }
    }

    internal Entry? Find(TKey key, int hashCode, IEqualityComparer<TKey>? comparer) =>
        Find(Slots, Shift, key, hashCode, comparer);

    /// <summary>Adds a key that the caller knows is absent. Caller holds the map's lock.</summary>
    internal void Add(TKey key, int hashCode, Entry entry)
    {
        if ((Count + 1) * 2 > Slots.Length)
        {
            Resize(Slots.Length * 2);
        }

        AddUnique(Slots, Shift, hashCode, key, entry);
        Count++;
    }

    private static void AddUnique(Slot<TKey>[] slots, int shift, int hashCode, TKey key, Entry entry)
    {
        uint mask = (uint)slots.Length - 1;
        uint index = HomeIndex(hashCode, shift);
        while (slots[index].Entry is not null)
        {
            index = (index + 1) & mask;
        }

        ref Slot<TKey> slot = ref slots[index];
        slot.HashCode = hashCode;
        slot.Key = key;
        slot.Entry = entry;
    }

    private void Resize(int capacity)
    {
        var slots = new Slot<TKey>[capacity];
        int shift = ShiftFor(capacity);
        foreach (ref readonly Slot<TKey> slot in Slots.AsSpan())
        {
            if (slot.Entry is not null)
            {
                AddUnique(slots, shift, slot.HashCode, slot.Key, slot.Entry);
            }
        }

        Slots = slots;
        Shift = shift;
    }

    /// <summary>
    /// Removes a key and returns its entry, or <c>null</c> when absent. Caller holds the map's lock.
    /// Uses backward-shift deletion, so no tombstones accumulate and the vacated slot drops its
    /// references to the key and entry (deleted keys are not kept alive).
    /// </summary>
    internal Entry? Remove(TKey key, int hashCode, IEqualityComparer<TKey>? comparer)
    {
        Slot<TKey>[] slots = Slots;
        uint mask = (uint)slots.Length - 1;
        uint hole = HomeIndex(hashCode, Shift);
        while (true)
        {
            ref Slot<TKey> slot = ref slots[hole];
            if (slot.Entry is null)
            {
                return null;
            }

            if (slot.HashCode == hashCode &&
                (typeof(TKey).IsValueType && comparer is null
                    ? EqualityComparer<TKey>.Default.Equals(slot.Key, key)
                    : comparer!.Equals(slot.Key, key)))
            {
                break;
            }

            hole = (hole + 1) & mask;
        }

        Entry removed = slots[hole].Entry!;
        RemoveAt(hole);
        return removed;
    }

    /// <summary>
    /// Removes the slot that holds <paramref name="entry"/>, found by reference from the home of
    /// <paramref name="hashCode"/>, without calling the key comparer. Caller holds the map's lock.
    /// </summary>
    private void RemoveEntry(int hashCode, Entry entry)
    {
        Slot<TKey>[] slots = Slots;
        uint mask = (uint)slots.Length - 1;
        uint index = HomeIndex(hashCode, Shift);
        while (!ReferenceEquals(slots[index].Entry, entry))
        {
            Debug.Assert(slots[index].Entry is not null, "The entry to remove is not in the table.");
            index = (index + 1) & mask;
        }

        RemoveAt(index);
    }

    /// <summary>Empties the occupied slot at <paramref name="hole"/> by backward-shift deletion.</summary>
    private void RemoveAt(uint hole)
    {
        Slot<TKey>[] slots = Slots;
        uint mask = (uint)slots.Length - 1;
        uint next = hole;
        while (true)
        {
            next = (next + 1) & mask;
            ref Slot<TKey> candidate = ref slots[next];
            if (candidate.Entry is null)
            {
                break;
            }

            // The candidate may fill the hole only if its home is not cyclically within (hole, next].
            uint home = HomeIndex(candidate.HashCode, Shift);
            bool homeBetween = hole <= next ? hole < home && home <= next : hole < home || home <= next;
            if (!homeBetween)
            {
                slots[hole] = candidate;
                hole = next;
            }
        }

        slots[hole] = default;
        Count--;
    }

    /// <summary>
    /// Go's <c>dirtyLocked</c> copy: a new dirty table holding every entry of the read snapshot that is not
    /// deleted. Deleted entries are CASed to <see cref="Entry.Expunged"/> and left out. Caller holds the lock.
    /// </summary>
    /// <remarks>
    /// When at most 16 entries are expunged and the copy has room for one more key, the slot array is cloned
    /// as a block and the expunged entries are removed from the copy by backward shift (no per-key probing for
    /// the survivors, one pass over the entries); otherwise the survivors are re-inserted into a right-sized table by their stored hash
    /// codes, without calling the key comparer.
    /// </remarks>
    internal static SyncTable<TKey> RebuildFrom(Slot<TKey>[] readSlots, int readCount, out int expunged)
    {
        // The first few expunged slots are remembered, so that the clone below need not look at every entry again.
        const int Remembered = 16;
        Span<int> expungedSlots = stackalloc int[Remembered];
        expunged = 0;
        for (int i = 0; i < readSlots.Length; i++)
        {
            Entry? entry = readSlots[i].Entry;
            if (entry is not null && entry.TryExpungeLocked())
            {
                if (expunged < Remembered)
                {
                    expungedSlots[expunged] = i;
                }

                expunged++;
            }
        }

        int survivors = readCount - expunged;
        if (expunged <= Remembered && (survivors + 1) * 2 <= readSlots.Length)
        {
            // Few deletions: clone the block and take the expunged entries out of the copy by backward-shift
            // deletion, instead of re-inserting every survivor into a fresh table (random writes, O(n) probes).
            var clone = new SyncTable<TKey>((Slot<TKey>[])readSlots.Clone(), readCount);
            foreach (int slot in expungedSlots[..expunged])
            {
                clone.RemoveEntry(readSlots[slot].HashCode, readSlots[slot].Entry!);
            }

            Debug.Assert(clone.Count == survivors, "The clone lost or kept an entry it should not have.");
            return clone;
        }

        var table = new SyncTable<TKey>(survivors + 1);
        foreach (ref readonly Slot<TKey> slot in readSlots.AsSpan())
        {
            // Expunged stays expunged while the lock is held, so this second look agrees with the first.
            if (slot.Entry is not null && !ReferenceEquals(slot.Entry.Load(), Entry.Expunged))
            {
                AddUnique(table.Slots, table.Shift, slot.HashCode, slot.Key, slot.Entry);
            }
        }

        table.Count = survivors;
        Debug.Assert(survivors >= 0, "Expunged more entries than the snapshot held.");
        return table;
    }
}
