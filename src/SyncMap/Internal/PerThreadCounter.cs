using System.Runtime.InteropServices;

namespace SyncMapRegistry;

/// <summary>
/// A counter that each thread increments in a cell of its own, summed only when read. An increment is a plain
/// store to memory that no other thread writes: no <see cref="Interlocked"/> instruction, no shared cache line,
/// so it costs about what a thread-static access costs (<see cref="ThreadLocal{T}"/>'s lookup and one add).
/// </summary>
/// <remarks>
/// Each cell is written only by its thread and read by others with <see cref="Volatile.Read(ref readonly long)"/>,
/// so a sum sees every increment that happened before it started and some of those running meanwhile. The cells
/// live in <see cref="ThreadCells{TCell}"/>, which folds the count of an exited thread into a retired total, so no
/// count is lost and no cell outlives its thread for long. This replaced per-core
/// striped cells, whose <see cref="Interlocked.Increment(ref long)"/> plus <see cref="Thread.GetCurrentProcessorId"/>
/// cost a registry read hit about 4 ns of its 12 (the <c>hits</c> benchmark mode).
/// </remarks>
internal sealed class PerThreadCounter
{
    private readonly ThreadCells<Cell> _cells = new(static () => new Cell(), static cell => Volatile.Read(ref cell.Count));

    /// <summary>Adds one to the calling thread's cell.</summary>
    internal void Increment()
    {
        Cell cell = _cells.Value;
        // The one writer of this cell: a plain read-modify-write, published with a store that cannot tear.
        Volatile.Write(ref cell.Count, cell.Count + 1);
    }

    /// <summary>The sum of all cells: exact once increments have stopped, a moment's estimate while they run.</summary>
    internal long Sum() => _cells.Sum();

    /// <summary>The cells kept: one per thread that counted and was alive at the last sum or since (for tests).</summary>
    internal int CellCount => _cells.CellCount;

    /// <summary>
    /// One thread's count, alone on its 64-byte line (the cell's padding takes the 56 bytes before it and the 64
    /// after), and more than 128 bytes from the next cell's (against adjacent-line prefetch): the GC may compact
    /// cells of different threads next to each other, and they must not share a line.
    /// </summary>
    [StructLayout(LayoutKind.Explicit, Size = 128)]
    private sealed class Cell
    {
        [FieldOffset(56)]
        internal long Count;
    }
}
