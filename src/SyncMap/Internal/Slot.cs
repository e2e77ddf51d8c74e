using System.Runtime.InteropServices;

namespace SyncMapRegistry;

/// <summary>
/// One slot of a <see cref="SyncTable{TKey}"/>: an entry and its key's hash code (the tag), side by side, so that a probe
/// rejects a slot whose key has another hash code without loading the entry (as F14's and SwissTable's tags do). In a
/// map past the processor's caches each entry a probe loads is a cache miss of its own; four slots share a line.
/// </summary>
/// <remarks>
/// The tag is the entry's <see cref="Entry{TKey}.HashCode"/> when the slot was written, and it is never the only
/// evidence: a probe that finds a tag equal to its hash code compares the entry's key. So a slot read while a thread
/// that holds the shard's lock rewrites it (a dirty map's, read by <see cref="SyncTable{TKey}.FindLockFree"/>), whose
/// two fields may come from two writes, can cost a probe its answer (the caller then asks under the lock) but never
/// give a wrong one; and the switch to randomized hashing, which rewrites entries' hash codes, leaves the tags of the
/// published snapshots it replaces as they were, consistent with the comparer that built them.
/// </remarks>
[StructLayout(LayoutKind.Auto)]
internal struct Slot<TKey>
    where TKey : notnull
{
    /// <summary>The entry, or <c>null</c> for an empty slot. Written last (a release store) when a dirty map's slot is filled.</summary>
    internal Entry<TKey>? Entry;

    /// <summary>The entry's hash code when the slot was written; meaningless in an empty slot.</summary>
    internal int HashCode;

    internal Slot(Entry<TKey> entry)
    {
        Entry = entry;
        HashCode = entry.HashCode;
    }
}
