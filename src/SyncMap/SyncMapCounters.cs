namespace SyncMapRegistry;

/// <summary>
/// A map's statistics counters, in an object of their own so that its telemetry can read them without
/// holding (or even knowing) the map. Every field is written only by the map with its lock held, through
/// <c>Volatile.Write</c>; readers anywhere read them with <c>Volatile.Read</c>
/// and take no lock, so an observer can never wait on the map.
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

    /// <summary>Keys in the read snapshot (caller holds the map's lock).</summary>
    internal int ReadCountLocked
    {
        get => _readCount;
        set => Volatile.Write(ref _readCount, value);
    }

    /// <summary>Keys in the dirty map (caller holds the map's lock).</summary>
    internal int DirtyCountLocked
    {
        get => _dirtyCount;
        set => Volatile.Write(ref _dirtyCount, value);
    }

    internal void PromotedLocked() => Volatile.Write(ref _promotions, _promotions + 1);

    internal void MissedLocked() => Volatile.Write(ref _misses, _misses + 1);

    internal void DirtyHitLocked() => Volatile.Write(ref _dirtyHits, _dirtyHits + 1);

    internal void LookupMissedLocked() => Volatile.Write(ref _lookupMisses, _lookupMisses + 1);

    internal void RebuiltLocked(int copied, int expunged)
    {
        Volatile.Write(ref _dirtyRebuilds, _dirtyRebuilds + 1);
        Volatile.Write(ref _rebuildEntriesCopied, _rebuildEntriesCopied + copied);
        Volatile.Write(ref _entriesExpunged, _entriesExpunged + expunged);
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
