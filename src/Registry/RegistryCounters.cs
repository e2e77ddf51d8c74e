using SyncMapRegistry.Telemetry;
using static SyncMapRegistry.SyncMapRegistryTelemetry;

namespace SyncMapRegistry;

/// <summary>
/// The counters of one registry map. Lookups go to per-core striped cells (no shared write on the read path);
/// everything else is counted with <see cref="Interlocked"/> on write paths, which are rare.
/// </summary>
internal sealed class RegistryCounters : IObservedRegistry
{
    private readonly StripedCounter? _hits;
    private readonly StripedCounter? _misses;
    private int _count;
    private long _updates;
    private long _removals;
    private long _purged;
    private long _evicted;

    internal RegistryCounters(string name, bool countLookups)
    {
        Name = name;
        NameTag = new(Tags.Name, name);
        if (countLookups)
        {
            _hits = new StripedCounter();
            _misses = new StripedCounter();
        }

        RegistryInstrumentation.Observe(this);
    }

    public string Name { get; }

    /// <summary>The <c>syncmap.name</c> tag of this map's measurements.</summary>
    internal KeyValuePair<string, object?> NameTag { get; }

    public bool CountsLookups => _hits is not null;

    public long LookupHits => _hits?.Sum() ?? 0;

    public long LookupMisses => _misses?.Sum() ?? 0;

    /// <summary>Entries held: incremented when a key is added, decremented when one is removed.</summary>
    internal int Count => Math.Max(0, Volatile.Read(ref _count));

    internal void Hit() => _hits?.Increment();

    internal void Miss() => _misses?.Increment();

    /// <summary>Counts an update; <paramref name="added"/> when it added a key rather than replaced a value.</summary>
    /// <returns>The entry count after the update.</returns>
    internal int Updated(bool added)
    {
        Interlocked.Increment(ref _updates);
        return added ? Interlocked.Increment(ref _count) : Volatile.Read(ref _count);
    }

    internal void Removed()
    {
        Interlocked.Increment(ref _removals);
        Interlocked.Decrement(ref _count);
    }

    internal void Purged(int entries)
    {
        Interlocked.Add(ref _purged, entries);
        Interlocked.Add(ref _count, -entries);
    }

    internal void Evicted(int entries)
    {
        if (entries == 0)
        {
            return;
        }

        Interlocked.Add(ref _evicted, entries);
        Interlocked.Add(ref _count, -entries);
        RegistryInstrumentation.Evicted.Add(entries, NameTag);
    }

    internal void Cleared() => Volatile.Write(ref _count, 0);

    /// <summary>Resets the count to the map's real one, correcting drift left by a clear that raced with writers.</summary>
    internal void Recounted(int count) => Volatile.Write(ref _count, count);

    internal GrainRegistryStatistics Snapshot(SyncMapStatistics map) => new(
        Name,
        Count,
        LookupHits,
        LookupMisses,
        Interlocked.Read(ref _updates),
        Interlocked.Read(ref _removals),
        Interlocked.Read(ref _purged),
        Interlocked.Read(ref _evicted),
        map);
}
