using System.Globalization;
using System.Net;
using System.Net.Sockets;
using SyncMapRegistry.Testing;

namespace SyncMapRegistry.Cluster.Tests;

/// <summary>
/// Host processes, one silo each, clustered through a Redis membership table with <c>--membership fast</c>; every
/// process drives open-loop load over the same grains, placed by a hash of their key over the silos. Disposing kills
/// every process that still runs.
/// </summary>
internal sealed class HostCluster : IAsyncDisposable
{
    public const int Grains = 300;

    /// <summary>
    /// Calls started per second per process (open loop): calls to a silo that died or hangs wait until it is declared
    /// dead, and must not hold back the calls to the others. Three processes at this rate leave a loaded 2-core
    /// machine the time to run membership's probes; at twice it, a killed silo was once not declared dead in 60 s.
    /// </summary>
    public const int RatePerProcess = 1000;

    private static readonly TimeSpan StartLimit = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(50);

    private readonly ITestOutputHelper _output;
    private readonly TimeProvider _time;
    private readonly List<HostProcess> _hosts = [];

    private HostCluster(ITestOutputHelper output, TimeProvider time)
    {
        _output = output;
        _time = time;
    }

    public IReadOnlyList<HostProcess> Hosts => _hosts;

    /// <summary>
    /// Starts <paramref name="processes"/> host processes against <paramref name="redis"/> and waits until every one
    /// runs its workload, has made calls, and has reached grains on every silo.
    /// </summary>
    public static async Task<HostCluster> StartAsync(string redis, int processes, ITestOutputHelper output, TimeProvider time)
    {
        var cluster = new HostCluster(output, time);
        string clusterId = "syncmap-faults-" + Guid.NewGuid().ToString("N")[..12];
        try
        {
            // One at a time: a silo still starting up on a loaded machine answers probes slowly, and fast membership
            // may vote it dead while others start beside it.
            for (int i = 0; i < processes; i++)
            {
                HostProcess host = HostProcess.Start($"silo {i}", Arguments(redis, clusterId, processes), time);
                cluster._hosts.Add(host);
                await cluster.WaitUntilAsync(cluster._hosts, $"{host.Name}'s silo is up (it writes STATUS lines)", StartLimit, () => host.Latest is not null);
            }

            await cluster.WaitUntilAsync(cluster._hosts, $"all {processes} processes run the workload and reach grains on every silo", StartLimit, () =>
                cluster._hosts.All(h => h.Latest is { Phase: "running", Calls: > 1000 } l && l.Workload.GrainsBySilo.Count == processes));
            return cluster;
        }
        catch (Exception) when (cluster.Dump())
        {
            throw;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>SYNCMAP_REDIS (<c>127.0.0.1:PORT</c>); without it the test is skipped, or fails when CI=true.</summary>
    public static string SharedRedis()
    {
        string? redis = Environment.GetEnvironmentVariable("SYNCMAP_REDIS");
        if (string.IsNullOrWhiteSpace(redis))
        {
            const string Why = "SYNCMAP_REDIS is not set: this cluster test needs a Redis server. Start one with eval \"$(bash .ci/redis start)\" (it sets SYNCMAP_REDIS=127.0.0.1:PORT) and stop it with bash .ci/redis stop.";
            FailInCi(Why);
            Assert.Skip(Why);
        }

        redis = redis.Trim();
        string[] parts = redis.Split(':');
        if (parts.Length != 2 || !IPAddress.TryParse(parts[0], out IPAddress? address) || !int.TryParse(parts[1], CultureInfo.InvariantCulture, out int port))
        {
            Assert.Fail($"SYNCMAP_REDIS must be HOST:PORT with an IP address, for example 127.0.0.1:6379 (got '{redis}').");
            throw new InvalidOperationException();
        }

        using var probe = new TcpClient();
        try
        {
            probe.Connect(new IPEndPoint(address, port));
        }
        catch (SocketException exception)
        {
            Assert.Fail($"SYNCMAP_REDIS={redis}, but nothing answers there ({exception.SocketErrorCode}). Is redis-server running? (bash .ci/redis start)");
        }

        return redis;
    }

    /// <summary>With CI=true a test that needs a server must run: it fails instead of being skipped.</summary>
    public static void FailInCi(string why)
    {
        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            Assert.Fail("CI=true, so this test must run. " + why);
        }
    }

    /// <summary>Polls <paramref name="condition"/>; fails with the processes' output when a watched process exits or time runs out.</summary>
    /// <returns>How long it took.</returns>
    public Task<TimeSpan> WaitUntilAsync(IReadOnlyList<HostProcess> watched, string what, TimeSpan limit, Func<bool> condition) =>
        WaitUntilAsync(watched, what, limit, () => Task.FromResult(condition()));

    /// <inheritdoc cref="WaitUntilAsync(IReadOnlyList{HostProcess}, string, TimeSpan, Func{bool})"/>
    public async Task<TimeSpan> WaitUntilAsync(IReadOnlyList<HostProcess> watched, string what, TimeSpan limit, Func<Task<bool>> condition)
    {
        long started = _time.GetTimestamp();
        while (!await condition())
        {
            if (watched.FirstOrDefault(h => h.HasExited) is { } exited)
            {
                Assert.Fail($"Waiting until {what}: {exited.Name} exited.\n{exited.Tail()}");
            }

            if (_time.GetElapsedTime(started) > limit)
            {
                Assert.Fail($"Waiting until {what}: not reached after {limit.TotalSeconds:0.#} s.");
            }

            await Task.Delay(Poll, _time);
        }

        TimeSpan took = _time.GetElapsedTime(started);
        _output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{_time.GetUtcNow():HH:mm:ss.fff} {what} (after {took.TotalSeconds:0.0} s)"));
        return took;
    }

    /// <summary>
    /// Waits until each of <paramref name="hosts"/> has made <paramref name="calls"/> more calls than it had made when
    /// this was called: the load goes on, whatever the machine's speed.
    /// </summary>
    public Task<TimeSpan> WaitForMoreCallsAsync(IReadOnlyList<HostProcess> hosts, long calls, TimeSpan limit)
    {
        long[] from = [.. hosts.Select(h => h.Latest!.Calls)];
        return WaitUntilAsync(hosts, $"each process makes {calls} more calls", limit, () =>
            hosts.Select((h, i) => h.Latest!.Calls - from[i]).All(made => made >= calls));
    }

    /// <summary>Writes each process's output and last STATUS line to the test output; for exception filters, so always <c>false</c>.</summary>
    public bool Dump()
    {
        foreach (HostProcess host in _hosts)
        {
            _output.WriteLine(host.Tail());
            if (host.Latest is { } latest)
            {
                _output.WriteLine("last " + latest);
            }
        }

        return false;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (HostProcess host in _hosts)
        {
            await host.DisposeAsync();
        }
    }

    private static string[] Arguments(string redis, string clusterId, int processes) =>
    [
        "--clustering", "redis",
        "--redis", redis,
        "--cluster-id", clusterId,
        "--role", "all",
        "--silos", "1",
        "--silo-port", FreePorts.Range(1).ToString(CultureInfo.InvariantCulture),
        "--gateway-port", FreePorts.Range(1).ToString(CultureInfo.InvariantCulture),
        "--await-silos", processes.ToString(CultureInfo.InvariantCulture),
        "--grains", Grains.ToString(CultureInfo.InvariantCulture),
        "--concurrency", "8",
        "--rate", RatePerProcess.ToString(CultureInfo.InvariantCulture),
        "--read-ratio", "1",
        "--membership", "fast",
        "--status-interval", "100ms",
        "--output", "plain",

        // A bound on a process the test fails to kill.
        "--duration", "180s",
    ];
}
