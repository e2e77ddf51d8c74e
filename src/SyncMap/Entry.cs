using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace SyncMapRegistry;

/// <summary>The sentinels of <see cref="Entry{TKey}"/>'s value slot, shared by every map (non-generic, so that shared generic code reads them without a dictionary lookup).</summary>
internal static class EntryState
{
    /// <summary>Marks an entry deleted and left out of the dirty map.</summary>
    internal static readonly object Expunged = new();

    /// <summary>Stands for a live <c>null</c> value.</summary>
    internal static readonly object NullValue = new();

    /// <summary>Whether a value slot's content is a live value (neither deleted nor expunged).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool IsLive([NotNullWhen(true)] object? p) => p is not null && !ReferenceEquals(p, Expunged);
}

/// <summary>
/// A key, its hash code and its value slot, which a shard's read snapshot and dirty map share (Go's <c>*entry</c>,
/// with the key beside it). Because both tables point at the same entry, a write through the read snapshot (a CAS
/// on the slot) is seen through the dirty map too, so most writes to existing keys take no lock. The tables hold
/// only references to entries (8 bytes a slot), so a hit reads the table's slot, then this object: the key, the
/// hash code and the value on one cache line.
/// </summary>
/// <remarks>
/// The slot <see cref="_p"/> is in one of four states:
/// <list type="bullet">
/// <item><c>null</c>: deleted. The key may still be in the dirty map, and a store may revive it without the lock.</item>
/// <item><see cref="EntryState.Expunged"/>: deleted, and the key is absent from the dirty map (which is then non-null).
///   Only set (from <c>null</c>) and cleared (back to <c>null</c>) while the map's lock is held.</item>
/// <item><see cref="EntryState.NullValue"/>: live, and the stored value is <c>null</c> (a stored null is a value, not a deletion).</item>
/// <item>anything else: live; the value itself for a reference-type <c>TValue</c>, or its box for a value type.</item>
/// </list>
/// Every read of the slot is a volatile read and every write is a CAS or exchange, so a value is fully
/// published before any reader can observe it.
/// </remarks>
internal sealed class Entry<TKey>(TKey key, int hashCode, object? value)
{
    /// <summary>The key. Never changes.</summary>
    internal readonly TKey Key = key;

    /// <summary>
    /// The key's hash code under the map's comparer. Changes only when the map switches from non-randomized to
    /// randomized string hashing, under the map's lock; a reader that meets a changed code misses, and its miss
    /// path sees the new comparer and looks again under the lock.
    /// </summary>
    internal int HashCode = hashCode;

    private object? _p = value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal object? Load() => Volatile.Read(ref _p);


    /// <summary>Attempts one CAS of the slot from <paramref name="comparand"/>; returns the slot's value before the attempt.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal object? CompareExchange(object? value, object? comparand) => Interlocked.CompareExchange(ref _p, value, comparand);

    /// <summary>
    /// Swaps in <paramref name="value"/> unless the entry is expunged (Go's <c>trySwap</c>).
    /// On failure the entry is unchanged and the caller must take the lock.
    /// </summary>
    internal bool TrySwap(object value, out object? previous)
    {
        object? p = Load();
        while (!ReferenceEquals(p, EntryState.Expunged))
        {
            object? seen = Interlocked.CompareExchange(ref _p, value, p);
            if (ReferenceEquals(seen, p))
            {
                previous = p;
                return true;
            }

            p = seen;
        }

        previous = null;
        return false;
    }

    /// <summary>Swaps in <paramref name="value"/> unconditionally. The caller holds the lock and has unexpunged the entry.</summary>
    internal object? SwapLocked(object value) => Interlocked.Exchange(ref _p, value);

    /// <summary>Turns an expunged entry back into a deleted one, so the caller can put it into dirty again. Caller holds the lock.</summary>
    internal bool UnexpungeLocked() => ReferenceEquals(Interlocked.CompareExchange(ref _p, null, EntryState.Expunged), EntryState.Expunged);

    /// <summary>Marks a deleted entry expunged, so a dirty rebuild can leave it out. Caller holds the lock.</summary>
    /// <returns><c>true</c> when the entry is (now) expunged.</returns>
    internal bool TryExpungeLocked()
    {
        object? p = Load();
        while (p is null)
        {
            p = Interlocked.CompareExchange(ref _p, EntryState.Expunged, null);
            if (p is null)
            {
                return true;
            }
        }

        return ReferenceEquals(p, EntryState.Expunged);
    }

    /// <summary>Deletes a live value and returns it, or returns <c>null</c> when there was none.</summary>
    internal object? Delete()
    {
        object? p = Load();
        while (EntryState.IsLive(p))
        {
            object? seen = Interlocked.CompareExchange(ref _p, null, p);
            if (ReferenceEquals(seen, p))
            {
                return p;
            }

            p = seen;
        }

        return null;
    }
}
