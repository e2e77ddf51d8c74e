namespace SyncMapRegistry;

/// <summary>
/// A map's statistics counters, in an object of their own so that its telemetry can read them without
/// holding (or even knowing) the map. Written only on the map's slow paths, under one shard's lock or another's,
/// so every write is an interlocked one; readers anywhere read them with <c>Volatile.Read</c> and take no lock,
/// so an observer can never wait on the map.
/// </summary>
internal sealed class SyncMapCounters(PerThreadCounter? readHits, Func<(int Read, int Dirty)> sizes)
{
    private long _promotions;
    private long _entriesCopied;
    private long _entriesExpunged;
    private long _misses;
    private long _dirtyHits;
    private long _lookupMisses;

    /// <summary>Read-hit counts in per-thread cells; <c>null</c> unless the map counts read hits.</summary>
    internal PerThreadCounter? ReadHits { get; } = readHits;

    internal bool CountsReadHits => ReadHits is not null;

    /// <summary>Counts one promotion: the entries its new snapshot holds (all copied) and the deleted ones it expunged.</summary>
    internal void Promoted(int copied, int expunged)
    {
        Interlocked.Increment(ref _promotions);
        Interlocked.Add(ref _entriesCopied, copied);
        if (expunged != 0)
        {
            Interlocked.Add(ref _entriesExpunged, expunged);
        }
    }

    internal void Missed() => Interlocked.Increment(ref _misses);

    internal void DirtyHit() => Interlocked.Increment(ref _dirtyHits);

    internal void LookupMissed() => Interlocked.Increment(ref _lookupMisses);

    /// <summary>
    /// The statistics now, without any lock. The sizes are summed over the map's current shards (O(shards)) rather
    /// than counted on every new key: a shared count would be one more interlocked write, on a line that every thread
    /// adding keys contends for.
    /// </summary>
    internal SyncMapStatistics Read()
    {
        (int read, int dirty) = sizes();
        return new(
            Volatile.Read(ref _promotions),
            Volatile.Read(ref _entriesCopied),
            Volatile.Read(ref _entriesExpunged),
            Volatile.Read(ref _misses),
            read,
            dirty,
            ReadHits?.Sum() ?? 0,
            Volatile.Read(ref _dirtyHits),
            Volatile.Read(ref _lookupMisses));
    }
}
