using System.Diagnostics.CodeAnalysis;

namespace SyncMapRegistry;

/// <summary>
/// What the cache's evictor knows of reads: every thread keeps a small ring of the values its last read hits
/// returned, one hit in <see cref="SampleEvery"/>, in memory of its own. Recording writes nothing that another
/// thread writes: a plain increment of the thread's hit number and, on a sampled hit, one reference store into
/// the thread's ring (whose GC write barrier marks a card only when the sampled value is still young). The evictor reads the rings (a racy read of references, each atomic) to learn which
/// entries were read lately, and gives them a second chance.
/// </summary>
/// <typeparam name="T">The sampled values, compared by reference.</typeparam>
[SuppressMessage("Reliability", "CA1001:Types that own disposable fields should be disposable", Justification = "Its owner, the cache, is not disposable; ThreadLocal's finalizer frees the slot.")]
internal sealed class HitSampler<T>
    where T : class
{
    /// <summary>One read hit in this many is sampled (a power of two).</summary>
    internal const int SampleEvery = 4;

    /// <summary>Samples kept per thread (a power of two): with <see cref="SampleEvery"/>, a thread's last 1,024 hits.</summary>
    internal const int RingSize = 256;

    private readonly ThreadLocal<Ring> _rings = new(static () => new Ring(), trackAllValues: true);

    /// <summary>Counts a read hit on the calling thread and samples one in <see cref="SampleEvery"/>.</summary>
    internal void Record(T hit)
    {
        Ring ring = _rings.Value!;
        long hits = ring.Hits + 1;
        Volatile.Write(ref ring.Hits, hits);
        if ((hits & (SampleEvery - 1)) == 0)
        {
            Volatile.Write(ref ring.Samples[(int)(hits / SampleEvery) & (RingSize - 1)], hit);
        }
    }

    /// <summary>The read hits recorded, by all threads: exact once reads have stopped, a moment's estimate while they run.</summary>
    internal long Hits()
    {
        long hits = 0;
        foreach (Ring ring in _rings.Values)
        {
            hits += Volatile.Read(ref ring.Hits);
        }

        return hits;
    }

    /// <summary>Adds every thread's current samples to <paramref name="recent"/>. The evictor's call.</summary>
    internal void CopyTo(HashSet<T> recent)
    {
        foreach (Ring ring in _rings.Values)
        {
            for (int i = 0; i < RingSize; i++)
            {
                if (Volatile.Read(ref ring.Samples[i]) is { } sample)
                {
                    recent.Add(sample);
                }
            }
        }
    }

    /// <summary>One thread's hit number (written by that thread only) and its samples.</summary>
    private sealed class Ring
    {
        internal long Hits;

        internal readonly T?[] Samples = new T?[RingSize];
    }
}
