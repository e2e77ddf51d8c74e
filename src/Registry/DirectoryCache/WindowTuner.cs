namespace SyncMapRegistry;

/// <summary>
/// Sizes the policy's window, miss by miss, by which side of the cache would have kept the key just missed: ARC's
/// rule (Megiddo and Modha) applied to W-TinyLFU's two regions, with equal, small ghost lists. It remembers, by key
/// hash only, the last <see cref="GhostCapacity"/> keys each side turned away: the window's candidates that lost
/// admission (<see cref="OnRejected"/>), and main's victims that lost to a candidate (<see cref="OnEvictedFromMain"/>).
/// A miss on a key the window turned away lately says that a slightly larger window would have hit: the window grows
/// by <see cref="Step"/>. A miss on a key main evicted lately says that a slightly larger main would have: the window
/// shrinks by as much (<see cref="OnMiss"/>).
/// </summary>
/// <remarks>
/// <para>
/// Why small and equal. Both lists hold the same number of departures, a small share of the cap
/// (<see cref="GhostShare"/>), so that each estimates the same thing: the hits that the next few keys of room would
/// earn on its side, at the margin. Ghost lists as long as their regions (ARC's own sizing) weigh a window of a few
/// keys against a main region of thousands, and the window then shrinks to one key on every trace (the drifting trace
/// at 10%: 63.3% hits, Orleans' cache 66.8%); long equal lists (a quarter of the cap) measure average rather than
/// marginal worth, and fixed Zipf 1.0 at 10% then grows the window to 80% of the cap (74.4% hits, BitFaster's
/// <c>ConcurrentLfu</c> 79.3%). Two percent measured better than five on the <c>hitratio</c> traces, and a step of a
/// thousandth of the cap better than three or five thousandths (docs/registry.md).
/// </para>
/// <para>
/// Why not Caffeine's hill climber, which this replaces. The climber moves once per sample period (ten requests per
/// key of the cap) on the change of the period's hit ratio. A workload that shifts faster than that period, or whose
/// shifts make consecutive periods' hit ratios differ for reasons of their own, walks it at random: on the drifting
/// trace at a cap of 10,000 it ended with a window of 1,000-4,700 keys and 65.9% hits, where a fixed half-cap window
/// gets 68.1% and this tuner 69.7%. The tuner's signal comes with every miss, so it follows a shift within the phase.
/// </para>
/// <para>
/// Cost. O(1) per call: a ring of hashes and a table of their counts per list (4 bytes in the ring and one table
/// entry, about 16 bytes, per ghost), allocated when the tuner is made, which the policy does outside its lock once
/// the cache first holds half its cap. Called under the policy's lock; not thread-safe.
/// Collisions of hashes only blur the signal (a ghost is a hint, never an answer).
/// </para>
/// </remarks>
internal sealed class WindowTuner
{
    /// <summary>Each ghost list's length as a share of the cap.</summary>
    internal const double GhostShare = 0.02;

    /// <summary>The shortest ghost list, for small caps.</summary>
    internal const int MinimumGhosts = 16;

    private readonly Ghosts _rejected;
    private readonly Ghosts _evicted;

    /// <param name="maximum">The cache's cap.</param>
    internal WindowTuner(int maximum)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maximum);
        GhostCapacity = Math.Max(MinimumGhosts, (int)(maximum * GhostShare));
        Step = Math.Max(1, maximum / 1_000);
        _rejected = new Ghosts(GhostCapacity);
        _evicted = new Ghosts(GhostCapacity);
    }

    /// <summary>The departures each list remembers.</summary>
    internal int GhostCapacity { get; }

    /// <summary>The keys the window moves by per telling miss: a thousandth of the cap, at least one.</summary>
    internal int Step { get; }

    /// <summary>A window's candidate lost admission and left the cache.</summary>
    internal void OnRejected(int hash) => _rejected.Add(hash);

    /// <summary>Main's victim lost to a window's candidate and left the cache.</summary>
    internal void OnEvictedFromMain(int hash) => _evicted.Add(hash);

    /// <summary>
    /// A key missed and is being added: how many keys the window should move by. Positive (grow) when the window turned
    /// the key away lately, negative (shrink) when main did, else 0. A key both turned away lately counts as the window's.
    /// </summary>
    internal int OnMiss(int hash) =>
        _rejected.Contains(hash) ? Step
        : _evicted.Contains(hash) ? -Step
        : 0;

    /// <summary>The last <c>capacity</c> hashes added, oldest overwritten first, with a count per hash for membership.</summary>
    private sealed class Ghosts(int capacity)
    {
        private readonly int[] _ring = new int[capacity];

        /// <summary>How many times each hash is in the ring: at most <c>capacity</c> keys, so the table never grows.</summary>
        private readonly Dictionary<int, int> _counts = new(capacity);
        private int _next;
        private int _size;

        internal void Add(int hash)
        {
            if (_size == _ring.Length)
            {
                // Full: the oldest departure (at _next) is forgotten as the newest takes its place.
                int oldest = _ring[_next];
                int count = _counts[oldest];
                if (count == 1)
                {
                    _counts.Remove(oldest);
                }
                else
                {
                    _counts[oldest] = count - 1;
                }
            }
            else
            {
                _size++;
            }

            _ring[_next] = hash;
            _next = _next + 1 == _ring.Length ? 0 : _next + 1;
            _counts[hash] = _counts.GetValueOrDefault(hash) + 1;
        }

        internal bool Contains(int hash) => _counts.ContainsKey(hash);
    }
}
