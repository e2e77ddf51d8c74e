using System.Collections;

namespace SyncMapRegistry;

// The struct enumerator (foreach), a lazy walk with Range's semantics.
public sealed partial class SyncMap<TKey, TValue>
{
    /// <summary>Enumerates live entries with <see cref="Range"/>'s semantics. The struct enumerator allocates nothing unless it catches up with keys its snapshots lacked (<see cref="Range"/>).</summary>
    public Enumerator GetEnumerator() => new(this);


    IEnumerator<KeyValuePair<TKey, TValue>> IEnumerable<KeyValuePair<TKey, TValue>>.GetEnumerator() => GetEnumerator();


    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>A struct enumerator over live entries with <see cref="Range"/>'s semantics.</summary>
    /// <remarks>
    /// A promoting walk (<see cref="WalkCursor"/> in <see cref="WalkMode.Promote"/>): it walks the directory of
    /// snapshots loaded when it starts, shard by shard, and at the end of a shard's snapshot, if the shard may have
    /// gained keys since, promotes the shards that now hold its range and visits the keys they brought in. Its
    /// guarantees are <see cref="WalkCursor"/>'s. A <c>default</c> enumerator yields nothing.
    /// </remarks>
    public struct Enumerator : IEnumerator<KeyValuePair<TKey, TValue>>
    {
        private readonly SyncMap<TKey, TValue>? _map;

        private WalkCursor _cursor;

        private KeyValuePair<TKey, TValue> _current;

        internal Enumerator(SyncMap<TKey, TValue> map)
        {
            _map = map;
            _cursor = new WalkCursor(map, WalkMode.Promote);
            _current = default;
        }

        /// <inheritdoc/>
        public readonly KeyValuePair<TKey, TValue> Current => _current;

        readonly object IEnumerator.Current => _current;

        /// <inheritdoc/>
        public bool MoveNext()
        {
            if (_map is null || !_cursor.MoveNext(_map))
            {
                return false;
            }

            _current = new KeyValuePair<TKey, TValue>(_cursor.Entry.Key, _cursor.Value);
            return true;
        }

        /// <inheritdoc/>
        public void Reset() => throw new NotSupportedException();

        /// <inheritdoc/>
        public readonly void Dispose()
        {
        }
    }
}
