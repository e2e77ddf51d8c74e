namespace SyncMapRegistry;

/// <summary>
/// A map's statistics counters, in an object of their own so that its telemetry can read them without
/// holding (or even knowing) the map. Written only on the map's slow paths, under one shard's lock or another's,
/// so every write is an interlocked one; readers anywhere read them with <c>Volatile.Read</c> and take no lock,
/// so an observer can never wait on the map.
/// </summary>
internal sealed class SyncMapCounters(PerThreadCounter? readHits)
{
    private long _promotions;
    private long _misses;
    private long _dirtyRebuilds;
    private long _rebuildEntriesCopied;
    private long _entriesExpunged;
    private long _dirtyHits;
    private long _lookupMisses;
    private int _readCount;
    private int _dirtyCount;

    /// <summary>Read-hit counts in per-thread cells; <c>null</c> unless the map counts read hits.</summary>
    internal PerThreadCounter? ReadHits { get; } = readHits;

    internal bool CountsReadHits => ReadHits is not null;

    /// <summary>Adds to the keys in read snapshots (deleted entries included) and to the keys pending in dirty maps.</summary>
    internal void AddSizes(int read, int dirty)
    {
        if (read != 0)
        {
            Interlocked.Add(ref _readCount, read);
        }

        if (dirty != 0)
        {
            Interlocked.Add(ref _dirtyCount, dirty);
        }
    }

    /// <summary>Sets both sizes; for a rebuild of the whole map, with every shard's lock held.</summary>
    internal void SetSizes(int read, int dirty)
    {
        Volatile.Write(ref _readCount, read);
        Volatile.Write(ref _dirtyCount, dirty);
    }

    internal void Promoted() => Interlocked.Increment(ref _promotions);

    internal void Missed() => Interlocked.Increment(ref _misses);

    internal void DirtyHit() => Interlocked.Increment(ref _dirtyHits);

    internal void LookupMissed() => Interlocked.Increment(ref _lookupMisses);

    internal void Rebuilt(int copied, int expunged)
    {
        Interlocked.Increment(ref _dirtyRebuilds);
        Interlocked.Add(ref _rebuildEntriesCopied, copied);
        if (expunged != 0)
        {
            Interlocked.Add(ref _entriesExpunged, expunged);
        }
    }

    /// <summary>The statistics now, without any lock.</summary>
    internal SyncMapStatistics Read() => new(
        Volatile.Read(ref _promotions),
        Volatile.Read(ref _misses),
        Volatile.Read(ref _dirtyRebuilds),
        Volatile.Read(ref _rebuildEntriesCopied),
        Volatile.Read(ref _entriesExpunged),
        Volatile.Read(ref _readCount),
        Volatile.Read(ref _dirtyCount),
        Volatile.Read(ref _dirtyHits),
        Volatile.Read(ref _lookupMisses),
        ReadHits?.Sum() ?? 0);
}
