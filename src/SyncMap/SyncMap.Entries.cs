using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace SyncMapRegistry;

/// <summary>The sentinels of <see cref="Entry{TKey}"/>'s value slot, shared by every map (non-generic, so that shared generic code reads them without a dictionary lookup).</summary>
internal static class EntryState
{
    /// <summary>Marks an entry deleted and left out of its shard's next read snapshot.</summary>
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
/// The value slot lives in one of two sealed subclasses, chosen per map by its value type: <see cref="BoxedEntry{TKey}"/>
/// (an object slot) or <see cref="InlineEntry{TKey}"/> (a word, without the object slot). The slot <see cref="ValueSlot"/> is in one of four states:
/// <list type="bullet">
/// <item><c>null</c>: deleted. While a current snapshot holds the entry, a store may revive it without the lock.</item>
/// <item><see cref="EntryState.Expunged"/>: deleted, and left out of the snapshot that replaced the one holding it (a promotion
///   expunges it); so no current table holds it, and a writer that meets it looks again under the lock, where the key is absent.
///   Set only from <c>null</c>, while the shard's lock is held, and never cleared once the promotion that set it has published
///   (a promotion that fails before it publishes puts its entries back to <c>null</c>): an expunged entry is dead.</item>
/// <item><see cref="EntryState.NullValue"/>: live, and the stored value is <c>null</c> (a stored null is a value, not a deletion).</item>
/// <item>anything else: live; the value itself for a reference-type <c>TValue</c>, or its box for a value type.</item>
/// </list>
/// Every read of the slot is a volatile read and every write is a CAS or exchange, so a value is fully
/// published before any reader can observe it.
/// </remarks>
internal abstract class Entry<TKey>
{
    /// <summary>The key. Never changes.</summary>
    internal readonly TKey Key;

    /// <summary>
    /// The key's hash code under the map's comparer. Changes only when the map switches from non-randomized to
    /// randomized string hashing, with every shard's lock held, after the comparer; a reader that meets a changed code
    /// misses, and its miss path sees the new comparer and looks again under the lock.
    /// </summary>
    internal int HashCode;

    private protected Entry(TKey key, int hashCode)
    {
        Key = key;
        HashCode = hashCode;
    }

    /// <summary>
    /// The value slot of a map whose values are boxed (<see cref="BoxedEntry{TKey}"/>'s). Only such a map calls the
    /// members that use it, so the cast is not checked (a JIT-time constant, <c>Inline</c>, picks the members).
    /// </summary>
    private ref object? ValueSlot
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            Debug.Assert(this is BoxedEntry<TKey>, "A boxed-value member was called on an inline entry.");
            return ref Unsafe.As<BoxedEntry<TKey>>(this).P;
        }
    }

    /// <summary>
    /// The value slot of a map whose values are inline (<see cref="InlineEntry{TKey}"/>'s word). Only such a map calls
    /// the members that use it, so the cast is not checked.
    /// </summary>
    private ref long WordSlot
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            Debug.Assert(this is InlineEntry<TKey>, "An inline-value member was called on a boxed entry.");
            return ref Unsafe.As<InlineEntry<TKey>>(this).Word;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal object? Load() => Volatile.Read(ref ValueSlot);

    /// <summary>Attempts one CAS of the slot from <paramref name="comparand"/>; returns the slot's value before the attempt.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal object? CompareExchange(object? value, object? comparand) => Interlocked.CompareExchange(ref ValueSlot, value, comparand);

    /// <summary>
    /// Swaps in <paramref name="value"/> unless the entry is expunged (Go's <c>trySwap</c>).
    /// On failure the entry is unchanged and the caller must take the lock.
    /// </summary>
    internal bool TrySwap(object value, out object? previous)
    {
        object? p = Load();
        while (!ReferenceEquals(p, EntryState.Expunged))
        {
            object? seen = Interlocked.CompareExchange(ref ValueSlot, value, p);
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

    /// <summary>Swaps in <paramref name="value"/> unconditionally. The caller holds the lock and found the entry in a current table (never expunged).</summary>
    internal object? SwapLocked(object value) => Interlocked.Exchange(ref ValueSlot, value);

    /// <summary>Whether the entry is expunged. Stable once true.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool IsExpunged(bool inline) => inline ? LoadWord() == InlineWord.Expunged : ReferenceEquals(Load(), EntryState.Expunged);

    /// <summary>Marks a deleted entry expunged, so a promotion can leave it out of the new snapshot. Caller holds the lock.</summary>
    /// <returns><c>true</c> when the entry is (now) expunged.</returns>
    internal bool TryExpungeLocked(bool inline)
    {
        if (inline)
        {
            // A plain read first: a promotion looks at every entry of the shard, most of them live, and a CAS on each
            // would cost a locked instruction per entry.
            long w = LoadWord();
            if (w == InlineWord.Deleted)
            {
                w = Interlocked.CompareExchange(ref WordSlot, InlineWord.Expunged, InlineWord.Deleted);
            }

            return w is InlineWord.Deleted or InlineWord.Expunged;
        }

        object? p = Load();
        while (p is null)
        {
            p = Interlocked.CompareExchange(ref ValueSlot, EntryState.Expunged, null);
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
            object? seen = Interlocked.CompareExchange(ref ValueSlot, null, p);
            if (ReferenceEquals(seen, p))
            {
                return p;
            }

            p = seen;
        }

        return null;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal long LoadWord() => Volatile.Read(ref WordSlot);

    /// <summary>Attempts one CAS of the word from <paramref name="comparand"/>; returns the word before the attempt.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal long CompareExchangeWord(long value, long comparand) => Interlocked.CompareExchange(ref WordSlot, value, comparand);

    /// <summary><see cref="TrySwap"/> of a live word.</summary>
    internal bool TrySwapWord(long value, out long previous)
    {
        long w = LoadWord();
        while (w != InlineWord.Expunged)
        {
            long seen = Interlocked.CompareExchange(ref WordSlot, value, w);
            if (seen == w)
            {
                previous = w;
                return true;
            }

            w = seen;
        }

        previous = InlineWord.Deleted;
        return false;
    }

    /// <summary><see cref="SwapLocked"/> of a live word.</summary>
    internal long SwapWordLocked(long value) => Interlocked.Exchange(ref WordSlot, value);

    /// <summary><see cref="Delete"/> of an inline value: returns the live word it deleted, or <see cref="InlineWord.Deleted"/>.</summary>
    internal long DeleteWord()
    {
        long w = LoadWord();
        while (InlineWord.IsLive(w))
        {
            long seen = Interlocked.CompareExchange(ref WordSlot, InlineWord.Deleted, w);
            if (seen == w)
            {
                return w;
            }

            w = seen;
        }

        return InlineWord.Deleted;
    }
}

/// <summary>An entry of a map with boxed values: the value slot <see cref="P"/> holds the value, its box or a sentinel.</summary>
internal sealed class BoxedEntry<TKey>(TKey key, int hashCode, object? value) : Entry<TKey>(key, hashCode)
{
    /// <summary>The value slot, in the states of <see cref="Entry{TKey}"/>; accessed only through it.</summary>
    internal object? P = value;
}

/// <summary>
/// An entry of a map with inline values (<see cref="InlineWord"/>): the state and the value in one word, so that every
/// transition is one CAS of it, with the states and rules of the boxed slot. No object slot beside it, so an entry of an
/// <c>int</c> key takes 32 bytes.
/// </summary>
internal sealed class InlineEntry<TKey>(TKey key, int hashCode, long word) : Entry<TKey>(key, hashCode)
{
    /// <summary>The value word; accessed only through <see cref="Entry{TKey}"/>.</summary>
    internal long Word = word;
}

/// <summary>
/// The inline value slot of <see cref="Entry{TKey}"/>, for a value of at most 4 bytes without references: the value's
/// bits in the low 32 bits and the state above them, so that state and value change together in one CAS. The states
/// are <see cref="EntryState"/>'s: <see cref="Deleted"/> (Go's <c>nil</c>), <see cref="Expunged"/>, and live.
/// </summary>
internal static class InlineWord
{
    /// <summary>Deleted: a store may still revive it. The word is exactly 0, the value bits too.</summary>
    internal const long Deleted = 0;

    /// <summary>Deleted and left out of the next snapshot; set only under the shard's lock, from <see cref="Deleted"/>, and never cleared.</summary>
    internal const long Expunged = 2L << 32;

    /// <summary>The state bit of a live value.</summary>
    private const long LiveBit = 1L << 32;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool IsLive(long word) => (word & LiveBit) != 0;

    /// <summary>The live word of a value (whose type has at most 4 bytes and no references).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static long Of<TValue>(TValue value)
    {
        uint bits = 0;
        Unsafe.WriteUnaligned(ref Unsafe.As<uint, byte>(ref bits), value);
        return LiveBit | bits;
    }

    /// <summary>The value of a live word (little-endian: the value's bytes are the low ones).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static TValue ValueOf<TValue>(long word) => Unsafe.ReadUnaligned<TValue>(ref Unsafe.As<long, byte>(ref word));
}

// The value slot's transitions that need the map's value type (wrapping, unwrapping, and the multi-step CAS loops),
// beside the states they move between (EntryState, Entry, InlineWord above).
public sealed partial class SyncMap<TKey, TValue>
{
    /// <summary>Go's <c>tryLoadOrStore</c>: fails, leaving the entry unchanged, only when it is expunged.</summary>
    private static bool TryLoadOrStore(Entry<TKey> entry, TValue value, out TValue actual, out bool loaded)
    {
        if (Inline)
        {
            return TryLoadOrStoreWord(entry, value, out actual, out loaded);
        }

        object? p = entry.Load();
        object? boxed = null;
        while (!ReferenceEquals(p, EntryState.Expunged))
        {
            if (p is not null)
            {
                actual = Unwrap(p);
                loaded = true;
                return true;
            }

            boxed ??= Wrap(value);
            p = entry.CompareExchange(boxed, null);
            if (p is null)
            {
                actual = value;
                loaded = false;
                return true;
            }
        }

        actual = default!;
        loaded = false;
        return false;
    }

    /// <summary><see cref="TryLoadOrStore"/> of an inline value.</summary>
    private static bool TryLoadOrStoreWord(Entry<TKey> entry, TValue value, out TValue actual, out bool loaded)
    {
        long w = entry.LoadWord();
        while (w != InlineWord.Expunged)
        {
            if (w != InlineWord.Deleted)
            {
                actual = InlineWord.ValueOf<TValue>(w);
                loaded = true;
                return true;
            }

            w = entry.CompareExchangeWord(InlineWord.Of(value), InlineWord.Deleted);
            if (w == InlineWord.Deleted)
            {
                actual = value;
                loaded = false;
                return true;
            }
        }

        actual = default!;
        loaded = false;
        return false;
    }

    /// <summary>
    /// CASes a live value equal to <paramref name="expected"/> to <paramref name="value"/>, or to deleted when
    /// <paramref name="delete"/>. The replacement is boxed only once the comparison has passed.
    /// </summary>
    private bool TryCompareAndReplace(Entry<TKey> entry, TValue expected, TValue value, bool delete)
    {
        if (Inline)
        {
            return TryCompareAndReplaceWord(entry, expected, value, delete);
        }

        object? p = entry.Load();
        object? replacement = null;
        while (EntryState.IsLive(p) && _valueComparer.Equals(Unwrap(p), expected))
        {
            if (!delete)
            {
                replacement ??= Wrap(value);
            }

            object? seen = entry.CompareExchange(replacement, p);
            if (ReferenceEquals(seen, p))
            {
                return true;
            }

            p = seen;
        }

        return false;
    }

    /// <summary><see cref="TryCompareAndReplace"/> of an inline value.</summary>
    private bool TryCompareAndReplaceWord(Entry<TKey> entry, TValue expected, TValue value, bool delete)
    {
        long w = entry.LoadWord();
        while (InlineWord.IsLive(w) && _valueComparer.Equals(InlineWord.ValueOf<TValue>(w), expected))
        {
            long seen = entry.CompareExchangeWord(delete ? InlineWord.Deleted : InlineWord.Of(value), w);
            if (seen == w)
            {
                return true;
            }

            w = seen;
        }

        return false;
    }

    /// <summary>
    /// Whether values live inline in <see cref="Entry{TKey}"/>'s word (<see cref="InlineWord"/>) instead of boxed in its
    /// object slot: a value type of at most 4 bytes without references. A JIT-time constant, so each instantiation
    /// compiles only its own path; every other instantiation keeps the boxed slot.
    /// </summary>
    private static bool Inline
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => BitConverter.IsLittleEndian && !RuntimeHelpers.IsReferenceOrContainsReferences<TValue>() && Unsafe.SizeOf<TValue>() <= sizeof(int);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool TryLoad([NotNullWhen(true)] Entry<TKey>? entry, [MaybeNullWhen(false)] out TValue value)
    {
        if (entry is null)
        {
            value = default;
            return false;
        }

        return Inline ? TryUnwrap(entry.LoadWord(), out value) : TryUnwrap(entry.Load(), out value);
    }

    /// <summary>The value of an inline word, when it is live.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool TryUnwrap(long word, [MaybeNullWhen(false)] out TValue value)
    {
        if (InlineWord.IsLive(word))
        {
            value = InlineWord.ValueOf<TValue>(word);
            return true;
        }

        value = default;
        return false;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool TryUnwrap(object? p, [MaybeNullWhen(false)] out TValue value)
    {
        if (EntryState.IsLive(p))
        {
            value = Unwrap(p);
            return true;
        }

        value = default;
        return false;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static object Wrap(TValue value) => (object?)value ?? EntryState.NullValue;

    /// <summary>
    /// The value in a live slot. Only a <c>TValue</c> that can be null (a reference type or a nullable value
    /// type) can meet <see cref="EntryState.NullValue"/>; for other value types the test folds away. The slot's
    /// object is known to be a <c>TValue</c> or its box (only <see cref="Wrap"/> writes it), so a reference needs no cast check.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TValue Unwrap(object p)
    {
        if (default(TValue) is null && ReferenceEquals(p, EntryState.NullValue))
        {
            return default!;
        }

        if (!typeof(TValue).IsValueType)
        {
            return Unsafe.As<object, TValue>(ref p);
        }

        // A box of a non-nullable value type is laid out like a StrongBox<TValue> (the method table, then the value):
        // reading it that way skips the unbox type check, which only Wrap's own boxes could pass anyway. A nullable
        // TValue boxes as its underlying type, so it is unboxed the ordinary way.
        return default(TValue) is null ? (TValue)p : Unsafe.As<StrongBox<TValue>>(p).Value!;
    }
}
