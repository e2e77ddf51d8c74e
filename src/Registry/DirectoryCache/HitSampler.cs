using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace SyncMapRegistry;

/// <summary>
/// What the cache's eviction policy knows of reads: every thread keeps a small ring of samples of its last read hits,
/// one hit in <see cref="SampleEvery"/>, in memory of its own. A sample is a nonzero number that names the entry
/// hit (the cache's insertion number). Recording writes nothing that another thread writes, and no reference:
/// a plain increment of the thread's hit number and, on a sampled hit, one plain store into the thread's ring
/// (no GC write barrier, and the rings keep no entry alive). The policy drains the rings (racy reads of longs,
/// each atomic) to learn which entries were read, how often and when (<see cref="WindowTinyLfuPolicy"/>).
/// </summary>
/// <remarks>
/// The rings live in a <see cref="ThreadCells{TCell}"/>, which drops the ring of an exited thread after adding its
/// hit count to a retired total (so no hit count is lost, and its samples, which no longer come, are forgotten). A
/// thread-static reference to the ring the thread used last stands in front of it: a silo process has
/// one cache, so a hit finds its ring with one thread-static load and one compare, where
/// <see cref="ThreadLocal{T}.Value"/> costs about a nanosecond more. Not generic, so that the thread-static is
/// not behind shared generic code's lookup. A thread's last ring keeps its sampler (not its cache) reachable until
/// the thread records into another one: one small sampler per thread at most.
/// </remarks>
internal sealed class HitSampler
{
    /// <summary>
    /// One read hit in this many is sampled (a power of two). Every hit: the policy's frequencies and recency then
    /// see every read, which took 0.5-3 points of hit ratio on the <c>hitratio</c> traces against one in four; the
    /// cost is one plain store into the thread's own ring per hit.
    /// </summary>
    internal const int SampleEvery = 1;

    /// <summary>Samples kept per thread (a power of two): with <see cref="SampleEvery"/>, a thread's last 256 hits.</summary>
    internal const int RingSize = 256;

    /// <summary>The ring this thread recorded into last, of whichever sampler.</summary>
    [ThreadStatic]
    private static Ring? t_last;

    private readonly ThreadCells<Ring> _rings;

    /// <summary>The drainer's copy of one ring's new samples. Touched by the drainer only (<see cref="Drain"/>, <see cref="CollectOwn"/>).</summary>
    private readonly long[] _buffer = new long[RingSize];

    /// <summary>Where the next drain starts among the live rings, so that drains bounded to a few rings take them in turn. Touched by <see cref="Drain"/> only.</summary>
    private int _cursor;

    internal HitSampler()
    {
        _rings = new(() => new Ring(this), static ring => Volatile.Read(ref ring.Hits));
    }

    /// <summary>Counts a read hit on the calling thread and samples one in <see cref="SampleEvery"/>.</summary>
    /// <param name="sample">Names the entry hit; not 0, which marks an empty slot of the ring.</param>
    internal void Record(long sample)
    {
        Ring? ring = t_last;
        if (ring is null || !ReferenceEquals(ring.Owner, this))
        {
            ring = Attach();
        }

        long hits = ring.Hits + 1;
        Volatile.Write(ref ring.Hits, hits);
        if ((hits & (SampleEvery - 1)) == 0)
        {
            Volatile.Write(ref ring.Sample(hits / SampleEvery), sample);
        }
    }

    /// <summary>
    /// The samples the calling thread has recorded into this sampler's ring since the ring was last drained: a racy
    /// estimate (the drainer's position is read as it moves), and 0 when the thread's last ring is another sampler's.
    /// A writer reads it to decide whether it has samples of its own to hand the policy with its insert.
    /// </summary>
    internal long Backlog()
    {
        Ring? ring = t_last;
        return ring is not null && ReferenceEquals(ring.Owner, this)
            ? (ring.Hits / SampleEvery) - Volatile.Read(ref ring.Drain.Last)
            : 0;
    }

    /// <summary>The read hits recorded, by all threads: exact once reads have stopped, a moment's estimate while they run.</summary>
    internal long Hits() => _rings.Sum();

    /// <summary>The rings kept: one per thread that recorded and was alive at the last read or since (for tests).</summary>
    internal int RingCount => _rings.CellCount;

    /// <summary>
    /// Hands <paramref name="consume"/> the samples recorded since the last drain, one live thread's ring at a time
    /// (at most <see cref="RingSize"/> per ring: a ring that went round since keeps only its newest). The drainer's
    /// call: never two at once (the cache's maintenance lock). Reads are racy: a sample overwritten while it is read
    /// is replaced by a newer one of the same thread, which the policy tolerates (a sample is a hint).
    /// </summary>
    /// <param name="consume">Gets each ring's new samples, nonzero, oldest first, in a buffer it must not keep.</param>
    /// <param name="maxRings">The most rings drained by this call: the next call starts where it stopped.</param>
    /// <returns>The samples handed over.</returns>
    internal int Drain(Action<ReadOnlySpan<long>> consume, int maxRings = int.MaxValue)
    {
        int drained = 0;
        Ring[] live = _rings.Live();
        int rings = Math.Min(maxRings, live.Length);
        int start = live.Length == 0 ? 0 : _cursor % live.Length;
        _cursor = start + rings;
        for (int i = 0; i < rings; i++)
        {
            drained += DrainRing(live[(start + i) % live.Length], consume);
        }

        return drained;
    }

    /// <summary>
    /// The calling thread's new samples (none when its last ring is another sampler's), as <see cref="Drain"/> would
    /// hand them over, marked drained: the samples a writer recorded itself, which it applies with its insert. The
    /// drainer's call, like <see cref="Drain"/>; the span is the drainer's buffer, valid until its next call.
    /// </summary>
    internal ReadOnlySpan<long> CollectOwn()
    {
        Ring? ring = t_last;
        return ring is not null && ReferenceEquals(ring.Owner, this) ? _buffer.AsSpan(0, Collect(ring)) : default;
    }

    private int DrainRing(Ring ring, Action<ReadOnlySpan<long>> consume)
    {
        int count = Collect(ring);
        if (count > 0)
        {
            consume(_buffer.AsSpan(0, count));
        }

        return count;
    }

    /// <summary>Copies a ring's samples since the last drain into <see cref="_buffer"/> and marks them drained.</summary>
    /// <returns>The samples copied.</returns>
    private int Collect(Ring ring)
    {
        // Sample number k (the k-th sampled hit of this thread) sits at k & (RingSize - 1).
        long last = Volatile.Read(ref ring.Hits) / SampleEvery;
        long first = Math.Max(ring.Drain.Last + 1, last - RingSize + 1);
        int count = 0;
        for (long k = first; k <= last; k++)
        {
            long sample = Volatile.Read(ref ring.Sample(k));
            if (sample != 0)
            {
                _buffer[count++] = sample;
            }
        }

        Volatile.Write(ref ring.Drain.Last, last);
        return count;
    }

    /// <summary>This thread's ring of this sampler, made the thread's last.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private Ring Attach() => t_last = _rings.Value;

    /// <summary>
    /// One thread's hit number and samples (written by that thread only), in one object: a hit finds the ring, then
    /// stores into it at a fixed offset, with no array to load and no bounds to check (the index is masked). The hit
    /// number sits alone on its 64-byte line (the ring's header fields take the 64 bytes before it, the samples start
    /// on the line after next), and the samples end 64 bytes before the object does: the GC may compact rings of
    /// different threads next to each other, and one thread's writes must not share a line, nor sit on the line next
    /// to one (adjacent-line prefetch), with another thread's hit number or its ring's header.
    /// </summary>
    [StructLayout(LayoutKind.Explicit, Size = SamplesOffset + (RingSize * sizeof(long)) + 64)]
    private sealed class Ring
    {
        private const int SamplesOffset = 192;

        [FieldOffset(0)]
        internal readonly HitSampler Owner;

        /// <summary>
        /// The drainer's position in this ring, in an object of its own: the drainer writes it, and a write here, on the
        /// line of <see cref="Owner"/> that every hit of the thread reads, would take that line from the recording
        /// thread at each drain.
        /// </summary>
        [FieldOffset(8)]
        internal readonly DrainPosition Drain = new();

        [FieldOffset(64)]
        internal long Hits;

        [FieldOffset(SamplesOffset)]
        private SampleBlock _samples;

        internal Ring(HitSampler owner)
        {
            Owner = owner;
        }

        /// <summary>The slot of sample number <paramref name="number"/> (modulo <see cref="RingSize"/>).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal ref long Sample(long number) =>
            ref Unsafe.Add(ref Unsafe.As<SampleBlock, long>(ref _samples), (int)number & (RingSize - 1));
    }

    [InlineArray(RingSize)]
    private struct SampleBlock
    {
        private long _first;
    }

    /// <summary>Where the drainer stands in one ring. Written by the drainer only (the cache's maintenance lock).</summary>
    private sealed class DrainPosition
    {
        /// <summary>The last sample number drained (hits / <see cref="SampleEvery"/>).</summary>
        internal long Last;
    }
}
