using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace SyncMapRegistry.OrleansTests;

internal static class TestSupport
{
    private static int s_generation = 1;

    /// <summary>A port that was free a moment ago (bound to 0 and released).</summary>
    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>Distinct free ports.</summary>
    internal static int[] FreePorts(int count)
    {
        var ports = new HashSet<int>();
        while (ports.Count < count)
        {
            ports.Add(FreePort());
        }

        return [.. ports];
    }

    internal static SiloAddress Silo(int port) =>
        SiloAddress.New(new IPEndPoint(IPAddress.Loopback, port), Interlocked.Increment(ref s_generation));

    internal static GrainId Grain(long key) => GrainId.Create("test", key.ToString(System.Globalization.CultureInfo.InvariantCulture));

    internal static GrainAddress Address(GrainId grain, SiloAddress silo, ActivationId? activation = null) => new()
    {
        GrainId = grain,
        SiloAddress = silo,
        ActivationId = activation ?? ActivationId.NewId(),
    };

    /// <summary>Polls <paramref name="condition"/> until it holds or <paramref name="timeout"/> passes.</summary>
    /// <returns>Whether it held.</returns>
    internal static async Task<bool> WaitUntilAsync(Func<bool> condition, TimeSpan timeout)
    {
        var stopwatch = Stopwatch.StartNew();
        while (!condition())
        {
            if (stopwatch.Elapsed > timeout)
            {
                return false;
            }

            await Task.Delay(50);
        }

        return true;
    }

    internal static string Describe(GrainRegistryStatistics s) =>
        $"{s.Name}: count={s.Count} hits={s.LookupHits} misses={s.LookupMisses} updates={s.Updates} removals={s.Removals} purged={s.Purged} evicted={s.Evicted} | map: promotions={s.Map.Promotions} misses={s.Map.Misses} rebuilds={s.Map.DirtyRebuilds} copied={s.Map.RebuildEntriesCopied} expunged={s.Map.EntriesExpunged} read={s.Map.ReadCount} dirty={s.Map.DirtyCount}";
}
