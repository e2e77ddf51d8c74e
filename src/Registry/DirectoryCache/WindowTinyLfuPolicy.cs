using System.Diagnostics;

namespace SyncMapRegistry;

/// <summary>
/// The directory cache's eviction and admission policy: W-TinyLFU (Einziger, Friedman and Manes; Caffeine, BitFaster's
/// <c>ConcurrentLfu</c>) with an adaptive window, and expire-after-access. It orders the cache's keys and
/// picks victims; it never touches the map (the adapter, <see cref="SyncMapGrainDirectoryCache"/>, does).
/// </summary>
/// <remarks>
/// <para>
/// Regions. A new key enters the <em>window</em>, a small LRU list (1% of the cap to start). A key leaving the full
/// window is a candidate for the <em>main</em> region, a segmented LRU of <em>probation</em> and <em>protected</em>
/// (80% of main): it is admitted only if the frequency sketch (<see cref="FrequencySketch"/>) says it was seen more
/// often than probation's least recent key, which is then evicted in its place; otherwise the candidate is. A key
/// read in probation moves to protected; protected's overflow goes back to probation. The window's share is tuned
/// miss by miss by <see cref="WindowTuner"/>: a miss on a key the window turned away lately grows it, one on a key
/// main evicted lately shrinks it, so that recency-heavy workloads get a larger window and frequency-heavy ones a
/// smaller one.
/// </para>
/// <para>
/// What it knows of reads. A hit writes nothing shared: readers leave samples in per-thread rings
/// (<see cref="HitSampler"/>), one hit in <see cref="HitSampler.SampleEvery"/>, each naming a node by its
/// <see cref="CachedAddress.Sample"/>. <see cref="OnSampledHits"/> turns them into frequency (the sketch), recency
/// (the node moves to the tail of its list) and an access time. A sample whose node is gone (its slot freed or
/// reused) is dropped. Writes are seen exactly: each new key is counted once in the sketch when it is linked.
/// </para>
/// <para>
/// Cost. Every method takes <see cref="_lock"/> for O(1) work, except those that take a batch: the expiry's, a
/// batch of samples (<see cref="OnSampledHits"/>, and <see cref="Link"/> with its writer's own: a ring's worth at
/// most, 256), and one step of the upkeep (<see cref="Maintain"/>: a chunk of the sketch, a batch of nodes; writers
/// run such steps too, never the sketch's allocation, which is made outside the lock). Nothing foreign runs under
/// the lock: no map operation, no telemetry. The slots that map samples to nodes grow a chunk at a time (no copy).
/// </para>
/// <para>
/// Expiry (expire after access, Orleans' <c>MaximumCacheTTL</c>). A node's access time is when it was linked or when a
/// drain last saw a sample of it, on the policy's clock. Samples are lossy, so the access time only names candidates:
/// the cache judges them by its entries' access epochs (<see cref="SyncMapGrainDirectoryCache"/>'s remarks), and
/// hands back those read since (<see cref="Touch"/>) and those to take (<see cref="TakeIdle"/>). Since each region is
/// kept in access order, the candidates are found at the heads: <see cref="FindIdle"/> looks no further than the
/// first recent key of each region. The order is approximate where keys move between regions (a demoted or admitted
/// key keeps its access time), so an expired key may outlive its time until the keys ahead of it go.
/// </para>
/// </remarks>
internal sealed class WindowTinyLfuPolicy
{
    /// <summary>Slots per chunk of the slot table.</summary>
    internal const int SlotsPerChunk = 1_024;

    /// <summary>The window's share of the cap before the tuner moves it.</summary>
    internal const double InitialWindowShare = 0.01;

    /// <summary>The most of the cap the tuner gives the window (BitFaster keeps main at 20% or more).</summary>
    internal const double MaxWindowShare = 0.80;

    /// <summary>Protected's share of the main region.</summary>
    internal const double ProtectedShare = 0.80;

    /// <summary>Nodes moved from an oversized window to probation per <see cref="Maintain"/> step.</summary>
    private const int WindowTrimBatch = 256;

    /// <summary>Nodes moved between regions at most per promotion, when protected is over its share.</summary>
    private const int DemotionsPerPromotion = 2;

    /// <summary>
    /// Guards every field below but the slot table's, and every <see cref="PolicyNode"/> field but its immutable
    /// ones. Held only for O(1) work (see the type's remarks).
    /// </summary>
    private readonly Lock _lock = new();

    /// <summary>
    /// Guards the slot table's writes (<see cref="_slots"/>' chunks and directory, <see cref="_nextFree"/>,
    /// <see cref="_freeHead"/>, <see cref="_slotCount"/>, <see cref="_made"/>), so that a new key's node
    /// (<see cref="NewNode"/>) takes it alone and writers contend for <see cref="_lock"/> once per new key, at its
    /// link. Taken inside <see cref="_lock"/> when a dropped node frees its slot, never the other way round.
    /// Readers of the table hold <see cref="_lock"/> only (sample drains): the publication order that makes that safe
    /// is at <see cref="TakeSlot"/>.
    /// </summary>
    private readonly Lock _slotLock = new();

    private readonly int _maximum;
    private readonly TimeProvider _timeProvider;

    /// <summary>Expire after this many <see cref="TimeProvider"/> timestamp ticks without an access; 0: never.</summary>
    private readonly long _timeToIdle;

    private readonly FrequencySketch _sketch = new();

    /// <summary>Sizes the window; made with the sketch, once the cache first holds half its cap (until then no key departs).</summary>
    private WindowTuner? _tuner;
    private readonly AccessOrder _window = new(Region.Window);
    private readonly AccessOrder _probation = new(Region.Probation);
    private readonly AccessOrder _protected = new(Region.Protected);

    /// <summary>Node by slot, in chunks of <see cref="SlotsPerChunk"/>; <c>null</c> for a free slot.</summary>
    private PolicyNode?[][] _slots = [];

    /// <summary>The next free slot after each free slot (a free list threaded through the chunks); -1 ends it.</summary>
    private int[][] _nextFree = [];

    private int _freeHead = -1;

    /// <summary>Slots handed out so far, free or not: the slot table's high-water mark.</summary>
    private int _slotCount;

    /// <summary>Nodes made so far: the high half of a sample, so that a slot reused names a different node.</summary>
    private uint _made;

    private int _windowMaximum;
    private int _protectedMaximum;

    /// <summary>Random admission of a warm candidate, against an attacker that keeps a victim's frequency high.</summary>
    private uint _random = 0x9E37_79B9;

    /// <param name="maximum">The cap: the most keys the cache should hold.</param>
    /// <param name="timeToIdle">Expire a key not accessed for this long; <see cref="TimeSpan.Zero"/> or less, or infinite: never.</param>
    /// <param name="timeProvider">The clock of access times.</param>
    internal WindowTinyLfuPolicy(int maximum, TimeSpan timeToIdle, TimeProvider timeProvider)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maximum);
        _maximum = maximum;
        _timeProvider = timeProvider;
        _timeToIdle = timeToIdle > TimeSpan.Zero && timeToIdle != Timeout.InfiniteTimeSpan
            ? (long)Math.Min(long.MaxValue / 2, timeToIdle.TotalSeconds * timeProvider.TimestampFrequency)
            : 0;
        _windowMaximum = Math.Max(1, (int)(maximum * InitialWindowShare));
        _protectedMaximum = (int)((maximum - _windowMaximum) * ProtectedShare);
    }

    /// <summary>Which list a node is on.</summary>
    internal enum Region : byte
    {
        /// <summary>On no list: not linked yet, or dropped.</summary>
        None,
        Window,
        Probation,
        Protected,
    }

    /// <summary>Whether keys expire after a time without access.</summary>
    internal bool Expires => _timeToIdle > 0;

    /// <summary>The time to idle in <see cref="TimeProvider"/> timestamp ticks; 0: never.</summary>
    internal long TimeToIdle => _timeToIdle;

    /// <summary>The keys linked, in all regions (for tests and the gauge of the policy's view).</summary>
    internal int Linked
    {
        get
        {
            lock (_lock)
            {
                return LinkedLocked;
            }
        }
    }

    /// <summary>The window's current maximum (for tests and reports).</summary>
    internal int WindowMaximum
    {
        get
        {
            lock (_lock)
            {
                return _windowMaximum;
            }
        }
    }

    /// <summary>The keys in the protected region, and its current maximum (for tests).</summary>
    internal (int Count, int Maximum) Protected
    {
        get
        {
            lock (_lock)
            {
                return (_protected.Count, _protectedMaximum);
            }
        }
    }

    private int LinkedLocked => _window.Count + _probation.Count + _protected.Count;

    /// <summary>
    /// Makes the node of a new key, which is also the key's first cached address, with its slot and sample, not yet
    /// linked: the caller links it once the map holds it (<see cref="Link"/>), or drops it (<see cref="Drop"/>) if
    /// another writer's entry won.
    /// </summary>
    internal PolicyNode NewNode(GrainAddress address, int version, int accessEpoch)
    {
        int hash = address.GrainId.GetHashCode(); // outside the lock: its holds are what writers contend for
        lock (_slotLock)
        {
            int slot = TakeSlot();
            var node = new PolicyNode(address, version, accessEpoch, hash, PolicyNode.SampleOf(++_made, slot));

            // A release store: a drain that reads the slot (under the policy's lock, not this one) sees the whole node.
            Volatile.Write(ref _slots[slot / SlotsPerChunk][slot % SlotsPerChunk], node);
            return node;
        }
    }

    /// <summary>
    /// Links a node whose key the map now holds, as the window's newest, and counts the key in the sketch (a miss);
    /// the window moves by the tuner's verdict on the key. Does nothing if the node was dropped meanwhile (its entry
    /// removed before it was linked). With <paramref name="takeVictim"/>, also picks and drops the next victim in
    /// the same hold of the lock, as <see cref="TakeVictim"/> does; and first applies <paramref name="samples"/> as
    /// <see cref="OnSampledHits"/> does: a write takes the lock once for its own reads, its key and its victim.
    /// </summary>
    /// <returns>The victim taken, when asked for and one is linked; the caller removes its entry.</returns>
    internal PolicyNode? Link(PolicyNode node, bool takeVictim = false, ReadOnlySpan<long> samples = default)
    {
        // Read before the lock (a clock read is 20-odd ns, much of the hold): two racing writers may then link out of
        // clock order by their race's width, which the idle scan's approximate order allows (see the type's remarks).
        long now = _timeProvider.GetTimestamp();
        lock (_lock)
        {
            ApplySamplesLocked(samples, now);
            if (!node.Dropped)
            {
                node.LastAccess = now;
                _sketch.Increment(node.Hash);
                ResizeWindowLocked(_tuner?.OnMiss(node.Hash) ?? 0);
                _window.AddLast(node);

                // While the whole is under the cap, the window's overflow enters probation without a contest.
                while (_window.Count > _windowMaximum && LinkedLocked <= _maximum)
                {
                    PolicyNode oldest = _window.First!;
                    _window.Remove(oldest);
                    _probation.AddLast(oldest);
                }
            }

            return takeVictim ? TakeVictimLocked() : null;
        }
    }

    /// <summary>Forgets a node whose entry left the map (or never entered it). Idempotent.</summary>
    internal void Drop(PolicyNode node)
    {
        lock (_lock)
        {
            DropLocked(node);
        }
    }

    /// <summary>
    /// Picks the next key to evict by W-TinyLFU's rule (see the type's remarks), and drops its node: the caller
    /// removes the key's entry. O(1).
    /// </summary>
    /// <returns>The victim; <c>null</c> when no node is linked.</returns>
    internal PolicyNode? TakeVictim()
    {
        lock (_lock)
        {
            return TakeVictimLocked();
        }
    }

    private PolicyNode? TakeVictimLocked()
    {
        PolicyNode? victim = SelectVictimLocked();
        if (victim is not null)
        {
            victim.Taken = true;
            DropLocked(victim);
        }

        return victim;
    }

    /// <summary>
    /// Applies a drained batch of hit samples: each names a node that was read, which gains frequency, recency and
    /// an access time. Samples of dropped nodes are ignored.
    /// </summary>
    internal void OnSampledHits(ReadOnlySpan<long> samples)
    {
        long now = _timeProvider.GetTimestamp();
        lock (_lock)
        {
            ApplySamplesLocked(samples, now);
        }
    }

    private void ApplySamplesLocked(ReadOnlySpan<long> samples, long now)
    {
        foreach (long sample in samples)
        {
            // Without the slot lock (see TakeSlot): a slot under the published count lies in a published chunk, and
            // reads as null, an older node (its number differs) or a node whose construction is visible.
            int slot = PolicyNode.SlotOf(sample);
            if (slot < 0 || slot >= Volatile.Read(ref _slotCount))
            {
                continue;
            }

            PolicyNode?[] chunk = Volatile.Read(ref Volatile.Read(ref _slots)[slot / SlotsPerChunk]);
            PolicyNode? node = Volatile.Read(ref chunk[slot % SlotsPerChunk]);
            if (node is null || node.Sample != sample)
            {
                continue;
            }

            _sketch.Increment(node.Hash);
            if (node.Region == Region.None)
            {
                continue; // made but not linked yet
            }

            node.LastAccess = now;
            OnAccessLocked(node);
        }
    }

    /// <summary>
    /// Whether the sketch is sized yet (only a <see cref="Maintain"/> that may allocate sizes it, once the cache has held
    /// half its cap). Read without the lock: a hint for when to ask for such a run, a moment late at worst.
    /// </summary>
    internal bool HasSketch => _sketch.Capacity != 0;

    /// <summary>
    /// The policy's upkeep: sizes the sketch once the cache nears its cap (when <paramref name="mayAllocate"/>), runs
    /// one chunk of a due halving, and moves the excess of a region the tuner shrank. Each call is bounded (a chunk of
    /// the sketch, a batch of nodes), so a writer may run one; the sketch's allocation (O(cap)) only off the message
    /// path. Call again while it returns <c>true</c>.
    /// </summary>
    /// <param name="mayAllocate">Whether this call may size the sketch (off the message path only).</param>
    /// <returns>Whether work remains (a halving in progress, or a window to trim).</returns>
    internal bool Maintain(bool mayAllocate = true)
    {
        // The sketch is sized once the cache first holds half its cap, as Caffeine does: no frequency matters before
        // evictions come near. Its table (8 bytes per key of the cap) and the window tuner's ghost lists (about 20
        // bytes per key of 2% of the cap, twice) are allocated outside the lock.
        long[]? table = null;
        WindowTuner? tuner = null;
        if (mayAllocate && _sketch.Capacity == 0 && Linked >= _maximum / 2)
        {
            table = new long[FrequencySketch.TableLength(_maximum)];
            tuner = new WindowTuner(_maximum);
        }

        lock (_lock)
        {
            if (table is not null)
            {
                _sketch.Install(table, _maximum);
                _tuner ??= tuner;
            }

            bool done = _sketch.HalveChunk();
            if (ResizeForTests is { } resize)
            {
                ResizeForTests = null;
                ResizeWindowLocked(resize);
            }

            // A window the tuner shrank hands its excess to probation, as Caffeine and BitFaster do, rather than one
            // contest per insert (which adds one as fast as the contests remove one): a batch at a time, leaving one
            // over for the next eviction's contest.
            for (int moved = 0; moved < WindowTrimBatch && _window.Count > _windowMaximum + 1; moved++)
            {
                PolicyNode oldest = _window.First!;
                _window.Remove(oldest);
                _probation.AddLast(oldest);
            }

            // Likewise a protected region the tuner shrank (it grew the window) demotes its excess, least recent
            // first, as Caffeine's maintenance does: left to the promotions' few demotions each, it stays oversized while
            // a shifting workload needs probation's room for its new keys.
            for (int moved = 0; moved < WindowTrimBatch && _protected.Count > _protectedMaximum; moved++)
            {
                PolicyNode oldest = _protected.First!;
                _protected.Remove(oldest);
                _probation.AddLast(oldest);
            }

            return !done || _window.Count > _windowMaximum + 1 || _protected.Count > _protectedMaximum;
        }
    }

    /// <summary>
    /// Adds to <paramref name="idle"/> up to <paramref name="budget"/> nodes whose access time is at or before
    /// <paramref name="deadline"/>, from the heads of the regions (oldest first), without taking them: the cache judges
    /// each by its entry, then hands them to <see cref="Touch"/> or <see cref="TakeIdle"/>.
    /// </summary>
    /// <returns>Whether more may be idle (the budget ran out).</returns>
    internal bool FindIdle(List<PolicyNode> idle, int budget, long deadline)
    {
        if (_timeToIdle == 0)
        {
            return false;
        }

        lock (_lock)
        {
            foreach (AccessOrder order in (ReadOnlySpan<AccessOrder>)[_window, _probation, _protected])
            {
                for (PolicyNode? node = order.First; node is not null && node.LastAccess <= deadline; node = node.Next)
                {
                    if (budget-- == 0)
                    {
                        return true;
                    }

                    idle.Add(node);
                }
            }

            return false;
        }
    }

    /// <summary>
    /// Records accesses the samples missed: each node still linked takes the access time given (when later than its
    /// own) and moves to its region's newest end.
    /// </summary>
    internal void Touch(List<(PolicyNode Node, long Access)> accessed)
    {
        if (accessed.Count == 0)
        {
            return;
        }

        lock (_lock)
        {
            foreach ((PolicyNode node, long access) in accessed)
            {
                AccessOrder? order = node.Region switch
                {
                    Region.Window => _window,
                    Region.Probation => _probation,
                    Region.Protected => _protected,
                    _ => null,
                };
                if (order is not null)
                {
                    node.LastAccess = Math.Max(node.LastAccess, access);
                    order.MoveToLast(node);
                }
            }
        }
    }

    /// <summary>
    /// Takes for removal the nodes of <paramref name="idle"/> still linked and still not accessed after
    /// <paramref name="deadline"/>, and removes the others from the list: the caller removes the entries of those left.
    /// </summary>
    internal void TakeIdle(List<PolicyNode> idle, long deadline)
    {
        lock (_lock)
        {
            int kept = 0;
            for (int i = 0; i < idle.Count; i++)
            {
                PolicyNode node = idle[i];
                if (node.Region != Region.None && node.LastAccess <= deadline)
                {
                    node.Taken = true;
                    DropLocked(node);
                    idle[kept++] = node;
                }
            }

            idle.RemoveRange(kept, idle.Count - kept);
        }
    }

    private void OnAccessLocked(PolicyNode node)
    {
        switch (node.Region)
        {
            case Region.Window:
                _window.MoveToLast(node);
                break;
            case Region.Probation:
                _probation.Remove(node);
                _protected.AddLast(node);
                for (int i = 0; i < DemotionsPerPromotion && _protected.Count > _protectedMaximum && _protected.First is { } demoted; i++)
                {
                    _protected.Remove(demoted);
                    _probation.AddLast(demoted);
                }

                break;
            case Region.Protected:
                _protected.MoveToLast(node);
                break;
        }
    }

    private PolicyNode? SelectVictimLocked()
    {
        if (_window.Count > _windowMaximum)
        {
            // The window's oldest contends with probation's oldest (or protected's, when probation is empty).
            PolicyNode candidate = _window.First!;
            PolicyNode? incumbent = _probation.First ?? _protected.First;
            if (incumbent is null)
            {
                return candidate;
            }

            if (!AdmitLocked(candidate, incumbent))
            {
                _tuner?.OnRejected(candidate.Hash);
                return candidate;
            }

            _tuner?.OnEvictedFromMain(incumbent.Hash);
            _window.Remove(candidate);
            _probation.AddLast(candidate);
            return incumbent;
        }

        return _probation.First ?? _protected.First ?? _window.First;
    }

    /// <summary>TinyLFU's admission, with Caffeine's guard: a warm candidate that loses is still let in, rarely and at random.</summary>
    private bool AdmitLocked(PolicyNode candidate, PolicyNode incumbent)
    {
        int candidateFrequency = _sketch.Frequency(candidate.Hash);
        int incumbentFrequency = _sketch.Frequency(incumbent.Hash);
        if (candidateFrequency > incumbentFrequency)
        {
            return true;
        }

        if (candidateFrequency <= 5)
        {
            return false;
        }

        _random ^= _random << 13;
        _random ^= _random >> 17;
        _random ^= _random << 5;
        return (_random & 127) == 0;
    }

    /// <summary>Test seam: the next <see cref="Maintain"/> moves the window by this many keys, as the tuner would.</summary>
    internal int? ResizeForTests { get; set; }

    /// <summary>The policy's lock, for a test that holds it while another thread makes a node.</summary>
    internal Lock LockForTests => _lock;

    /// <summary>Moves the window's maximum by <paramref name="step"/> keys (growing at protected's expense, shrinking to its gain), within bounds.</summary>
    private void ResizeWindowLocked(int step)
    {
        if (step > 0)
        {
            // Grow the window at protected's expense.
            step = Math.Min(step, Math.Min(_protectedMaximum, (int)(_maximum * MaxWindowShare) - _windowMaximum));
            _windowMaximum += step;
            _protectedMaximum -= step;
        }
        else if (step < 0)
        {
            step = Math.Min(-step, _windowMaximum - 1);
            _windowMaximum -= step;
            _protectedMaximum = Math.Min(_protectedMaximum + step, _maximum - _windowMaximum);
        }
    }

    private void DropLocked(PolicyNode node)
    {
        if (node.Dropped)
        {
            return;
        }

        node.Dropped = true;
        switch (node.Region)
        {
            case Region.Window:
                _window.Remove(node);
                break;
            case Region.Probation:
                _probation.Remove(node);
                break;
            case Region.Protected:
                _protected.Remove(node);
                break;
        }

        int slot = node.Slot;
        lock (_slotLock)
        {
            Volatile.Write(ref _slots[slot / SlotsPerChunk][slot % SlotsPerChunk], null);
            _nextFree[slot / SlotsPerChunk][slot % SlotsPerChunk] = _freeHead;
            _freeHead = slot;
        }
    }

    /// <summary>
    /// A free slot: the free list's head, else a new one (a new chunk every <see cref="SlotsPerChunk"/>; no copy of
    /// nodes). Under <see cref="_slotLock"/>. The publication order, for the drains that read the table under the
    /// policy's lock only: a new chunk is stored in a directory before that directory is published, and the directory
    /// before the slot count that covers the chunk; so a reader that reads the count, then the directory, then the
    /// chunk (each a volatile read) finds the chunk of every slot under the count it read. A directory is never
    /// written again once another has replaced it (chunks are shared between them, never copied).
    /// </summary>
    private int TakeSlot()
    {
        if (_freeHead >= 0)
        {
            int free = _freeHead;
            _freeHead = _nextFree[free / SlotsPerChunk][free % SlotsPerChunk];
            return free;
        }

        int slot = _slotCount;
        int chunk = slot / SlotsPerChunk;
        if (chunk == _slots.Length)
        {
            // The chunk directories double: references to chunks only, one per 1,024 slots.
            PolicyNode?[][] slots = new PolicyNode?[Math.Max(4, 2 * _slots.Length)][];
            Array.Copy(_slots, slots, _slots.Length);
            slots[chunk] = new PolicyNode?[SlotsPerChunk];
            Array.Resize(ref _nextFree, slots.Length);
            _nextFree[chunk] = new int[SlotsPerChunk];
            Volatile.Write(ref _slots, slots);
        }
        else if (_slots[chunk] is null)
        {
            _nextFree[chunk] = new int[SlotsPerChunk];
            Volatile.Write(ref _slots[chunk], new PolicyNode?[SlotsPerChunk]);
        }

        Volatile.Write(ref _slotCount, slot + 1);
        return slot;
    }

    /// <summary>One region: an intrusive doubly linked list, least recently accessed first. Touched under the policy's lock.</summary>
    private sealed class AccessOrder(Region region)
    {
        internal PolicyNode? First { get; private set; }

        internal int Count { get; private set; }

        private PolicyNode? _last;

        internal void AddLast(PolicyNode node)
        {
            Debug.Assert(node.Region == Region.None, "A node is on one list at most.");
            node.Region = region;
            node.Previous = _last;
            node.Next = null;
            if (_last is null)
            {
                First = node;
            }
            else
            {
                _last.Next = node;
            }

            _last = node;
            Count++;
        }

        internal void Remove(PolicyNode node)
        {
            Debug.Assert(node.Region == region, "The node is on this list.");
            if (node.Previous is null)
            {
                First = node.Next;
            }
            else
            {
                node.Previous.Next = node.Next;
            }

            if (node.Next is null)
            {
                _last = node.Previous;
            }
            else
            {
                node.Next.Previous = node.Previous;
            }

            node.Previous = node.Next = null;
            node.Region = Region.None;
            Count--;
        }

        internal void MoveToLast(PolicyNode node)
        {
            if (!ReferenceEquals(node, _last))
            {
                Remove(node);
                AddLast(node);
            }
        }
    }
}

/// <summary>
/// The policy's record of one cached key, which is also the key's first cached address (<see cref="CachedAddress"/>):
/// one object per cached grain beside the map's entry. <see cref="Key"/>, <see cref="Hash"/>,
/// <see cref="CachedAddress.Sample"/> (and the <see cref="Slot"/> it names) never change; <see cref="Taken"/> is written under the
/// policy's lock and read without it; every other field of its own is touched only under the policy's lock. The
/// fields a hit reads are the base type's, laid out before these.
/// </summary>
internal sealed class PolicyNode(GrainAddress address, int version, int accessEpoch, int hash, long sample)
    : CachedAddress(address, version, sample, accessEpoch)
{
    /// <summary>The key: the grain of the key's first address (an update is for the same grain).</summary>
    internal GrainId Key => Address.GrainId;

    internal int Hash { get; } = hash;

    /// <summary>The node's slot in the policy's slot table, read from its sample.</summary>
    internal int Slot => SlotOf(Sample);

    /// <summary>The node's number (the nodes the policy had made when it made this one, itself included; wraps), read from its sample.</summary>
    internal uint Number => (uint)(Sample >> 32);

    internal override PolicyNode Node => this;

    /// <summary>A node's sample: its number (high half) and its slot + 1 (low half), so never 0.</summary>
    internal static long SampleOf(uint number, int slot) => ((long)number << 32) | (uint)(slot + 1);

    /// <summary>The slot a sample names (-1 for 0, which names none).</summary>
    internal static int SlotOf(long sample) => (int)(uint)sample - 1;

    internal PolicyNode? Previous;
    internal PolicyNode? Next;
    internal WindowTinyLfuPolicy.Region Region;

    /// <summary>Dropped by the policy (removed, evicted or expired): never linked again, its slot freed.</summary>
    internal bool Dropped;

    /// <summary>
    /// Taken for removal (evicted or expired): the caller that took it removes the entry. A writer that updates the
    /// key's entry reads it without the lock: an entry whose node was taken gets a new node rather than keeping this
    /// one, so that the removal cannot be undone by an update that carries over a node the policy has forgotten.
    /// </summary>
    internal volatile bool Taken;

    /// <summary>The policy clock's timestamp of the last access seen.</summary>
    internal long LastAccess;
}
