using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace SyncMapRegistry;

/// <summary>
/// An open-addressing hash table of <see cref="Entry{TKey}"/> references, built for the read path: linear
/// probing over one array of 8-byte slots, each empty (<c>null</c>) or pointing at an entry that carries the key,
/// its hash code and the value slot, so a hit costs the slot and the entry's line.
/// </summary>
/// <remarks>
/// The same table serves as a shard's dirty map (the keys added since its snapshot was published, mutated only
/// under its shard's lock) and as its read snapshot, which a promotion builds from the old snapshot and the dirty map
/// (<see cref="Merge"/>). A table holds at most
/// <see cref="MaximumShardEntries"/> keys (beyond that its shard splits), so no table operation, allocation or
/// copy costs more than that bound.
/// The invariant that makes the lock-free read safe: <b>an array that has been published in a snapshot is never
/// written again</b>. Every mutation here happens on a dirty table whose array is not yet published; growth and
/// rebuilds allocate new arrays. The capacity is a power of two of at least 4, at most half full, so every probe
/// sequence ends at an empty slot. The home slot of a key comes from the top bits of one multiplicative mix
/// of its hash code (<see cref="HomeIndex"/>); its shard comes from the top bits of another (<see cref="ShardIndex"/>),
/// so the keys of one shard still spread over its table.
/// </remarks>
internal sealed class SyncTable<TKey> where TKey : notnull
{
    /// <summary>
    /// The most keys one table holds: a shard whose table would grow past it splits first. 1,024 keys make a
    /// table of at most 2,048 slots (16 KiB, far under the large-object heap's threshold), and a rebuild or
    /// split that copies tens of microseconds of work at most.
    /// </summary>
    internal const int MaximumShardEntries = 1_024;

    private const int MinimumCapacity = 4;

    /// <summary>Multiplier whose top bits pick a key's shard; independent of <see cref="HomeIndex"/>'s golden-ratio multiplier.</summary>
    private const int ShardMix = unchecked((int)0x85EBCA6B);

    /// <summary>Slots, a power-of-two count. Written only while this table is the (unpublished) dirty map.</summary>
    internal Entry<TKey>?[] Slots;

    /// <summary>Occupied slots.</summary>
    internal int Count;

    internal SyncTable(int capacity)
    {
        Slots = new Entry<TKey>?[CapacityFor(capacity)];
    }

    private SyncTable(Entry<TKey>?[] slots, int count)
    {
        Slots = slots;
        Count = count;
    }

    /// <summary>The slot array capacity that holds <paramref name="count"/> keys at most half full.</summary>
    private static int CapacityFor(int count) =>
        (int)Math.Max(MinimumCapacity, BitOperations.RoundUpToPowerOf2((uint)Math.Max(count, 1) * 2));

    /// <summary>
    /// The home slot of a hash code in a table of <paramref name="capacity"/> slots (a power of two of at least 4):
    /// the top bits of a Fibonacci mix, which spreads sequential keys and weak hashes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint HomeIndex(int hashCode, int capacity) =>
        (uint)(hashCode * -1640531527) >> (BitOperations.LeadingZeroCount((uint)capacity) + 1);

    /// <summary>
    /// The index of a hash code's shard in a directory of <paramref name="length"/> entries (a power of two, 1 included):
    /// the top log2(length) bits of <see cref="ShardMix"/>'s mix. A shard of depth d holds the keys that share the top
    /// d of those bits, so it covers a contiguous run of 2^(D-d) entries of a directory of depth D.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int ShardIndex(int hashCode, int length) =>
        (int)(((uint)(hashCode * ShardMix) >> 1) >> BitOperations.LeadingZeroCount((uint)length));

    /// <summary>Bit <paramref name="depth"/> (from the top) of the shard mix: which half of a shard of that depth the key goes to when it splits.</summary>
    internal static int SplitBit(int hashCode, int depth) => (int)(((uint)(hashCode * ShardMix) >> (31 - depth)) & 1);

    /// <summary>
    /// The key's hash code under the map's comparer. The two comparers of the read path are called directly, so that
    /// they inline: the default one of a value-type key (<paramref name="comparer"/> <c>null</c>) and the
    /// non-randomized string comparer; any other takes an interface call out of line.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int Hash(TKey key, IEqualityComparer<TKey>? comparer)
    {
        if (typeof(TKey).IsValueType && comparer is null)
        {
            return EqualityComparer<TKey>.Default.GetHashCode(key);
        }

        return !typeof(TKey).IsValueType && comparer is NonRandomizedStringComparer
            ? NonRandomizedStringComparer.Hash(Unsafe.As<TKey, string>(ref key))
            : HashWithComparer(key, comparer!);
    }

    // Kept out of line so that the default-comparer read path carries no call and no spills.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int HashWithComparer(TKey key, IEqualityComparer<TKey> comparer) => comparer.GetHashCode(key);

    /// <summary>
    /// Finds a key's entry in <paramref name="slots"/>. Lock-free and write-free: safe on a published
    /// snapshot from any thread. With the two comparers of the read path (<paramref name="comparer"/> <c>null</c> for
    /// a value-type key with the default comparer, or the non-randomized string comparer) the probe loop is inlined
    /// and calls nothing on a hit (the key's equality is devirtualized and inlined), so it keeps everything in
    /// registers; any other comparer takes the same loop out of line.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Entry<TKey>? Find(Entry<TKey>?[] slots, TKey key, int hashCode, IEqualityComparer<TKey>? comparer)
    {
        if ((typeof(TKey).IsValueType && comparer is null) || (!typeof(TKey).IsValueType && comparer is NonRandomizedStringComparer))
        {
            return Probe(slots, key, hashCode, comparer);
        }

        return FindWithComparer(slots, key, hashCode, comparer!);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Entry<TKey>? FindWithComparer(Entry<TKey>?[] slots, TKey key, int hashCode, IEqualityComparer<TKey> comparer) =>
        Probe(slots, key, hashCode, comparer);

    /// <summary>The probe loop of <see cref="Find(Entry{TKey}?[], TKey, int, IEqualityComparer{TKey}?)"/>: from the key's home to its entry or an empty slot.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Entry<TKey>? Probe(Entry<TKey>?[] slots, TKey key, int hashCode, IEqualityComparer<TKey>? comparer)
    {
        ref Entry<TKey>? first = ref MemoryMarshal.GetArrayDataReference(slots);
        uint index = HomeIndex(hashCode, slots.Length);
        while (true)
        {
            Entry<TKey>? entry = Unsafe.Add(ref first, index);
            if (entry is null || ((KeyIsItsOwnFilter(comparer) || entry.HashCode == hashCode) && KeyEquals(entry.Key, key, comparer)))
            {
                return entry;
            }

            index = (index + 1) & ((uint)slots.Length - 1);
        }
    }

    /// <summary>
    /// Whether the probe may compare keys without comparing stored hash codes first: a primitive key under its default
    /// comparer, whose equality is one compare of the key itself (as cheap as the hash compare it would skip, and on the
    /// same line of the entry). A JIT-time constant for a value-type key.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool KeyIsItsOwnFilter(IEqualityComparer<TKey>? comparer) =>
        (typeof(TKey) == typeof(int) || typeof(TKey) == typeof(uint) || typeof(TKey) == typeof(long) || typeof(TKey) == typeof(ulong) ||
         typeof(TKey) == typeof(short) || typeof(TKey) == typeof(ushort) || typeof(TKey) == typeof(byte) || typeof(TKey) == typeof(sbyte) ||
         typeof(TKey) == typeof(char) || typeof(TKey) == typeof(nint) || typeof(TKey) == typeof(nuint)) && comparer is null;

    /// <summary>Key equality under the map's comparer, with <see cref="Hash"/>'s direct calls for the read path's two comparers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool KeyEquals(TKey stored, TKey key, IEqualityComparer<TKey>? comparer)
    {
        if (typeof(TKey).IsValueType && comparer is null)
        {
            return EqualityComparer<TKey>.Default.Equals(stored, key);
        }

        return !typeof(TKey).IsValueType && comparer is NonRandomizedStringComparer
            ? ReferenceEquals(stored, key) || string.Equals(Unsafe.As<TKey, string>(ref stored), Unsafe.As<TKey, string>(ref key), StringComparison.Ordinal)
            : comparer!.Equals(stored, key);
    }

    internal Entry<TKey>? Find(TKey key, int hashCode, IEqualityComparer<TKey>? comparer) =>
        Find(Slots, key, hashCode, comparer);

    /// <summary>
    /// Finds a key's entry in this table, a dirty map, without its shard's lock while a thread that holds it may be
    /// adding, moving (backward shift) or removing entries, or growing the table. Only a found entry is an answer: the
    /// entry is its key's (its key compared equal) and was in the table when its slot was read; <c>null</c> may be
    /// wrong (a concurrent shift moved the entry behind the probe), and the probe gives up after one pass over the
    /// slots, which a concurrent writer could otherwise extend. Safe because every array this table has used stays
    /// valid (a resize publishes a new, filled array with a release store and never writes the old one again), and an
    /// entry is stored into a slot only once it is fully built (<see cref="Add"/>'s release store).
    /// </summary>
    internal Entry<TKey>? FindLockFree(TKey key, int hashCode, IEqualityComparer<TKey>? comparer)
    {
        Entry<TKey>?[] slots = Volatile.Read(ref Slots);
        uint mask = (uint)slots.Length - 1;
        uint index = HomeIndex(hashCode, slots.Length);
        for (int probed = 0; probed < slots.Length; probed++)
        {
            Entry<TKey>? entry = Volatile.Read(ref slots[index]);
            if (entry is null)
            {
                return null;
            }

            if (entry.HashCode == hashCode && KeyEquals(entry.Key, key, comparer))
            {
                return entry;
            }

            index = (index + 1) & mask;
        }

        return null;
    }

    /// <summary>Adds an entry whose key the caller knows is absent. Caller holds the shard's lock.</summary>
    internal void Add(Entry<TKey> entry)
    {
        if ((Count + 1) * 2 > Slots.Length)
        {
            Resize(Slots.Length * 2);
        }

        // A release store: a lock-free reader (FindLockFree) that sees the reference sees the entry whole.
        Entry<TKey>?[] slots = Slots;
        Volatile.Write(ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(slots), FreeSlot(slots, entry.HashCode)), entry);
        Count++;
    }

    /// <summary>How many slots past its home an entry of this table sits (0 at home). Caller holds the shard's lock.</summary>
    internal int ProbeLength(Entry<TKey> entry)
    {
        uint mask = (uint)Slots.Length - 1;
        uint index = HomeIndex(entry.HashCode, Slots.Length);
        int length = 0;
        while (!ReferenceEquals(Slots[index], entry))
        {
            index = (index + 1) & mask;
            length++;
        }

        return length;
    }

    /// <summary>Stores an entry absent from <paramref name="slots"/>, an array no reader sees yet, with a plain store.</summary>
    private static void AddUnique(Entry<TKey>?[] slots, Entry<TKey> entry) =>
        // Through a reference: an array of a class type takes a covariance check (a helper call) on every indexed store.
        Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(slots), FreeSlot(slots, entry.HashCode)) = entry;

    /// <summary>The first empty slot from <paramref name="hashCode"/>'s home, where an absent key of that hash code goes.</summary>
    private static uint FreeSlot(Entry<TKey>?[] slots, int hashCode)
    {
        uint mask = (uint)slots.Length - 1;
        uint index = HomeIndex(hashCode, slots.Length);
        while (slots[index] is not null)
        {
            index = (index + 1) & mask;
        }

        return index;
    }

    private void Resize(int capacity)
    {
        var slots = new Entry<TKey>?[capacity];
        foreach (Entry<TKey>? entry in Slots)
        {
            if (entry is not null)
            {
                AddUnique(slots, entry);
            }
        }

        // Filled before it is published: a lock-free reader (FindLockFree) loads Slots with an acquire.
        Volatile.Write(ref Slots, slots);
    }

    /// <summary>
    /// Removes a key and returns its entry, or <c>null</c> when absent. Caller holds the shard's lock.
    /// Uses backward-shift deletion, so no tombstones accumulate and the vacated slot drops its
    /// reference to the entry (deleted keys are not kept alive).
    /// </summary>
    internal Entry<TKey>? Remove(TKey key, int hashCode, IEqualityComparer<TKey>? comparer)
    {
        Entry<TKey>?[] slots = Slots;
        uint mask = (uint)slots.Length - 1;
        uint hole = HomeIndex(hashCode, slots.Length);
        while (true)
        {
            Entry<TKey>? entry = slots[hole];
            if (entry is null)
            {
                return null;
            }

            if (entry.HashCode == hashCode &&
                (typeof(TKey).IsValueType && comparer is null
                    ? EqualityComparer<TKey>.Default.Equals(entry.Key, key)
                    : comparer!.Equals(entry.Key, key)))
            {
                RemoveAt(hole);
                return entry;
            }

            hole = (hole + 1) & mask;
        }
    }

    /// <summary>Removes <paramref name="entry"/>, found by reference from its home, without calling the key comparer. Caller holds the shard's lock.</summary>
    private void RemoveEntry(Entry<TKey> entry)
    {
        Entry<TKey>?[] slots = Slots;
        uint mask = (uint)slots.Length - 1;
        uint index = HomeIndex(entry.HashCode, slots.Length);
        while (!ReferenceEquals(slots[index], entry))
        {
            Debug.Assert(slots[index] is not null, "The entry to remove is not in the table.");
            index = (index + 1) & mask;
        }

        RemoveAt(index);
    }

    /// <summary>Empties the occupied slot at <paramref name="hole"/> by backward-shift deletion.</summary>
    private void RemoveAt(uint hole)
    {
        Entry<TKey>?[] slots = Slots;
        uint mask = (uint)slots.Length - 1;
        uint next = hole;
        while (true)
        {
            next = (next + 1) & mask;
            Entry<TKey>? candidate = slots[next];
            if (candidate is null)
            {
                break;
            }

            // The candidate may fill the hole only if its home is not cyclically within (hole, next].
            uint home = HomeIndex(candidate.HashCode, slots.Length);
            bool homeBetween = hole <= next ? hole < home && home <= next : hole < home || home <= next;
            if (!homeBetween)
            {
                Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(slots), hole) = candidate;
                hole = next;
            }
        }

        Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(slots), hole) = null;
        Count--;
    }

    /// <summary>
    /// A promotion's new snapshot table: every entry of the read snapshot that is not deleted, plus every entry of
    /// <paramref name="added"/> (the keys added since, which the snapshot lacks). Deleted snapshot entries are CASed to
    /// expunged and left out, so a writer that still holds the old snapshot fails its lock-free CAS on them and looks
    /// again under the lock; <paramref name="inline"/> says which value slot the entries use. Caller holds the lock.
    /// O(snapshot + added), which <see cref="MaximumShardEntries"/> bounds.
    /// </summary>
    /// <remarks>
    /// When at most 16 entries are expunged and the snapshot's array has room for the added keys, the slot array is
    /// cloned as a block, the expunged entries are removed from the copy by backward shift and the added ones are
    /// inserted (no per-key probing for the survivors, one pass over the entries); otherwise every survivor is
    /// re-inserted into a right-sized table by its stored hash code, without calling the key comparer.
    /// </remarks>
    internal static SyncTable<TKey> Merge(Entry<TKey>?[] readSlots, int readCount, SyncTable<TKey> added, bool inline, out int expunged)
    {
        // The first few expunged entries are remembered, so that the clone below need not look at every entry again.
        const int Remembered = 16;
        Span<int> expungedSlots = stackalloc int[Remembered];
        expunged = 0;
        for (int i = 0; i < readSlots.Length; i++)
        {
            Entry<TKey>? entry = readSlots[i];
            if (entry is not null && entry.TryExpungeLocked(inline))
            {
                if (expunged < Remembered)
                {
                    expungedSlots[expunged] = i;
                }

                expunged++;
            }
        }

        int survivors = readCount - expunged;
        Debug.Assert(survivors >= 0, "Expunged more entries than the snapshot held.");
        int total = survivors + added.Count;
        SyncTable<TKey> table;
        if (expunged <= Remembered && total * 2 <= readSlots.Length)
        {
            // Few deletions: clone the block and take the expunged entries out of the copy by backward-shift
            // deletion, instead of re-inserting every survivor into a fresh table (random writes, O(n) probes).
            table = new SyncTable<TKey>((Entry<TKey>?[])readSlots.Clone(), readCount);
            foreach (int slot in expungedSlots[..expunged])
            {
                table.RemoveEntry(readSlots[slot]!);
            }
        }
        else
        {
            table = new SyncTable<TKey>(total) { Count = survivors };
            foreach (Entry<TKey>? entry in readSlots)
            {
                // Expunged stays expunged while the lock is held, so this second look agrees with the first.
                if (entry is not null && !entry.IsExpunged(inline))
                {
                    AddUnique(table.Slots, entry);
                }
            }
        }

        Debug.Assert(table.Count == survivors, "The copy lost or kept an entry it should not have.");
        foreach (Entry<TKey>? entry in added.Slots)
        {
            if (entry is not null)
            {
                AddUnique(table.Slots, entry);
            }
        }

        table.Count = total;
        return table;
    }

    /// <summary>
    /// Splits the occupied slots of <paramref name="source"/> by <see cref="SplitBit"/> at <paramref name="depth"/> into
    /// two new tables, keeping every entry as it is (deleted and expunged ones included). Caller holds the lock.
    /// O(source length), which <see cref="MaximumShardEntries"/> bounds.
    /// </summary>
    /// <param name="source">The slots to split.</param>
    /// <param name="depth">The depth of the shard that is split.</param>
    /// <param name="roomToGrow">
    /// Size each half for a full shard's keys (a dirty map, which keeps taking new keys until its shard is full) rather
    /// than for the keys it gets (a snapshot, which never grows). A dirty half sized to its keys would be exactly half
    /// full, and its next key would copy it again into a table twice the size.
    /// </param>
    internal static (SyncTable<TKey> Lower, SyncTable<TKey> Upper) Split(Entry<TKey>?[] source, int depth, bool roomToGrow)
    {
        int upperCount = 0;
        int count = 0;
        foreach (Entry<TKey>? entry in source)
        {
            if (entry is not null)
            {
                count++;
                upperCount += SplitBit(entry.HashCode, depth);
            }
        }

        var lower = new SyncTable<TKey>(roomToGrow ? MaximumShardEntries : count - upperCount);
        var upper = new SyncTable<TKey>(roomToGrow ? MaximumShardEntries : upperCount);
        foreach (Entry<TKey>? entry in source)
        {
            if (entry is not null)
            {
                SyncTable<TKey> half = SplitBit(entry.HashCode, depth) == 0 ? lower : upper;
                AddUnique(half.Slots, entry);
                half.Count++;
            }
        }

        return (lower, upper);
    }
}
