using System.Diagnostics;
using System.Globalization;
using SyncMapRegistry.Testing;

namespace SyncMapRegistry.Cluster.Tests;

/// <summary>
/// A redis-server of the test's own (Debian's <c>redis-server</c> package, which <c>.ci/redis</c> installs), on
/// 127.0.0.1 at a free port, which the test may stop and start again without touching the shared SYNCMAP_REDIS. Its
/// data survives a stop, as a production store's would: the stop is <c>SHUTDOWN SAVE</c>, which writes
/// <c>dump.rdb</c>, and the next start loads it. Disposing stops it and deletes its directory.
/// </summary>
internal sealed class RedisServer : IAsyncDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(15);

    private readonly string _directory;
    private readonly TimeProvider _time;
    private Process? _process;

    private RedisServer(int port, string directory, TimeProvider time)
    {
        Port = port;
        _directory = directory;
        _time = time;
    }

    public int Port { get; }

    /// <summary>The StackExchange.Redis connection string: <c>127.0.0.1:PORT</c>.</summary>
    public string Endpoint => string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{Port}");

    /// <summary>Starts a server; without redis-server on the PATH the test is skipped, or fails when CI=true.</summary>
    public static async Task<RedisServer> StartAsync(TimeProvider time)
    {
        if (!OnPath("redis-server") || !OnPath("redis-cli"))
        {
            const string Why = "redis-server and redis-cli are not on the PATH: this test starts a Redis server of its own. bash .ci/redis start installs them (Debian's redis-server package).";
            HostCluster.FailInCi(Why);
            Assert.Skip(Why);
        }

        string directory = Directory.CreateTempSubdirectory("syncmap-redis-").FullName;
        var server = new RedisServer(FreePorts.Range(1), directory, time);
        try
        {
            await server.StartAgainAsync();
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts the server (again) on the same port and directory; returns once it answers PING.</summary>
    public async Task StartAgainAsync()
    {
        if (_process is { HasExited: false })
        {
            throw new InvalidOperationException("The server runs already.");
        }

        _process?.Dispose();
        // It writes to its log file (below), nothing to standard output.
        var start = new ProcessStartInfo("redis-server") { UseShellExecute = false };
        foreach (string argument in (string[])[
            "--bind", "127.0.0.1", "--port", Port.ToString(CultureInfo.InvariantCulture), "--protected-mode", "yes",
            "--save", "", "--appendonly", "no", "--dir", _directory, "--dbfilename", "dump.rdb",
            "--logfile", Path.Combine(_directory, "redis.log")])
        {
            start.ArgumentList.Add(argument);
        }

        _process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start.");
        long started = _time.GetTimestamp();
        while (await PingAsync() != "PONG")
        {
            if (_process.HasExited || _time.GetElapsedTime(started) > Limit)
            {
                throw new InvalidOperationException($"redis-server on port {Port} did not answer (exited: {_process.HasExited}). Its log:\n{Log()}");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50), _time);
        }
    }

    /// <summary>Stops the server with <c>SHUTDOWN SAVE</c> (its data goes to disk) and waits for it to exit.</summary>
    public async Task StopAsync()
    {
        Process process = _process ?? throw new InvalidOperationException("Not started.");
        await CommandAsync("SHUTDOWN", "SAVE");
        using var timeout = new CancellationTokenSource(Limit);
        await process.WaitForExitAsync(timeout.Token);
    }

    /// <summary>Runs one command with redis-cli (<c>--raw</c>) and returns its output.</summary>
    public async Task<string> CommandAsync(params string[] command)
    {
        var start = new ProcessStartInfo("redis-cli") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in (string[])["-h", "127.0.0.1", "-p", Port.ToString(CultureInfo.InvariantCulture), "--raw", .. command])
        {
            start.ArgumentList.Add(argument);
        }

        using Process cli = Process.Start(start) ?? throw new InvalidOperationException("redis-cli did not start.");
        Task<string> error = cli.StandardError.ReadToEndAsync();
        string output = await cli.StandardOutput.ReadToEndAsync();
        await cli.WaitForExitAsync();
        return (output + await error).Trim();
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill();
            await process.WaitForExitAsync();
        }

        _process?.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private Task<string> PingAsync() => CommandAsync("PING");

    private string Log()
    {
        string log = Path.Combine(_directory, "redis.log");
        return File.Exists(log) ? File.ReadAllText(log) : "(none)";
    }

    private static bool OnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator).Any(d => d.Length > 0 && File.Exists(Path.Combine(d, program)));
}
