using System.Diagnostics;
using System.Reflection;
using System.Text.Json;
using SyncMapRegistry.Host.Harness;

namespace SyncMapRegistry.Cluster.Tests;

/// <summary>One <c>STATUS {json}</c> line of a host process (the Host's own <see cref="StatusLine"/>), and when the test read it.</summary>
/// <param name="ReceivedAtMs">When the test read the line (Unix ms).</param>
/// <param name="Line">The line.</param>
internal sealed record HostStatus(long ReceivedAtMs, StatusLine Line)
{
    /// <summary>When the process wrote the line (Unix ms).</summary>
    public long T => Line.T;

    public string Phase => Line.Phase;

    /// <summary>The address of the process's first silo.</summary>
    public string SiloAddress => Line.Silos[0].Address;

    /// <summary>The registry of the process's first silo.</summary>
    public RegistryStatusLine Registry => Line.Silos[0].Registry ?? throw new InvalidOperationException("The silo runs no registry.");

    public MembershipStatusLine Membership => Line.Membership ?? throw new InvalidOperationException("The process hosts no silo.");

    public WorkloadStatusLine Workload => Line.Workload ?? throw new InvalidOperationException("The process drives no workload.");

    public long Calls => Line.Workload?.Calls ?? 0;

    public long Failed => Line.Workload?.Failed ?? 0;

    /// <summary>Directory cache entries of this process's first silo that point at <paramref name="silo"/>.</summary>
    public int EntriesPointingAt(string silo) => Registry.EntriesBySilo.GetValueOrDefault(silo);

    /// <summary>Grains last seen on <paramref name="silo"/> by this process's workload.</summary>
    public int GrainsOn(string silo) => Workload.GrainsBySilo.GetValueOrDefault(silo);

    /// <summary>The membership status of <paramref name="silo"/> as this process sees it, or <c>null</c>.</summary>
    public string? MemberStatus(string silo) => Membership.Members.GetValueOrDefault(silo);

    public long? DeadSince(string silo) => Membership.DeadSince.TryGetValue(silo, out long t) ? t : null;

    public long? PurgedAt(string silo) => Membership.PurgedAt.TryGetValue(silo, out long t) ? t : null;

    /// <summary>The workload's outcome for the grains whose home is <paramref name="silo"/>.</summary>
    public TargetOutcome? Target(string silo) => Workload.Targets.TryGetValue(silo, out TargetOutcome target) ? target : null;

    /// <summary>Calls that succeeded to the grains whose home is any silo but <paramref name="silo"/>.</summary>
    public long SucceededToOthersThan(string silo) => Workload.Targets.Where(t => t.Key != silo).Sum(t => t.Value.Succeeded);

    /// <summary>Calls that failed to the grains whose home is any silo but <paramref name="silo"/>.</summary>
    public long FailedToOthersThan(string silo) => Workload.Targets.Where(t => t.Key != silo).Sum(t => t.Value.Failed);

    /// <summary>The line as the process wrote it, for failure messages.</summary>
    public override string ToString() => Line.ToLine();

    /// <summary>A map of the line as JSON, for test output.</summary>
    public static string Text<TValue>(IReadOnlyDictionary<string, TValue> map) => JsonSerializer.Serialize(map);
}

/// <summary>
/// A host process (<c>dotnet exec SyncMapRegistry.Host.dll ...</c>): collects its STATUS lines and keeps the
/// rest of its output for failure messages. Disposing kills it if it still runs (a paused one too: SIGKILL ends it).
/// </summary>
internal sealed class HostProcess : IAsyncDisposable
{
    private const int TailLines = 60;

    private readonly Process _process;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private readonly List<HostStatus> _statuses = [];
    private readonly List<string> _lines = [];

    private HostProcess(string name, Process process, TimeProvider time)
    {
        Name = name;
        _process = process;
        _time = time;
    }

    public string Name { get; }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>The exit code, once the process has exited.</summary>
    public int ExitCode => _process.ExitCode;

    /// <summary>Waits for the process to exit by itself; <c>false</c> when it still runs after <paramref name="limit"/>.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan limit)
    {
        using var timeout = new CancellationTokenSource(limit);
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>The Host assembly the build placed beside the sources (see the project file).</summary>
    public static string HostAssemblyPath =>
        typeof(HostProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "HostAssemblyPath").Value!;

    /// <summary>The newest status line, or <c>null</c> before the first.</summary>
    public HostStatus? Latest
    {
        get
        {
            lock (_lock)
            {
                return _statuses.Count == 0 ? null : _statuses[^1];
            }
        }
    }

    /// <summary>The first status line that satisfies <paramref name="predicate"/>, or <c>null</c>.</summary>
    public HostStatus? First(Func<HostStatus, bool> predicate)
    {
        lock (_lock)
        {
            return _statuses.FirstOrDefault(predicate);
        }
    }

    public static HostProcess Start(string name, IEnumerable<string> arguments, TimeProvider time)
    {
        string host = HostAssemblyPath;
        if (!File.Exists(host))
        {
            throw new FileNotFoundException($"The Host is not built at {host}; build src/Host first (the test project's build does).", host);
        }

        var start = new ProcessStartInfo(DotnetPath())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(host)!,
        };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(host);
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // The run's settings are all on the command line: nothing from the environment may change them.
        foreach (string key in start.Environment.Keys.Where(k => k.StartsWith("OTEL_", StringComparison.Ordinal) || k.StartsWith("SyncMapHost__", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(key);
        }

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var host_ = new HostProcess(name, process, time);
        process.OutputDataReceived += (_, e) => host_.OnLine(e.Data, error: false);
        process.ErrorDataReceived += (_, e) => host_.OnLine(e.Data, error: true);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return host_;
    }

    /// <summary>SIGKILL: the process ends at once, without closing anything.</summary>
    public void Kill() => _process.Kill(entireProcessTree: true);

    /// <summary>SIGSTOP: the process hangs. Its sockets stay open, so peers see a silo that accepts connections and never answers.</summary>
    public Task PauseAsync() => SignalAsync("STOP");

    /// <summary>SIGCONT: a paused process runs on from where it stopped.</summary>
    public Task ResumeAsync() => SignalAsync("CONT");

    /// <summary>The status lines written at or after <paramref name="unixMs"/> (by the process's clock).</summary>
    public IReadOnlyList<HostStatus> Since(long unixMs)
    {
        lock (_lock)
        {
            return [.. _statuses.Where(s => s.T >= unixMs)];
        }
    }

    /// <summary>Whether the process wrote a line (STATUS lines left out) that contains <paramref name="text"/>.</summary>
    public bool Wrote(string text)
    {
        lock (_lock)
        {
            return _lines.Exists(line => line.Contains(text, StringComparison.Ordinal));
        }
    }

    /// <summary>
    /// The last lines the process wrote (STATUS lines left out), for failure messages, after Orleans' reason for a
    /// fatal end if it wrote one (its stack trace would push the reason out of the tail).
    /// </summary>
    public string Tail()
    {
        lock (_lock)
        {
            string? fatal = _lines.Find(line => line.Contains("FATAL EXCEPTION", StringComparison.Ordinal));
            return $"--- {Name} (pid {_process.Id}{(_process.HasExited ? $", exited {_process.ExitCode}" : "")}) ---\n"
                + (fatal is null ? "" : fatal + "\n[...]\n")
                + string.Join('\n', _lines.TakeLast(TailLines));
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }

            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (Exception exception) when (exception is InvalidOperationException or OperationCanceledException)
        {
            // Never started, or already gone.
        }
        finally
        {
            _process.Dispose();
        }
    }

    private static string DotnetPath()
    {
        // The test host runs under the same dotnet that built the Host.
        string? fromHost = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(fromHost) && File.Exists(fromHost))
        {
            return fromHost;
        }

        string? current = Environment.ProcessPath;
        return current is not null && Path.GetFileNameWithoutExtension(current) == "dotnet" ? current : "dotnet";
    }

    private void OnLine(string? line, bool error)
    {
        if (line is null)
        {
            return;
        }

        if (!error && line.StartsWith(StatusLine.Prefix, StringComparison.Ordinal))
        {
            if (!StatusLine.TryParse(line, out StatusLine? parsed))
            {
                Keep("[unreadable STATUS line] " + line);
                return;
            }

            lock (_lock)
            {
                _statuses.Add(new HostStatus(_time.GetUtcNow().ToUnixTimeMilliseconds(), parsed));
            }

            return;
        }

        Keep(error ? "[stderr] " + line : line);
    }

    private void Keep(string line)
    {
        lock (_lock)
        {
            _lines.Add(line);
        }
    }

    /// <summary>Sends a signal with kill(1): .NET has no API for SIGSTOP and SIGCONT.</summary>
    private async Task SignalAsync(string signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", ["-" + signal, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]) { UseShellExecute = false })
            ?? throw new InvalidOperationException("kill(1) did not start.");
        await kill.WaitForExitAsync();
        if (kill.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill -{signal} {_process.Id} exited with {kill.ExitCode}.");
        }
    }
}
