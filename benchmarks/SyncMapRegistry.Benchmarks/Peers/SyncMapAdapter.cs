namespace SyncMapRegistry.Benchmarks.Peers;

/// <summary>The subject: <see cref="SyncMap{TKey, TValue}"/>, whose API is Go's, one call per operation.</summary>
internal readonly struct SyncMapAdapter(SyncMap<int, int> map) : IIntMap
{
    public bool Load(int key, out int value) => map.TryGetValue(key, out value);

    public int LoadOrStore(int key, int value, out bool loaded) => map.LoadOrStore(key, value, out loaded);

    public bool LoadAndDelete(int key, out int value) => map.LoadAndDelete(key, out value);

    public void Delete(int key) => map.Delete(key);

    public void Store(int key, int value) => map.Store(key, value);

    public bool Swap(int key, int value, out int previous) => map.Swap(key, value, out previous);

    public bool CompareAndSwap(int key, int expected, int value) => map.CompareAndSwap(key, expected, value);

    public bool CompareAndDelete(int key, int expected) => map.CompareAndDelete(key, expected);

    public void Range(Func<int, int, bool> visit) => map.Range(visit);

    public void Clear() => map.Clear();
}
