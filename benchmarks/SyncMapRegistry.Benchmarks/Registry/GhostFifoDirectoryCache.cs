using System.Diagnostics.CodeAnalysis;

namespace SyncMapRegistry.Benchmarks.Registry;

/// <summary>
/// A candidate eviction policy for the registry's cache, measured by the <c>hitratio</c> mode beside the cache as
/// shipped (random batch eviction). Like the shipped cache, a lookup is one <see cref="SyncMap{TKey, TValue}"/> read
/// and records nothing; the policy uses only what the write path knows, after 2Q (Johnson and Shasha) with first-in
/// first-out queues:
/// <list type="bullet">
/// <item>a new grain enters the probation queue, unless it was evicted recently (it is in the ghost set, the keys of
/// the last <c>capacity</c> evictions): then it was wanted again, and enters the protected queue;</item>
/// <item>over the cap, one walk evicts down to 98% of the cap: first the oldest probation entries beyond 5% of the
/// cap, then the oldest protected ones, by insertion number; every evicted key becomes a ghost.</item>
/// </list>
/// The shares were chosen with the <c>hitratio</c> mode (10% probation, 90% after eviction, ghosts from probation
/// only, and twice the ghosts all did worse).
/// </summary>
internal sealed class GhostFifoDirectoryCache(int capacity) : DirectoryCacheBase
{
    private const double LowWatermark = 0.98;
    private const double ProbationShare = 0.05;

    private readonly SyncMap<GrainId, Node> _map = new();

    // Guards the ghosts and the eviction walk; taken on the write path only.
    private readonly Lock _lock = new();

    // The keys of the last `capacity` evictions, oldest first; the set and the queue hold the same keys.
    private readonly Queue<GrainId> _ghostOrder = new();
    private readonly HashSet<GrainId> _ghosts = [];
    private long _inserted;
    private int _count;

    public override IEnumerable<(GrainAddress ActivationAddress, int Version)> KeyValues =>
        _map.Select(pair => (pair.Value.Address, pair.Value.Version));

    public override void AddOrUpdate(GrainAddress value, int version)
    {
        if (_map.TryGetValue(value.GrainId, out Node? current))
        {
            _map.Store(value.GrainId, new Node(value, version, current.Inserted, current.Protected));
            return;
        }

        bool wantedAgain;
        lock (_lock)
        {
            wantedAgain = _ghosts.Remove(value.GrainId);
        }

        var node = new Node(value, version, Interlocked.Increment(ref _inserted), wantedAgain);
        _map.LoadOrStore(value.GrainId, node, out bool loaded);
        if (!loaded && Interlocked.Increment(ref _count) > capacity)
        {
            Evict();
        }
    }

    public override bool LookUp(GrainId key, [NotNullWhen(true)] out GrainAddress? result, out int version) =>
        _map.TryGetValue(key, out Node? node) ? Hit((node.Address, node.Version), out result, out version) : Miss(out result, out version);

    public override bool Remove(GrainId key)
    {
        if (_map.Delete(key))
        {
            Interlocked.Decrement(ref _count);
            return true;
        }

        return false;
    }

    public override void Clear()
    {
        _map.Clear();
        Volatile.Write(ref _count, 0);
    }

    private void Evict()
    {
        lock (_lock)
        {
            int excess = Volatile.Read(ref _count) - (int)(capacity * LowWatermark);
            if (excess <= 0)
            {
                return;
            }

            List<KeyValuePair<GrainId, Node>> probation = [], protectedEntries = [];
            foreach (KeyValuePair<GrainId, Node> pair in _map)
            {
                (pair.Value.Protected ? protectedEntries : probation).Add(pair);
            }

            probation.Sort(static (a, b) => a.Value.Inserted.CompareTo(b.Value.Inserted));
            protectedEntries.Sort(static (a, b) => a.Value.Inserted.CompareTo(b.Value.Inserted));
            int probationQuota = (int)(capacity * ProbationShare);
            int next = 0;
            for (; excess > 0 && probation.Count - next > probationQuota; next++)
            {
                excess -= EvictToGhost(probation[next]);
            }

            for (int i = 0; excess > 0 && i < protectedEntries.Count; i++)
            {
                excess -= EvictToGhost(protectedEntries[i]);
            }

            for (; excess > 0 && next < probation.Count; next++)
            {
                excess -= EvictToGhost(probation[next]);
            }
        }
    }

    private int EvictToGhost(KeyValuePair<GrainId, Node> pair)
    {
        int deleted = Delete(pair);
        if (deleted == 1 && _ghosts.Add(pair.Key))
        {
            _ghostOrder.Enqueue(pair.Key);
            if (_ghostOrder.Count > capacity)
            {
                _ghosts.Remove(_ghostOrder.Dequeue());
            }
        }

        return deleted;
    }

    private int Delete(KeyValuePair<GrainId, Node> pair)
    {
        if (_map.CompareAndDelete(pair.Key, pair.Value))
        {
            Interlocked.Decrement(ref _count);
            return 1;
        }

        return 0;
    }

    /// <summary>A cached address, its insertion number, and whether it is in the protected queue; immutable.</summary>
    private sealed class Node(GrainAddress address, int version, long inserted, bool isProtected)
    {
        internal GrainAddress Address { get; } = address;

        internal int Version { get; } = version;

        internal long Inserted { get; } = inserted;

        internal bool Protected { get; } = isProtected;
    }
}
