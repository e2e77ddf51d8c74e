using System.Collections;

namespace SyncMapRegistry;

// The struct enumerator (foreach), a lazy walk with Range's semantics.
public sealed partial class SyncMap<TKey, TValue>
{
    /// <summary>Enumerates live entries with <see cref="Range"/>'s semantics. The struct enumerator allocates nothing.</summary>
    public Enumerator GetEnumerator() => new(this);


    IEnumerator<KeyValuePair<TKey, TValue>> IEnumerable<KeyValuePair<TKey, TValue>>.GetEnumerator() => GetEnumerator();


    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>A struct enumerator over live entries with <see cref="Range"/>'s semantics.</summary>
    /// <remarks>
    /// It walks the directory of snapshots loaded when it starts, shard by shard. At the end of a shard's snapshot, if
    /// the shard may have gained keys since (pending keys, or a promotion or split by another thread), it catches up:
    /// it promotes the shards that now cover the same range (<see cref="CatchUpSnapshot"/>) and walks their snapshots,
    /// skipping the keys the first snapshot holds (visited, or deleted during the walk). A key stays in its range of
    /// the directory, which only gets finer while the comparer cannot change, so no key is visited twice. A map whose
    /// comparer may still switch to randomized hashing (string keys) is promoted as a whole before the walk instead
    /// (<see cref="LoadForRange"/>), and its walk never catches up.
    /// </remarks>
    public struct Enumerator : IEnumerator<KeyValuePair<TKey, TValue>>
    {
        /// <summary>The map, for catching up; <c>null</c> when the whole map was promoted before the walk.</summary>
        private readonly SyncMap<TKey, TValue>? _map;

        /// <summary>The directory of snapshots loaded once; each shard's snapshot fills a run of equal entries.</summary>
        private readonly Entry<TKey>?[][] _snapshots;

        /// <summary>The comparer of the walked snapshots' hash codes: the map's, which cannot change while <see cref="_map"/> is set.</summary>
        private readonly IEqualityComparer<TKey>? _comparer;

        /// <summary>The current run of <see cref="_snapshots"/>: entries [<see cref="_shard"/>, <see cref="_end"/>), snapshot <see cref="_slots"/>.</summary>
        private int _shard;
        private int _end;
        private Entry<TKey>?[] _slots;
        private int _index;

        /// <summary>The snapshot being caught up with after <see cref="_slots"/>, or <c>null</c>; its position, and the catch-up's (see <see cref="CatchUpSnapshot"/>).</summary>
        private Entry<TKey>?[]? _catchUp;
        private int _catchUpIndex;
        private int _next;
        private int _length;

        private KeyValuePair<TKey, TValue> _current;

        /// <summary>Set once <see cref="MoveNext"/> has returned <c>false</c>: later calls return <c>false</c> too, and catch up with nothing.</summary>
        private bool _done;

        internal Enumerator(SyncMap<TKey, TValue> map)
        {
            // Only the non-randomized string comparer is ever replaced (once, by the randomized one).
            bool lazy = Volatile.Read(ref map._keyComparer) is not NonRandomizedStringComparer;
            _map = lazy ? map : null;
            _comparer = null;
            _snapshots = lazy ? map.LoadDirectory(out _comparer) : map.LoadForRange();
            _shard = 0;
            _end = RunEnd(_snapshots, 0);
            _slots = _snapshots[0];
            _index = -1;
            _catchUp = null;
            _catchUpIndex = -1;
            _next = 0;
            _length = 0;
            _current = default;
            _done = false;
        }

        /// <inheritdoc/>
        public readonly KeyValuePair<TKey, TValue> Current => _current;

        readonly object IEnumerator.Current => _current;

        /// <inheritdoc/>
        public bool MoveNext()
        {
            while (!_done)
            {
                if (_catchUp is { } catchUp)
                {
                    while (++_catchUpIndex < catchUp.Length)
                    {
                        Entry<TKey>? entry = catchUp[_catchUpIndex];
                        if (entry is not null && TryLoad(entry, out TValue? value) && SyncTable<TKey>.Find(_slots, entry.Key, entry.HashCode, _comparer) is null)
                        {
                            _current = new KeyValuePair<TKey, TValue>(entry.Key, value);
                            return true;
                        }
                    }

                    _catchUp = _map!.CatchUpSnapshot(_shard, _end, _snapshots.Length, ref _next, ref _length);
                    _catchUpIndex = -1;
                    if (_catchUp is not null)
                    {
                        continue;
                    }
                }
                else
                {
                    while (++_index < _slots.Length)
                    {
                        Entry<TKey>? entry = _slots[_index];
                        if (TryLoad(entry, out TValue? value))
                        {
                            _current = new KeyValuePair<TKey, TValue>(entry.Key, value);
                            return true;
                        }
                    }

                    if (_map is not null && _map.MayHaveKeysBeyond(_snapshots, _shard, _slots))
                    {
                        _next = _shard;
                        _length = _snapshots.Length;
                        _catchUp = _map.CatchUpSnapshot(_shard, _end, _snapshots.Length, ref _next, ref _length);
                        _catchUpIndex = -1;
                        if (_catchUp is not null)
                        {
                            continue;
                        }
                    }
                }

                // The next run.
                if (_end >= _snapshots.Length)
                {
                    _done = true;
                    break;
                }

                _shard = _end;
                _end = RunEnd(_snapshots, _shard);
                _slots = _snapshots[_shard];
                _index = -1;
            }

            return false;
        }

        /// <inheritdoc/>
        public void Reset() => throw new NotSupportedException();

        /// <inheritdoc/>
        public readonly void Dispose()
        {
        }

        /// <summary>The end of the run of equal snapshots that starts at <paramref name="start"/>.</summary>
        private static int RunEnd(Entry<TKey>?[][] snapshots, int start)
        {
            int end = start + 1;
            while (end < snapshots.Length && ReferenceEquals(snapshots[end], snapshots[start]))
            {
                end++;
            }

            return end;
        }
    }
}
