using SyncMapRegistry.Benchmarks.Infrastructure;

namespace SyncMapRegistry.Benchmarks.Workloads;

/// <summary>
/// Go's <c>LoadOrStoreBalanced</c> / <c>LoadAndDeleteBalanced</c> (<paramref name="existing"/> = 128: 128 keys,
/// primed; half the operations go to one of them, half to a key that is not there) and <c>LoadOrStoreUnique</c> /
/// <c>LoadAndDeleteUnique</c> (<paramref name="existing"/> = 0: every operation goes to a key that is not there).
/// With <paramref name="delete"/>, <c>LoadAndDelete(key)</c>; otherwise <c>LoadOrStore(key, i)</c>, which loads an
/// existing key or stores a new one.
/// </summary>
public abstract class PresentOrAbsentKeys(int existing, bool delete) : PeerBenchmark
{
    internal override void Setup<TMap>(TMap map)
    {
        if (existing > 0)
        {
            LoadOrStorePrimed(map, existing);
        }
    }

    internal override void Work<TMap>(TMap map, int start, int count)
    {
        for (int i = start, end = start + count; i < end; i++)
        {
            int j = i % 256;
            int key = j < existing ? j : i;
            if (delete)
            {
                map.LoadAndDelete(key, out _);
            }
            else
            {
                map.LoadOrStore(key, i, out _);
            }
        }
    }
}

/// <summary>Half the operations load an existing key, half store a new key.</summary>
public class LoadOrStoreBalanced() : PresentOrAbsentKeys(128, delete: false);

/// <summary>Half the operations delete a key (present until its first deletion), half a missing key.</summary>
public class LoadAndDeleteBalanced() : PresentOrAbsentKeys(128, delete: true);

/// <summary>Every operation stores a new key.</summary>
public class LoadOrStoreUnique() : PresentOrAbsentKeys(0, delete: false);

/// <summary>Every operation deletes a missing key.</summary>
public class LoadAndDeleteUnique() : PresentOrAbsentKeys(0, delete: true);

/// <summary>Go's <c>LoadOrStoreCollision</c>: every thread loads key 0.</summary>
public class LoadOrStoreCollision : PeerBenchmark
{
    internal override void Setup<TMap>(TMap map) => map.LoadOrStore(0, 0, out _);

    internal override void Work<TMap>(TMap map, int start, int count)
    {
        for (int i = 0; i < count; i++)
        {
            map.LoadOrStore(0, 0, out _);
        }
    }
}

/// <summary>Go's <c>LoadAndDeleteCollision</c>: every thread deletes key 0, and stores it back when it did.</summary>
public class LoadAndDeleteCollision : PeerBenchmark
{
    internal override void Setup<TMap>(TMap map) => map.LoadOrStore(0, 0, out _);

    internal override void Work<TMap>(TMap map, int start, int count)
    {
        for (int i = 0; i < count; i++)
        {
            if (map.LoadAndDelete(0, out _))
            {
                map.Store(0, 0);
            }
        }
    }
}

/// <summary>Go's <c>DeleteCollision</c>: every thread deletes key 0.</summary>
public class DeleteCollision : PeerBenchmark
{
    internal override void Setup<TMap>(TMap map) => map.LoadOrStore(0, 0, out _);

    internal override void Work<TMap>(TMap map, int start, int count)
    {
        for (int i = 0; i < count; i++)
        {
            map.Delete(0);
        }
    }
}

/// <summary>Go's <c>SwapCollision</c>: every thread swaps key 0.</summary>
public class SwapCollision : PeerBenchmark
{
    internal override void Setup<TMap>(TMap map) => map.LoadOrStore(0, 0, out _);

    internal override void Work<TMap>(TMap map, int start, int count)
    {
        for (int i = 0; i < count; i++)
        {
            map.Swap(0, 0, out _);
        }
    }
}

/// <summary>
/// Go's <c>SwapMostlyHits</c> / <c>SwapMostlyMisses</c>: <paramref name="hits"/> keys, primed; of every 1024
/// operations, <paramref name="hits"/> swap an existing key and the rest swap in a new key and delete it.
/// </summary>
public abstract class SwapMostly(int hits) : PeerBenchmark
{
    internal override void Setup<TMap>(TMap map) => LoadOrStorePrimed(map, hits);

    internal override void Work<TMap>(TMap map, int start, int count)
    {
        for (int i = start, end = start + count; i < end; i++)
        {
            int v = i % 1024;
            if (v < hits)
            {
                map.Swap(v, v, out _);
            }
            else
            {
                map.Swap(i, i, out _);
                map.Delete(i);
            }
        }
    }
}

/// <summary>1023 of every 1024 swaps hit an existing key.</summary>
public class SwapMostlyHits() : SwapMostly(1023);

/// <summary>1023 of every 1024 swaps add a new key, then delete it.</summary>
public class SwapMostlyMisses() : SwapMostly(1);

/// <summary>Go's <c>CompareAndSwapCollision</c>: every thread CASes key 0 from 0 to 42 and back.</summary>
public class CompareAndSwapCollision : PeerBenchmark
{
    internal override void Setup<TMap>(TMap map) => map.LoadOrStore(0, 0, out _);

    internal override void Work<TMap>(TMap map, int start, int count)
    {
        for (int i = 0; i < count; i++)
        {
            if (map.CompareAndSwap(0, 0, 42))
            {
                map.CompareAndSwap(0, 42, 0);
            }
        }
    }
}

/// <summary>Go's <c>CompareAndSwapNoExistingKey</c>: CAS on missing keys (it never succeeds).</summary>
public class CompareAndSwapNoExistingKey : PeerBenchmark
{
    internal override void Work<TMap>(TMap map, int start, int count)
    {
        for (int i = start, end = start + count; i < end; i++)
        {
            if (map.CompareAndSwap(i, 0, 0))
            {
                map.Delete(i);
            }
        }
    }
}

/// <summary>Go's <c>CompareAndSwapValueNotEqual</c>: CAS on key 0 with a value that never matches.</summary>
public class CompareAndSwapValueNotEqual : PeerBenchmark
{
    internal override void Setup<TMap>(TMap map) => map.Store(0, 0);

    internal override void Work<TMap>(TMap map, int start, int count)
    {
        for (int i = 0; i < count; i++)
        {
            map.CompareAndSwap(0, 1, 2);
        }
    }
}

/// <summary>
/// Go's <c>CompareAndSwapMostly*</c> and <c>CompareAndDeleteMostly*</c>: <paramref name="hits"/> keys, primed; of
/// every 1024 operations, <paramref name="hits"/> go to an existing key <c>v</c> and the rest to a missing key.
/// With <paramref name="delete"/>, <c>CompareAndDelete(v, v)</c> and, when it succeeds, <c>Store(v, v)</c>;
/// otherwise <c>CompareAndSwap(v, v, v)</c>.
/// </summary>
public abstract class CompareAndReplaceMostly(int hits, bool delete) : PeerBenchmark
{
    internal override void Setup<TMap>(TMap map) => LoadOrStorePrimed(map, hits);

    internal override void Work<TMap>(TMap map, int start, int count)
    {
        for (int i = start, end = start + count; i < end; i++)
        {
            int v = i % 1024 < hits ? i % 1024 : i;
            if (!delete)
            {
                map.CompareAndSwap(v, v, v);
            }
            else if (map.CompareAndDelete(v, v))
            {
                map.Store(v, v);
            }
        }
    }
}

/// <summary>1023 of every 1024 CASes hit an existing key (with an equal value).</summary>
public class CompareAndSwapMostlyHits() : CompareAndReplaceMostly(1023, delete: false);

/// <summary>1023 of every 1024 CASes go to a missing key.</summary>
public class CompareAndSwapMostlyMisses() : CompareAndReplaceMostly(1, delete: false);

/// <summary>1023 of every 1024 compare-and-deletes hit (and store the key back).</summary>
public class CompareAndDeleteMostlyHits() : CompareAndReplaceMostly(1023, delete: true);

/// <summary>1023 of every 1024 compare-and-deletes go to a missing key.</summary>
public class CompareAndDeleteMostlyMisses() : CompareAndReplaceMostly(1, delete: true);

/// <summary>Go's <c>CompareAndDeleteCollision</c>: every thread compare-and-deletes key 0 and stores it back when it did.</summary>
public class CompareAndDeleteCollision : PeerBenchmark
{
    internal override void Setup<TMap>(TMap map) => map.LoadOrStore(0, 0, out _);

    internal override void Work<TMap>(TMap map, int start, int count)
    {
        for (int i = 0; i < count; i++)
        {
            if (map.CompareAndDelete(0, 0))
            {
                map.Store(0, 0);
            }
        }
    }
}
