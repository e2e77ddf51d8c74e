using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace SyncMapRegistry;

/// <summary>
/// A counter split into per-core cells, each on its own cache line, summed only when read. An increment
/// touches the cell of the core it runs on, so cores do not contend for one line the way they would on a
/// single <see cref="Interlocked"/> counter.
/// </summary>
internal sealed class StripedCounter
{
    // One cell per 128 bytes (two lines: adjacent-line prefetch would otherwise pair neighbours).
    private const int LongsPerCell = 16;

    private readonly long[] _cells;
    private readonly int _mask;

    internal StripedCounter()
    {
        int cells = (int)BitOperations.RoundUpToPowerOf2((uint)Environment.ProcessorCount);
        _mask = cells - 1;
        // One extra cell's worth of padding in front: cell 0 would otherwise share a line with the array header
        // and with this object's fields, which every increment on every core reads.
        _cells = new long[(cells + 1) * LongsPerCell];
    }

    /// <summary>Adds one to the current core's cell.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void Increment()
    {
        int cell = Thread.GetCurrentProcessorId() & _mask;
        // Interlocked on a core-local line: uncontended unless a thread migrates mid-increment,
        // and it keeps the count exact when that happens.
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
