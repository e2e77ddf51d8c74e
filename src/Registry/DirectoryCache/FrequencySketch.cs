using System.Numerics;

namespace SyncMapRegistry;

/// <summary>
/// How often each key was seen lately, approximately: a count-min sketch of 4-bit counters with periodic halving
/// (TinyLFU's "reset"), after Caffeine's <c>FrequencySketch</c>. A key's frequency is the least of its four
/// counters, each in a different 16-counter word of the table; counters saturate at 15. After
/// <see cref="SampleSize"/> increments every counter is halved, so old popularity fades (the sketch ages).
/// </summary>
/// <remarks>
/// Not thread-safe: its owner (<see cref="WindowTinyLfuPolicy"/>) calls it under its lock. Increments never do more
/// than O(1) work: a halving that falls due is only flagged (<see cref="ResetDue"/>), and the owner runs it off the
/// message path, one <see cref="HalveChunk"/> at a time, so that no caller holds the lock for a whole table.
/// </remarks>
internal sealed class FrequencySketch
{
    /// <summary>Words halved per <see cref="HalveChunk"/> call (32 KiB of table).</summary>
    internal const int WordsPerHalvingChunk = 4_096;

    private const long ResetMask = 0x7777_7777_7777_7777L;

    private static readonly ulong[] s_seeds = [0xC3A5_C85C_97CB_3127UL, 0xB492_B66F_BE98_F273UL, 0x9AE1_6A3B_2F90_404FUL, 0xCBF2_9CE4_8422_2325UL];

    private long[] _table = [];
    private int _mask;

    /// <summary>Increments since the last halving.</summary>
    private int _size;

    /// <summary>The next word a halving in progress will halve; -1 when none is in progress.</summary>
    private int _halvingAt = -1;

    /// <summary>Increments between halvings: ten per key of the cache's cap, as Caffeine and BitFaster do (not per counter of the table, which is up to twice as many, and ages the counts half as fast).</summary>
    internal int SampleSize { get; private set; }

    /// <summary>Whether <see cref="SampleSize"/> increments have been made since the last halving began.</summary>
    internal bool ResetDue => _size >= SampleSize && _table.Length > 0;

    /// <summary>The keys the table is sized for (a power of two); 0 before <see cref="Install"/>.</summary>
    internal int Capacity => _table.Length;

    /// <summary>The table length for <paramref name="keys"/> keys: a power of two, at least 16.</summary>
    internal static int TableLength(int keys) => (int)Math.Min(BitOperations.RoundUpToPowerOf2((uint)Math.Max(keys, 16)), 1 << 30);

    /// <summary>
    /// Replaces the table with <paramref name="table"/> (zeroed, of a <see cref="TableLength"/>), discarding what was
    /// counted, when it is larger; otherwise does nothing. O(1): the caller allocates the table beforehand, outside
    /// any lock, since zeroing megabytes is not O(1).
    /// </summary>
    /// <param name="table">The new table.</param>
    /// <param name="keys">The keys counted (the cache's cap): the halving period is ten increments per key.</param>
    internal void Install(long[] table, int keys)
    {
        if (table.Length <= _table.Length)
        {
            return;
        }

        _table = table;
        _mask = table.Length - 1;
        SampleSize = (int)Math.Min(int.MaxValue, 10L * Math.Max(1, keys));
        _size = 0;
        _halvingAt = -1;
    }

    /// <summary>The estimated number of times <paramref name="hash"/> was seen since the counters last aged (0..15).</summary>
    internal int Frequency(int hash)
    {
        if (_table.Length == 0)
        {
            return 0;
        }

        int frequency = int.MaxValue;
        ulong spread = Spread(hash);
        for (int i = 0; i < 4; i++)
        {
            (int word, int shift) = Locate(spread, i);
            frequency = Math.Min(frequency, (int)((_table[word] >>> shift) & 0xF));
        }

        return frequency;
    }

    /// <summary>Counts one sighting of <paramref name="hash"/>: each of its four counters that is below 15 rises by one.</summary>
    internal void Increment(int hash)
    {
        if (_table.Length == 0)
        {
            return;
        }

        ulong spread = Spread(hash);
        bool added = false;
        for (int i = 0; i < 4; i++)
        {
            (int word, int shift) = Locate(spread, i);
            long counter = (_table[word] >>> shift) & 0xF;
            if (counter < 15)
            {
                _table[word] += 1L << shift;
                added = true;
            }
        }

        if (added)
        {
            _size++;
        }
    }

    /// <summary>
    /// Halves up to <see cref="WordsPerHalvingChunk"/> words of a halving that is due or in progress.
    /// </summary>
    /// <returns>Whether the halving is complete (or none was due).</returns>
    internal bool HalveChunk()
    {
        if (_halvingAt < 0)
        {
            if (!ResetDue)
            {
                return true;
            }

            // The sketch holds half of what it counted once every counter is halved (Caffeine also subtracts the
            // odd counters' lost halves; the increments made while the chunks go by make that moot here).
            _halvingAt = 0;
            _size /= 2;
        }

        int end = Math.Min(_table.Length, _halvingAt + WordsPerHalvingChunk);
        for (int i = _halvingAt; i < end; i++)
        {
            _table[i] = (_table[i] >>> 1) & ResetMask;
        }

        _halvingAt = end == _table.Length ? -1 : end;
        return _halvingAt < 0;
    }

    private static ulong Spread(int hash)
    {
        ulong x = (uint)hash;
        x = (x ^ (x >> 17)) * 0xED5A_D4BB_AC4C_1B51UL;
        x = (x ^ (x >> 11)) * 0xAC4C_1B51_31B5_AB53UL;
        return x ^ (x >> 15);
    }

    /// <summary>The word and the bit offset of the <paramref name="i"/>-th counter of a key.</summary>
    private (int Word, int Shift) Locate(ulong spread, int i)
    {
        ulong h = (spread + s_seeds[i]) * s_seeds[i];
        h ^= h >> 32;
        int word = (int)h & _mask;
        int shift = (int)((h >> 40) & 0xF) << 2;
        return (word, shift);
    }
}
