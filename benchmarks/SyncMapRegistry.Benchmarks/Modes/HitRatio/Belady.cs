namespace SyncMapRegistry.Benchmarks.Modes.HitRatio;

/// <summary>
/// Belady's MIN with bypass, the offline optimum: on a miss, of the cached grains and the one requested, the one
/// whose next request lies furthest ahead is left out. No online policy can hit more often on the same trace and cap.
/// O(n log cap), with the next-use positions computed in one backward pass.
/// </summary>
internal static class Belady
{
    /// <summary>The optimum's hits over the requests from <paramref name="warmup"/> on.</summary>
    internal static double HitRatio(int[] requests, int cap, int warmup)
    {
        int[] nextUse = new int[requests.Length];
        var lastSeen = new Dictionary<int, int>();
        for (int n = requests.Length - 1; n >= 0; n--)
        {
            nextUse[n] = lastSeen.TryGetValue(requests[n], out int next) ? next : int.MaxValue;
            lastSeen[requests[n]] = n;
        }

        // The cache: grain -> its next use; a max-heap of (next use, grain) with stale pairs skipped lazily.
        var cached = new Dictionary<int, int>(cap);
        var byNextUse = new PriorityQueue<int, int>(Comparer<int>.Create(static (a, b) => b.CompareTo(a)));
        long hits = 0;
        for (int n = 0; n < requests.Length; n++)
        {
            int grain = requests[n];
            if (cached.ContainsKey(grain))
            {
                hits += n >= warmup ? 1 : 0;
                cached[grain] = nextUse[n];
                byNextUse.Enqueue(grain, nextUse[n]);
                continue;
            }

            if (nextUse[n] == int.MaxValue)
            {
                continue; // never requested again: bypass
            }

            if (cached.Count == cap)
            {
                while (true)
                {
                    byNextUse.TryPeek(out int furthest, out int use);
                    if (cached.TryGetValue(furthest, out int current) && current == use)
                    {
                        break;
                    }

                    byNextUse.Dequeue(); // stale
                }

                byNextUse.TryPeek(out int victim, out int victimUse);
                if (victimUse < nextUse[n])
                {
                    continue; // the requested grain is wanted last: bypass it
                }

                byNextUse.Dequeue();
                cached.Remove(victim);
            }

            cached[grain] = nextUse[n];
            byNextUse.Enqueue(grain, nextUse[n]);
        }

        return (double)hits / (requests.Length - warmup);
    }
}
