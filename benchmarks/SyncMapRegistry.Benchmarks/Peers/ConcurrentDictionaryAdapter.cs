namespace SyncMapRegistry.Benchmarks.Peers;

/// <summary>
/// The primitives that <see cref="System.Collections.Concurrent.ConcurrentDictionary{TKey, TValue}"/> and
/// <see cref="NonBlocking.ConcurrentDictionary{TKey, TValue}"/> share, so that Go's compound operations are
/// composed from them once, in <see cref="ConcurrentDictionaryAdapter{TDictionary}"/>.
/// </summary>
internal interface IConcurrentDictionary
{
    bool TryGetValue(int key, out int value);

    bool TryAdd(int key, int value);

    void Set(int key, int value);

    bool TryUpdate(int key, int value, int comparison);

    bool TryRemove(int key, out int value);

    bool TryRemove(KeyValuePair<int, int> item);

    void Clear();

    IEnumerable<KeyValuePair<int, int>> Pairs { get; }
}

/// <summary>The baseline, <see cref="System.Collections.Concurrent.ConcurrentDictionary{TKey, TValue}"/>.</summary>
internal readonly struct BclConcurrentDictionary(System.Collections.Concurrent.ConcurrentDictionary<int, int> d) : IConcurrentDictionary
{
    public bool TryGetValue(int key, out int value) => d.TryGetValue(key, out value);

    public bool TryAdd(int key, int value) => d.TryAdd(key, value);

    public void Set(int key, int value) => d[key] = value;

    public bool TryUpdate(int key, int value, int comparison) => d.TryUpdate(key, value, comparison);

    public bool TryRemove(int key, out int value) => d.TryRemove(key, out value);

    public bool TryRemove(KeyValuePair<int, int> item) => d.TryRemove(item);

    public void Clear() => d.Clear();

    public IEnumerable<KeyValuePair<int, int>> Pairs => d;
}

/// <summary>Cliff Click's non-blocking hash map as ported by VSadov (NuGet NonBlocking).</summary>
internal readonly struct NonBlockingConcurrentDictionary(NonBlocking.ConcurrentDictionary<int, int> d) : IConcurrentDictionary
{
    public bool TryGetValue(int key, out int value) => d.TryGetValue(key, out value);

    public bool TryAdd(int key, int value) => d.TryAdd(key, value);

    public void Set(int key, int value) => d[key] = value;

    public bool TryUpdate(int key, int value, int comparison) => d.TryUpdate(key, value, comparison);

    public bool TryRemove(int key, out int value) => d.TryRemove(key, out value);

    public bool TryRemove(KeyValuePair<int, int> item) => d.TryRemove(item);

    public void Clear() => d.Clear();

    public IEnumerable<KeyValuePair<int, int>> Pairs => d;
}

/// <summary>
/// Go's operations over a concurrent dictionary, each built the way an application would build it from the
/// dictionary's own atomic primitives (a lookup first, then a conditional add, update or remove).
/// </summary>
internal readonly struct ConcurrentDictionaryAdapter<TDictionary>(TDictionary d) : IIntMap
    where TDictionary : struct, IConcurrentDictionary
{
    public bool Load(int key, out int value) => d.TryGetValue(key, out value);

    public int LoadOrStore(int key, int value, out bool loaded)
    {
        while (true)
        {
            if (d.TryGetValue(key, out int actual))
            {
                loaded = true;
                return actual;
            }

            if (d.TryAdd(key, value))
            {
                loaded = false;
                return value;
            }
        }
    }

    public bool LoadAndDelete(int key, out int value) => d.TryRemove(key, out value);

    public void Delete(int key) => d.TryRemove(key, out _);

    public void Store(int key, int value) => d.Set(key, value);

    public bool Swap(int key, int value, out int previous)
    {
        while (true)
        {
            if (d.TryGetValue(key, out previous))
            {
                if (d.TryUpdate(key, value, previous))
                {
                    return true;
                }
            }
            else if (d.TryAdd(key, value))
            {
                return false;
            }
        }
    }

    public bool CompareAndSwap(int key, int expected, int value) => d.TryUpdate(key, value, expected);

    public bool CompareAndDelete(int key, int expected) => d.TryRemove(new KeyValuePair<int, int>(key, expected));

    public void Range(Func<int, int, bool> visit)
    {
        foreach (KeyValuePair<int, int> pair in d.Pairs)
        {
            if (!visit(pair.Key, pair.Value))
            {
                return;
            }
        }
    }

    public void Clear() => d.Clear();
}
