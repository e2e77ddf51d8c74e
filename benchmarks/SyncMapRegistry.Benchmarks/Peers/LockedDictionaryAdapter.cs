namespace SyncMapRegistry.Benchmarks.Peers;

/// <summary>A lock with shared (read) and exclusive (write) sides; a plain lock uses one for both.</summary>
internal interface IReadWriteLock
{
    void EnterRead();

    void ExitRead();

    void EnterWrite();

    void ExitWrite();
}

/// <summary><see cref="System.Threading.Lock"/>: readers and writers alike take it exclusively.</summary>
internal readonly struct ExclusiveLock(Lock gate) : IReadWriteLock
{
    public void EnterRead() => gate.Enter();

    public void ExitRead() => gate.Exit();

    public void EnterWrite() => gate.Enter();

    public void ExitWrite() => gate.Exit();
}

/// <summary><see cref="ReaderWriterLockSlim"/>: Go's <c>RWMutexMap</c>.</summary>
internal readonly struct SharedExclusiveLock(ReaderWriterLockSlim gate) : IReadWriteLock
{
    public void EnterRead() => gate.EnterReadLock();

    public void ExitRead() => gate.ExitReadLock();

    public void EnterWrite() => gate.EnterWriteLock();

    public void ExitWrite() => gate.ExitWriteLock();
}

/// <summary>
/// A <see cref="Dictionary{TKey, TValue}"/> under a lock, after Go's <c>RWMutexMap</c> (map_reference_test.go):
/// reads take the shared side, writes the exclusive side, and <see cref="Range"/> copies the pairs under the
/// shared side and visits them outside it, so that the visitor may call the map.
/// </summary>
internal readonly struct LockedDictionaryAdapter<TLock>(Dictionary<int, int> d, TLock gate) : IIntMap
    where TLock : struct, IReadWriteLock
{
    public bool Load(int key, out int value)
    {
        gate.EnterRead();
        try
        {
            return d.TryGetValue(key, out value);
        }
        finally
        {
            gate.ExitRead();
        }
    }

    public int LoadOrStore(int key, int value, out bool loaded)
    {
        if (Load(key, out int actual))
        {
            loaded = true;
            return actual;
        }

        gate.EnterWrite();
        try
        {
            loaded = !d.TryAdd(key, value);
            return loaded ? d[key] : value;
        }
        finally
        {
            gate.ExitWrite();
        }
    }

    public bool LoadAndDelete(int key, out int value)
    {
        gate.EnterWrite();
        try
        {
            return d.Remove(key, out value);
        }
        finally
        {
            gate.ExitWrite();
        }
    }

    public void Delete(int key) => LoadAndDelete(key, out _);

    public void Store(int key, int value) => Swap(key, value, out _);

    public bool Swap(int key, int value, out int previous)
    {
        gate.EnterWrite();
        try
        {
            bool loaded = d.TryGetValue(key, out previous);
            d[key] = value;
            return loaded;
        }
        finally
        {
            gate.ExitWrite();
        }
    }

    public bool CompareAndSwap(int key, int expected, int value) => CompareAndReplace(key, expected, value, delete: false);

    public bool CompareAndDelete(int key, int expected) => CompareAndReplace(key, expected, 0, delete: true);

    public void Range(Func<int, int, bool> visit)
    {
        KeyValuePair<int, int>[] pairs;
        gate.EnterRead();
        try
        {
            pairs = [.. d];
        }
        finally
        {
            gate.ExitRead();
        }

        foreach (KeyValuePair<int, int> pair in pairs)
        {
            if (!visit(pair.Key, pair.Value))
            {
                return;
            }
        }
    }

    public void Clear()
    {
        gate.EnterWrite();
        try
        {
            d.Clear();
        }
        finally
        {
            gate.ExitWrite();
        }
    }

    private bool CompareAndReplace(int key, int expected, int value, bool delete)
    {
        gate.EnterWrite();
        try
        {
            if (!d.TryGetValue(key, out int current) || current != expected)
            {
                return false;
            }

            if (delete)
            {
                d.Remove(key);
            }
            else
            {
                d[key] = value;
            }

            return true;
        }
        finally
        {
            gate.ExitWrite();
        }
    }
}
