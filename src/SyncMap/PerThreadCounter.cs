using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;

namespace SyncMapRegistry;

/// <summary>
/// A counter that each thread increments in a cell of its own, summed only when read. An increment is a plain
/// store to memory that no other thread writes: no <see cref="Interlocked"/> instruction, no shared cache line,
/// so it costs about what a thread-static access costs (<see cref="ThreadLocal{T}"/>'s lookup and one add).
/// </summary>
/// <remarks>
/// Each cell is written only by its thread and read by others with <see cref="Volatile.Read(ref readonly long)"/>,
/// so a sum sees every increment that happened before it started and some of those running meanwhile. Cells
/// outlive their threads (<c>trackAllValues</c>), so no count is lost when a thread exits. The owner is not
/// disposable: the <see cref="ThreadLocal{T}"/>'s finalizer frees its slot once the counter is unreachable. This replaced per-core
/// striped cells, whose <see cref="Interlocked.Increment(ref long)"/> plus <see cref="Thread.GetCurrentProcessorId"/>
/// cost a registry read hit about 4 ns of its 12 (the <c>hits</c> benchmark mode).
/// </remarks>
[SuppressMessage("Reliability", "CA1001:Types that own disposable fields should be disposable", Justification = "Its owners (a map, a registry cache) are not disposable; ThreadLocal's finalizer frees the slot.")]
internal sealed class PerThreadCounter
{
    private readonly ThreadLocal<Cell> _cells = new(static () => new Cell(), trackAllValues: true);

    /// <summary>Adds one to the calling thread's cell.</summary>
    internal void Increment()
    {
        Cell cell = _cells.Value!;
        // The one writer of this cell: a plain read-modify-write, published with a store that cannot tear.
        Volatile.Write(ref cell.Count, cell.Count + 1);
    }

    /// <summary>The sum of all cells: exact once increments have stopped, a moment's estimate while they run.</summary>
    internal long Sum()
    {
        long sum = 0;
        foreach (Cell cell in _cells.Values)
        {
            sum += Volatile.Read(ref cell.Count);
        }

        return sum;
    }

    /// <summary>
    /// One thread's count, alone on its 128 bytes (two cache lines, against adjacent-line prefetch): the GC may
    /// compact cells of different threads next to each other, and they must not share a line.
    /// </summary>
    [StructLayout(LayoutKind.Explicit, Size = 128)]
    private sealed class Cell
    {
        [FieldOffset(56)]
        internal long Count;
    }
}
