using System.Diagnostics.CodeAnalysis;

namespace SyncMapRegistry;

/// <summary>
/// One cell per thread, written by that thread alone and read by any: the storage of per-thread counters. A thread
/// finds its cell through a <see cref="ThreadLocal{T}"/> (made on its first call); readers walk a list of the cells.
/// </summary>
/// <remarks>
/// Not <see cref="ThreadLocal{T}"/>'s own <c>trackAllValues</c>: that keeps the value of every thread that has exited
/// until the <see cref="ThreadLocal{T}"/> is disposed, and a silo whose thread pool grows and shrinks would keep a cell
/// for every thread it ever had. Here the cell of an exited thread is dropped at the next read or the next new cell,
/// after its count is added to a retired total: no count is lost, and the list holds the threads alive at the last
/// read plus those started since. An exited thread's cell is final (the thread wrote it before it ended).
/// </remarks>
/// <typeparam name="TCell">The cell: a class, so that its thread writes it in place.</typeparam>
[SuppressMessage("Reliability", "CA1001:Types that own disposable fields should be disposable", Justification = "Its owners (a map, a registry cache) are not disposable; ThreadLocal's finalizer frees the slot.")]
internal sealed class ThreadCells<TCell>
    where TCell : class
{
    private readonly ThreadLocal<TCell> _local;

    private readonly Func<TCell> _create;

    /// <summary>A cell's count, read by any thread (a volatile read of what its thread writes).</summary>
    private readonly Func<TCell, long> _count;

    /// <summary>Guards <see cref="_cells"/> and <see cref="_retired"/>. Held for one pass over the cells at most; only <see cref="_count"/> runs under it.</summary>
    private readonly Lock _lock = new();

    /// <summary>Every cell made and not yet retired, with the thread that writes it.</summary>
    private readonly List<(Thread Owner, TCell Cell)> _cells = [];

    /// <summary>The counts of the cells of exited threads, which have been dropped.</summary>
    private long _retired;

    /// <param name="create">Makes a thread's cell; called on the thread's first use.</param>
    /// <param name="count">Reads a cell's count.</param>
    internal ThreadCells(Func<TCell> create, Func<TCell, long> count)
    {
        _create = create;
        _count = count;
        _local = new ThreadLocal<TCell>(Register, trackAllValues: false);
    }

    /// <summary>The calling thread's cell.</summary>
    internal TCell Value => _local.Value!;

    /// <summary>The retired total plus every live thread's count: exact once the counting has stopped.</summary>
    internal long Sum()
    {
        lock (_lock)
        {
            RetireExited();
            long sum = _retired;
            foreach ((_, TCell cell) in _cells)
            {
                sum += _count(cell);
            }

            return sum;
        }
    }

    /// <summary>The cells of the threads alive now (a copy).</summary>
    internal TCell[] Live()
    {
        lock (_lock)
        {
            RetireExited();
            var live = new TCell[_cells.Count];
            for (int i = 0; i < live.Length; i++)
            {
                live[i] = _cells[i].Cell;
            }

            return live;
        }
    }

    /// <summary>The number of cells kept (for tests).</summary>
    internal int CellCount
    {
        get
        {
            lock (_lock)
            {
                return _cells.Count;
            }
        }
    }

    private TCell Register()
    {
        TCell cell = _create();
        lock (_lock)
        {
            RetireExited();
            _cells.Add((Thread.CurrentThread, cell));
        }

        return cell;
    }

    /// <summary>Adds the counts of exited threads' cells to <see cref="_retired"/> and drops the cells. Caller holds <see cref="_lock"/>.</summary>
    private void RetireExited()
    {
        int kept = 0;
        for (int i = 0; i < _cells.Count; i++)
        {
            if (_cells[i].Owner.IsAlive)
            {
                _cells[kept++] = _cells[i];
            }
            else
            {
                _retired += _count(_cells[i].Cell);
            }
        }

        _cells.RemoveRange(kept, _cells.Count - kept);
    }
}
