
namespace SyncMapRegistry;

// The key comparer, and the once-per-map switch from non-randomized to randomized string hashing.
public sealed partial class SyncMap<TKey, TValue>
{
    /// <summary>
    /// The comparer the tables hash with: <c>null</c> for a value-type key with the default comparer, so the JIT can
    /// devirtualize it; <see cref="NonRandomizedStringComparer"/> for string keys with the default comparer, until a
    /// long probe sequence switches the map to the randomized default (<see cref="SwitchToRandomizedHashing"/>).
    /// Written only then, with every shard's lock and the directory lock held, after every shard's filter is saturated
    /// and before any entry is rehashed or the rehashed directory is published; loaded before the directory. See the
    /// publication protocol at the top of SyncMap.Shards.cs.
    /// </summary>
    private IEqualityComparer<TKey>? _keyComparer;

    /// <summary>
    /// Which read path <see cref="TryGetValue"/> takes, in one load and one compare. The inlined one serves exactly
    /// two cases, those whose hash and equality it inlines, and then counts nothing: a value-type key with the
    /// default comparer (this is <c>null</c>) and a string key with the non-randomized comparer (this is
    /// <see cref="NonRandomizedStringComparer.Instance"/>). Any other value sends the read out of line
    /// (<see cref="TryGetValueGeneral"/>): another comparer, or a map that counts read hits, which then holds
    /// <see cref="EqualityComparer{T}.Default"/> here. Written with <see cref="_keyComparer"/>, after it
    /// (<see cref="SetKeyComparer"/>), so that a reader that sees the inlined path's comparer here and misses finds
    /// out from <see cref="_keyComparer"/> whether it has changed since.
    /// </summary>
    private IEqualityComparer<TKey>? _inlineReadComparer;

    /// <summary>Probe sequences longer than this in a dirty table of non-randomized string hashes switch the map to randomized hashing.</summary>
    private const int MaximumNonRandomizedProbe = 64;

    /// <summary>
    /// Leaves non-randomized string hashing for the randomized default comparer: with every shard locked, rehashes
    /// every entry in place and publishes a fresh directory of promoted shards (each key in a snapshot, no dirty maps).
    /// O(n), once per map, and only when keys collide (as crafted keys would): the bounded-pause guarantee gives way to
    /// resistance against hash flooding, as in the BCL's dictionaries.
    /// </summary>
    /// <remarks>
    /// Lock-free operations go on meanwhile, on the old snapshots or the new ones, hashing with either comparer, and a
    /// key they do not find in a snapshot must not be reported absent while it is in the map. So the order is: first
    /// everything that can fail (allocations, hashing), with the map untouched; then every shard gets a filter of
    /// pending keys that may contain any key (<see cref="PendingKeys.Saturated"/>), then the comparer changes, and
    /// only then are entries rehashed and the new directory published. A reader that missed because it hashed with
    /// the other comparer, or because the entry it looked for was rehashed already, then finds the comparer changed
    /// or the key maybe pending (<see cref="MayBePending"/>), and looks again under the shard's lock, which it gets
    /// once the shard is retired and the new directory published. The read path pays nothing for this.
    /// </remarks>
    private void SwitchToRandomizedHashing()
    {
        Shard<TKey>[] shards = EnterAllShards();
        bool switched = false;
        try
        {
            if (_keyComparer is not NonRandomizedStringComparer)
            {
                // Another thread switched first.
                return;
            }

            EqualityComparer<TKey> randomized = EqualityComparer<TKey>.Default;
            var rehashed = new List<(Entry<TKey> Entry, int HashCode)>();
            for (int i = 0; i < shards.Length; i += shards.Length >> shards[i].Depth)
            {
                // A current shard's keys: its snapshot's (none expunged) and its dirty map's.
                foreach (Entry<TKey>? entry in shards[i].Slots.Concat(shards[i].Dirty?.Slots ?? []))
                {
                    if (entry is not null)
                    {
                        rehashed.Add((entry, randomized.GetHashCode(entry.Key)));
                    }
                }
            }

            int depth = 0;
            while (depth < MaximumDepth && rehashed.Count >> depth > SyncTable<TKey>.MaximumShardEntries / 2)
            {
                depth++;
            }

            int[] counts = new int[1 << depth];
            foreach ((_, int hashCode) in rehashed)
            {
                counts[SyncTable<TKey>.ShardIndex(hashCode, counts.Length)]++;
            }

            var tables = new SyncTable<TKey>[counts.Length];
            var newShards = new Shard<TKey>[counts.Length];
            var snapshots = new Entry<TKey>?[counts.Length][];
            for (int i = 0; i < counts.Length; i++)
            {
                tables[i] = new SyncTable<TKey>(counts[i]);
                newShards[i] = new Shard<TKey>(tables[i].Slots, counts[i], depth, i, dirty: null, pending: null);
                snapshots[i] = tables[i].Slots;
            }

            // From here on nothing allocates. The saturated filters, then the comparer, then the hash codes: see the
            // remarks. The barrier keeps the plain stores of the hash codes behind the volatile ones on any processor.
            // All under the directory lock, so that a walk loads its directory and the comparer that built it together
            // (LoadDirectory).
            lock (_directoryLock)
            {
                for (int i = 0; i < shards.Length; i += shards.Length >> shards[i].Depth)
                {
                    Volatile.Write(ref shards[i].Pending, PendingKeys.Saturated);
                }

                SetKeyComparer(randomized);
                Interlocked.MemoryBarrier();
                foreach ((Entry<TKey> entry, int hashCode) in rehashed)
                {
                    entry.HashCode = hashCode;
                    tables[SyncTable<TKey>.ShardIndex(hashCode, tables.Length)].Add(entry);
                }

                Publish(newShards, snapshots);
            }

            Stall(StallPoint.Published);

            switched = true;
        }
        finally
        {
            ExitAllShards(shards, retire: switched);
        }
    }

    /// <summary>
    /// Sets <see cref="_keyComparer"/>, then <see cref="_inlineReadComparer"/> from it: the same comparer when the inlined
    /// read path serves it and the map counts no read hits, else <see cref="EqualityComparer{T}.Default"/>, which is
    /// neither <c>null</c> nor the non-randomized string comparer. In the constructor, or with every shard's lock held.
    /// </summary>
    private void SetKeyComparer(IEqualityComparer<TKey>? comparer)
    {
        Volatile.Write(ref _keyComparer, comparer);
        bool inlined = typeof(TKey).IsValueType ? comparer is null : comparer is NonRandomizedStringComparer;
        Volatile.Write(ref _inlineReadComparer, inlined && _readHits is null ? comparer : EqualityComparer<TKey>.Default);
    }

    /// <summary>Whether the map has left non-randomized string hashing (for tests).</summary>
    internal bool HashesStringsRandomized => typeof(TKey) == typeof(string) && _keyComparer is not NonRandomizedStringComparer;
}
