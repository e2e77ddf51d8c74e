namespace SyncMapRegistry.Benchmarks.Peers;

/// <summary>
/// The operations of Go's <c>mapInterface</c> (sync/map_reference_test.go) over int keys and values, so that
/// each workload is written once and runs against every peer. Adapters are structs: a workload is generic
/// over its adapter type, so the JIT specializes it and inlines the adapter's forwarding calls, and no peer
/// pays an interface dispatch per operation.
/// </summary>
internal interface IIntMap
{
    bool Load(int key, out int value);

    int LoadOrStore(int key, int value, out bool loaded);

    bool LoadAndDelete(int key, out int value);

    void Delete(int key);

    void Store(int key, int value);

    bool Swap(int key, int value, out int previous);

    bool CompareAndSwap(int key, int expected, int value);

    bool CompareAndDelete(int key, int expected);

    /// <summary>Visits entries until <paramref name="visit"/> returns <c>false</c>; <paramref name="visit"/> may call the map.</summary>
    void Range(Func<int, int, bool> visit);

    void Clear();
}
