using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace SyncMapRegistry;

/// <summary>
/// A counter split into per-core cells, each on its own cache line, summed only when read. An increment
/// touches the cell of the core it runs on, so cores do not contend for one line the way they would on a
/// single <see cref="Interlocked"/> counter.
/// </summary>
/// <remarks>
/// <see cref="Environment.ProcessorCount"/> counts the CPUs this process may use (in a container: the quota
/// or the cpuset), while <see cref="Thread.GetCurrentProcessorId"/> returns the host's CPU ids, which can be
/// larger and sparse (a cpuset of 8,10,12,14 on a 64-core host). So the cells are not sized from the usable
/// count alone: there are at least <see cref="MinimumCells"/> of them, a power of two, and an id is masked
/// into range. Every host id below the cell count gets a cell of its own (no two CPUs of a host with up to
/// 64 of them ever share one), and any id, however large, lands in range.
/// </remarks>
internal sealed class StripedCounter
{
    // One cell per 128 bytes (two lines: adjacent-line prefetch would otherwise pair neighbours).
    private const int LongsPerCell = 16;

    /// <summary>At least this many cells (8 KiB), however few CPUs the process may use: host CPU ids reach past the quota.</summary>
    private const int MinimumCells = 64;

    /// <summary>At most this many cells (128 KiB).</summary>
    private const int MaximumCells = 1_024;

    private readonly long[] _cells;

    /// <summary>The cell count minus one: masks a processor id into range.</summary>
    private readonly int _mask;

    internal StripedCounter()
        : this(Environment.ProcessorCount)
    {
    }

    internal StripedCounter(int usableProcessors)
    {
        int cells = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Clamp(usableProcessors, MinimumCells, MaximumCells));
        _mask = cells - 1;
        // One extra cell's worth of padding in front: cell 0 would otherwise share a line with the array header
        // and with this object's fields, which every increment on every core reads.
        _cells = new long[(cells + 1) * LongsPerCell];
    }

    /// <summary>The number of cells.</summary>
    internal int CellCount => _mask + 1;

    /// <summary>The cell of a processor id: any int, host ids included, maps into [0, <see cref="CellCount"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal int CellOf(int processorId) => processorId & _mask;

    /// <summary>Adds one to the current core's cell.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void Increment()
    {
        int cell = CellOf(Thread.GetCurrentProcessorId());
        // Interlocked on a core-local line: uncontended unless a thread migrates mid-increment (or, on a host of
        // more than CellCount CPUs, two ids share a cell), and it keeps the count exact when that happens.
        Interlocked.Increment(ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_cells), (cell + 1) * LongsPerCell));
    }

    /// <summary>The sum of all cells: exact once increments have stopped, a moment's estimate while they run.</summary>
    internal long Sum()
    {
        long sum = 0;
        for (int i = LongsPerCell; i < _cells.Length; i += LongsPerCell)
        {
            sum += Volatile.Read(ref _cells[i]);
        }

        return sum;
    }
}
