using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace SyncMapRegistry;

/// <summary>
/// The value slot that a key's read-snapshot slot and dirty-map slot share (Go's <c>*entry</c>).
/// Because both tables point at the same <see cref="Entry"/>, a write through the read snapshot (a CAS
/// on the slot) is seen through the dirty map too, so most writes to existing keys take no lock.
/// </summary>
/// <remarks>
/// The slot <see cref="_p"/> is in one of four states:
/// <list type="bullet">
/// <item><c>null</c>: deleted. The key may still be in the dirty map, and a store may revive it without the lock.</item>
/// <item><see cref="Expunged"/>: deleted, and the key is absent from the dirty map (which is then non-null).
///   Only set (from <c>null</c>) and cleared (back to <c>null</c>) while the map's lock is held.</item>
/// <item><see cref="NullValue"/>: live, and the stored value is <c>null</c> (a stored null is a value, not a deletion).</item>
/// <item>anything else: live; the value itself for a reference-type <c>TValue</c>, or its box for a value type.</item>
/// </list>
/// Every read of the slot is a volatile read and every write is a CAS or exchange, so a value is fully
/// published before any reader can observe it.
/// </remarks>
internal sealed class Entry(object? value)
{
    /// <summary>Marks an entry deleted and left out of the dirty map.</summary>
    internal static readonly object Expunged = new();

    /// <summary>Stands for a live <c>null</c> value.</summary>
    internal static readonly object NullValue = new();

    private object? _p = value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal object? Load() => Volatile.Read(ref _p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool IsLive([NotNullWhen(true)] object? p) => p is not null && !ReferenceEquals(p, Expunged);

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
        while (!ReferenceEquals(p, Expunged))
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
    internal bool UnexpungeLocked() => ReferenceEquals(Interlocked.CompareExchange(ref _p, null, Expunged), Expunged);

    /// <summary>Marks a deleted entry expunged, so a dirty rebuild can leave it out. Caller holds the lock.</summary>
    /// <returns><c>true</c> when the entry is (now) expunged.</returns>
    internal bool TryExpungeLocked()
    {
        object? p = Load();
        while (p is null)
        {
            p = Interlocked.CompareExchange(ref _p, Expunged, null);
            if (p is null)
            {
                return true;
            }
        }

        return ReferenceEquals(p, Expunged);
    }

    /// <summary>Deletes a live value and returns it, or returns <c>null</c> when there was none.</summary>
    internal object? Delete()
    {
        object? p = Load();
        while (IsLive(p))
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
