using System.Collections.Immutable;

namespace SyncMapRegistry.Benchmarks.Peers;

/// <summary>The state of a copy-on-write map: the published immutable dictionary and the writers' lock.</summary>
internal sealed class CopyOnWriteMap
{
    /// <summary>Published with a volatile write under <see cref="WriteLock"/>; read lock-free.</summary>
    internal ImmutableDictionary<int, int> Current = ImmutableDictionary<int, int>.Empty;

    internal readonly Lock WriteLock = new();
}

/// <summary>
/// Go's <c>DeepCopyMap</c> (map_reference_test.go) with <see cref="ImmutableDictionary{TKey, TValue}"/>: reads load
/// the published dictionary without a lock; every write takes a lock, derives a new dictionary (a path copy,
/// O(log n), rather than Go's full copy) and publishes it.
/// </summary>
internal readonly struct CopyOnWriteAdapter(CopyOnWriteMap map) : IIntMap
{
    public bool Load(int key, out int value) => Volatile.Read(ref map.Current).TryGetValue(key, out value);

    public int LoadOrStore(int key, int value, out bool loaded)
    {
        if (Load(key, out int actual))
        {
            loaded = true;
            return actual;
        }

        lock (map.WriteLock)
        {
            loaded = map.Current.TryGetValue(key, out actual);
            if (loaded)
            {
                return actual;
            }

            Publish(map.Current.Add(key, value));
            return value;
        }
    }

    public bool LoadAndDelete(int key, out int value)
    {
        lock (map.WriteLock)
        {
            if (!map.Current.TryGetValue(key, out value))
            {
                return false;
            }

            Publish(map.Current.Remove(key));
            return true;
        }
    }

    public void Delete(int key) => LoadAndDelete(key, out _);

    public void Store(int key, int value) => Swap(key, value, out _);

    public bool Swap(int key, int value, out int previous)
    {
        lock (map.WriteLock)
        {
            bool loaded = map.Current.TryGetValue(key, out previous);
            Publish(map.Current.SetItem(key, value));
            return loaded;
        }
    }

    public bool CompareAndSwap(int key, int expected, int value) => CompareAndReplace(key, expected, value, delete: false);

    public bool CompareAndDelete(int key, int expected) => CompareAndReplace(key, expected, 0, delete: true);

    public void Range(Func<int, int, bool> visit)
    {
        foreach (KeyValuePair<int, int> pair in Volatile.Read(ref map.Current))
        {
            if (!visit(pair.Key, pair.Value))
            {
                return;
            }
        }
    }

    public void Clear()
    {
        lock (map.WriteLock)
        {
            Publish(ImmutableDictionary<int, int>.Empty);
        }
    }

    private bool CompareAndReplace(int key, int expected, int value, bool delete)
    {
        lock (map.WriteLock)
        {
            ImmutableDictionary<int, int> current = map.Current;
            if (!current.TryGetValue(key, out int actual) || actual != expected)
            {
                return false;
            }

            Publish(delete ? current.Remove(key) : current.SetItem(key, value));
            return true;
        }
    }

    private void Publish(ImmutableDictionary<int, int> next) => Volatile.Write(ref map.Current, next);
}
