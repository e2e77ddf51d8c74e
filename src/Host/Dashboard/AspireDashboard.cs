using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Runtime.InteropServices;

namespace SyncMapRegistry.Host.Dashboard;

/// <summary>
/// The Aspire Dashboard, a local OTLP trace, metrics and log viewer, run as a child process from the
/// <c>Aspire.Dashboard.Sdk.linux-x64</c> package that restore put in the NuGet package folder (nothing is downloaded
/// at run time). It listens on free ports of 127.0.0.1: its web UI (with the telemetry JSON API under
/// <c>/api/telemetry</c>) and OTLP over HTTP and gRPC, all unsecured, as befits a viewer bound to loopback.
/// </summary>
/// <remarks>
/// Nothing outlives the host. <see cref="DisposeAsync"/> kills the dashboard, and so does the process's exit
/// (<see cref="AppDomain.ProcessExit"/>, raised on a normal exit and on SIGTERM, SIGINT and SIGQUIT). A host killed
/// outright (SIGKILL, a crash) runs no code at all, so the dashboard is started under a watchdog shell that checks
/// once a second whether the host is still alive and, when it is not, kills the dashboard.
/// </remarks>
internal sealed class AspireDashboard : IAsyncDisposable
{
    /// <summary>The package the executable ships in; it serves linux-x64 only.</summary>
    public const string PackageId = "Aspire.Dashboard.Sdk.linux-x64";

    private const string ExecutableMetadataKey = "AspireDashboardExecutable";
    private const int OutputLinesKept = 40;

    // The watchdog: starts the dashboard in the background, then waits while both it and the host live. When the
    // host is gone it kills the dashboard; a TERM or INT to the watchdog is passed on to the dashboard too.
    private const string WatchdogScript =
        """
        "$0" & child=$!
        trap 'kill -TERM "$child" 2>/dev/null; exit 0' TERM INT
        while kill -0 "$HOST_PID" 2>/dev/null && kill -0 "$child" 2>/dev/null; do sleep 1; done
        kill -TERM "$child" 2>/dev/null
        wait "$child"
        """;

    private readonly Process _process;
    private readonly Queue<string> _output = new();
    private readonly EventHandler _onProcessExit;
    private int _disposed;

    private AspireDashboard(Process process, Uri url, Uri otlpHttp, Uri otlpGrpc)
    {
        _process = process;
        Url = url;
        OtlpHttpEndpoint = otlpHttp;
        OtlpGrpcEndpoint = otlpGrpc;
        _onProcessExit = (_, _) => Kill();
        AppDomain.CurrentDomain.ProcessExit += _onProcessExit;
    }

    /// <summary>The dashboard's web UI; the telemetry API is under <c>api/telemetry/</c>.</summary>
    public Uri Url { get; }

    /// <summary>The OTLP/HTTP endpoint's base address (exporters append <c>/v1/traces</c> and so on).</summary>
    public Uri OtlpHttpEndpoint { get; }

    /// <summary>The OTLP/gRPC endpoint.</summary>
    public Uri OtlpGrpcEndpoint { get; }

    /// <summary>Whether the dashboard process has exited.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>
    /// The dashboard's executable, from the restored package, or <c>null</c> with the reason when this platform has
    /// none.
    /// </summary>
    public static string? FindExecutable(out string reason)
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.OSArchitecture != Architecture.X64)
        {
            reason = $"the Aspire Dashboard ships here as the NuGet package {PackageId}, which serves linux-x64 only; this machine is {RuntimeInformation.RuntimeIdentifier}. " +
                "Run any OTLP viewer yourself (samples/jaeger, or the Aspire Dashboard from its container image) and pass its address with --otlp-endpoint.";
            return null;
        }

        string? path = typeof(AspireDashboard).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == ExecutableMetadataKey)?.Value;
        if (string.IsNullOrEmpty(path) || !File.Exists(path))
        {
            reason = $"the Aspire Dashboard's executable is not where the build found it ('{path}'); restore the host again (dotnet restore src/Host) to bring back the package {PackageId}.";
            return null;
        }

        reason = "";
        return path;
    }

    /// <summary>Starts the dashboard and waits until its API answers.</summary>
    /// <exception cref="PlatformNotSupportedException">This platform has no dashboard executable.</exception>
    /// <exception cref="InvalidOperationException">The dashboard exited, or did not answer within <paramref name="timeout"/>.</exception>
    public static async Task<AspireDashboard> StartAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        string executable = FindExecutable(out string reason) ?? throw new PlatformNotSupportedException(reason);
        int[] ports = FreeLoopbackPorts(3);
        var url = new Uri($"http://127.0.0.1:{ports[0]}/");
        var otlpHttp = new Uri($"http://127.0.0.1:{ports[1]}/");
        var otlpGrpc = new Uri($"http://127.0.0.1:{ports[2]}/");

        var start = new ProcessStartInfo("/bin/sh")
        {
            WorkingDirectory = Path.GetDirectoryName(executable)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(WatchdogScript);
        start.ArgumentList.Add(executable);
        start.Environment["HOST_PID"] = Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["ASPNETCORE_URLS"] = url.AbsoluteUri.TrimEnd('/');
        start.Environment["ASPIRE_DASHBOARD_OTLP_HTTP_ENDPOINT_URL"] = otlpHttp.AbsoluteUri.TrimEnd('/');
        start.Environment["ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL"] = otlpGrpc.AbsoluteUri.TrimEnd('/');
        start.Environment["ASPIRE_DASHBOARD_UNSECURED_ALLOW_ANONYMOUS"] = "true";
        start.Environment["Dashboard__Api__Enabled"] = "true";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["Logging__LogLevel__Default"] = "Warning";

        // The host's own OTEL_* settings are for the host's exporters, not for the dashboard's.
        foreach (string key in start.Environment.Keys.Where(k => k.StartsWith("OTEL_", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(key);
        }

        Process process = Process.Start(start) ?? throw new InvalidOperationException("the Aspire Dashboard did not start.");
        var dashboard = new AspireDashboard(process, url, otlpHttp, otlpGrpc);
        process.OutputDataReceived += (_, e) => dashboard.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => dashboard.Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await dashboard.WaitUntilReadyAsync(timeout, cancellationToken);
            return dashboard;
        }
        catch
        {
            await dashboard.DisposeAsync();
            throw;
        }
    }

    private async Task WaitUntilReadyAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var api = new Uri(Url, "api/telemetry/resources");
        var clock = Stopwatch.StartNew();
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"the Aspire Dashboard exited with code {_process.ExitCode} before it was ready:{Environment.NewLine}{RecentOutput()}");
            }

            try
            {
                using HttpResponseMessage response = await http.GetAsync(api, cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                // Not listening yet.
            }

            if (clock.Elapsed > timeout)
            {
                throw new InvalidOperationException($"the Aspire Dashboard did not answer at {api} within {timeout.TotalSeconds:0} s:{Environment.NewLine}{RecentOutput()}");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken);
        }
    }

    /// <summary>The last lines the dashboard wrote, for error messages.</summary>
    public string RecentOutput()
    {
        lock (_output)
        {
            return string.Join(Environment.NewLine, _output);
        }
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.Enqueue(line);
            if (_output.Count > OutputLinesKept)
            {
                _output.Dequeue();
            }
        }
    }

    /// <summary>Ports on 127.0.0.1 that nothing listens on: each bound (all at once, so they differ), then released.</summary>
    private static int[] FreeLoopbackPorts(int count)
    {
        var listeners = new List<TcpListener>(count);
        try
        {
            for (int i = 0; i < count; i++)
            {
                var listener = new TcpListener(IPAddress.Loopback, 0);
                listener.Start();
                listeners.Add(listener);
            }

            return [.. listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port)];
        }
        finally
        {
            listeners.ForEach(l => l.Stop());
        }
    }

    private void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // It exited meanwhile.
        }
    }

    /// <summary>Kills the dashboard and its watchdog and waits for them to exit.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        AppDomain.CurrentDomain.ProcessExit -= _onProcessExit;
        Kill();
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await _process.WaitForExitAsync(wait.Token);
        }
        catch (OperationCanceledException)
        {
            // Killed; the kernel reaps it.
        }

        _process.Dispose();
    }
}
