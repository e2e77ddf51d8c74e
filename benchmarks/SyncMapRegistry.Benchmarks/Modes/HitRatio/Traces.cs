using Orleans.Runtime.GrainDirectory;

namespace SyncMapRegistry.Benchmarks.Modes.HitRatio;

/// <summary>A named request sequence: grain indexes in <c>[0, grains)</c>, the same for every cache.</summary>
/// <param name="Name">The trace as the table shows it.</param>
/// <param name="Requests">Grain indexes, warm-up first.</param>
internal sealed record Trace(string Name, int[] Requests);

/// <summary>
/// The hit-ratio traces (fixed seeds): fixed Zipf popularity; Zipf whose popularity drifts (the ranks rotate to new
/// grains in steps); Zipf with one-off scans mixed in (runs of grains never requested again).
/// </summary>
internal static class Traces
{
    /// <summary>
    /// Plays <paramref name="count"/> requests of <paramref name="sequence"/> (grain indexes) from
    /// <paramref name="offset"/>, wrapping, as BitFaster's hit-rate method does: each looks its grain up, and a miss
    /// adds it.
    /// </summary>
    /// <returns>The requests that hit.</returns>
    internal static long Play(IGrainDirectoryCache cache, GrainAddress[] grains, int[] sequence, int offset, int count)
    {
        long hits = 0;
        for (int n = 0; n < count; n++)
        {
            GrainAddress grain = grains[sequence[(offset + n) % sequence.Length]];
            if (cache.LookUp(grain.GrainId, out _, out _))
            {
                hits++;
            }
            else
            {
                cache.AddOrUpdate(grain, 1);
            }
        }

        return hits;
    }

    /// <summary>Requests for grains by a fixed Zipf law of exponent <paramref name="s"/>.</summary>
    internal static Trace Zipf(int grains, double s, int length, int seed = 42)
    {
        var zipf = new ZipfSampler(grains, s, seed);
        return new($"Zipf {s:F1}", [.. Enumerable.Range(0, length).Select(_ => zipf.Next())]);
    }

    /// <summary>
    /// Zipf 1.0 whose popularity drifts: every <c>length / 20</c> requests a tenth of the ranks move to grains that were
    /// unpopular until then (each rank's grain shifts by a tenth of the grains), so what was hot cools and new grains
    /// warm up, as a workload's users move on.
    /// </summary>
    internal static Trace Drifting(int grains, int length, int seed = 43)
    {
        var zipf = new ZipfSampler(grains, 1.0, seed);
        int phase = Math.Max(1, length / 20);
        int shift = Math.Max(1, grains / 10);
        int[] requests = new int[length];
        for (int n = 0; n < length; n++)
        {
            requests[n] = (zipf.Next() + ((n / phase) * shift)) % grains;
        }

        return new("drifting Zipf 1.0", requests);
    }

    /// <summary>
    /// Zipf 1.0 with one-off scans: a fifth of the requests come in runs of <paramref name="scanLength"/> grains that
    /// are requested once and never again (indexes past the Zipf grains), as a sweep over all users would.
    /// </summary>
    internal static Trace WithScans(int grains, int length, int scanLength, int seed = 44)
    {
        var zipf = new ZipfSampler(grains, 1.0, seed);
        var random = new Random(seed);
        int[] requests = new int[length];
        int oneOff = grains;
        for (int n = 0; n < length;)
        {
            if (random.Next(4 * scanLength) == 0 && n + scanLength <= length)
            {
                for (int i = 0; i < scanLength; i++)
                {
                    requests[n++] = oneOff++;
                }
            }
            else
            {
                requests[n++] = zipf.Next();
            }
        }

        return new($"Zipf 1.0 + scans of {scanLength:N0}", requests);
    }

    /// <summary>
    /// Zipf-distributed item indexes by inverse CDF: rank <c>k</c> (1-based) has probability proportional to
    /// <c>1 / k^s</c>; ranks map to items through a fixed shuffle, so that popularity does not follow the item order.
    /// </summary>
    private sealed class ZipfSampler
    {
        private readonly double[] _cumulative;
        private readonly int[] _itemOfRank;
        private readonly Random _random;

        internal ZipfSampler(int count, double s, int seed)
        {
            _cumulative = new double[count];
            double total = 0;
            for (int rank = 1; rank <= count; rank++)
            {
                total += 1 / Math.Pow(rank, s);
                _cumulative[rank - 1] = total;
            }

            for (int i = 0; i < count; i++)
            {
                _cumulative[i] /= total;
            }

            _random = new Random(seed);
            _itemOfRank = [.. Enumerable.Range(0, count)];
            _random.Shuffle(_itemOfRank);
        }

        internal int Next()
        {
            int rank = Array.BinarySearch(_cumulative, _random.NextDouble());
            rank = rank < 0 ? ~rank : rank;
            return _itemOfRank[Math.Min(rank, _itemOfRank.Length - 1)];
        }
    }
}
