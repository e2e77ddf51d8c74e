namespace SyncMapRegistry.Telemetry;

/// <summary>
/// The objects an observable instrument reports on, held weakly so that observing a map or registry never
/// keeps it alive. Dead references are pruned whenever the live ones are read, and as the set grows (without a
/// listener nothing reads it, and objects created and dropped in a loop must not leak a handle each).
/// </summary>
internal sealed class ObservedSet<T>
    where T : class
{
    private readonly Lock _lock = new();
    private readonly List<WeakReference<T>> _references = [];

    /// <summary>The count at which <see cref="Add"/> prunes dead references.</summary>
    private int _pruneAt = 64;

    internal void Add(T item)
    {
        lock (_lock)
        {
            if (_references.Count >= _pruneAt)
            {
                _references.RemoveAll(static reference => !reference.TryGetTarget(out _));
                _pruneAt = Math.Max(64, _references.Count * 2);
            }

            _references.Add(new WeakReference<T>(item));
        }
    }

    /// <summary>The live objects, at this moment.</summary>
    internal List<T> Live()
    {
        var live = new List<T>();
        lock (_lock)
        {
            _references.RemoveAll(reference =>
            {
                if (!reference.TryGetTarget(out T? item))
                {
                    return true;
                }

                live.Add(item);
                return false;
            });
        }

        return live;
    }
}
