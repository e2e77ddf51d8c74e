using System.Diagnostics;
using System.Globalization;

namespace SyncMapRegistry.Host.Tests;

/// <summary>The host as a process of its own, stopped by signals as a shell, a terminal or GNU <c>timeout</c> stops it.</summary>
public sealed class HostSignalTests
{
    [Fact]
    public async Task TwoSigintsBackToBackAsGnuTimeoutSendsThemStillPrintTheSummaryAndExit0()
    {
        // timeout -s INT sends SIGINT to the host, then to its process group, the host included: two signals within
        // microseconds. The second must not count as "end now".
        string host = Path.Combine(AppContext.BaseDirectory, "SyncMapRegistry.Host.dll");
        var start = new ProcessStartInfo(Dotnet()) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in (string[])["exec", host, "--silos", "1", "--grains", "10", "--concurrency", "2", "--duration", "5m", "--output", "plain",
                     "--silo-port", Text(FreePorts.Range(1)), "--gateway-port", Text(FreePorts.Range(1))])
        {
            start.ArgumentList.Add(arg);
        }

        foreach (string key in start.Environment.Keys.Where(k => k.StartsWith("SyncMapHost__", StringComparison.Ordinal) || k.StartsWith("OTEL_", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(key);
        }

        using var process = Process.Start(start)!;
        var output = new StringWriter();
        var error = new StringWriter();
        var running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (output)
            {
                output.WriteLine(e.Data);
            }

            if (e.Data.StartsWith("progress phase=running", StringComparison.Ordinal))
            {
                running.TrySetResult();
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            lock (error)
            {
                error.WriteLine(e.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await running.Task.WaitAsync(TimeSpan.FromMinutes(2), TestContext.Current.CancellationToken);

            // Both signals from one shell, kill being its builtin: they arrive as close together as timeout's two.
            using (var kill = Process.Start(new ProcessStartInfo("sh", ["-c", "kill -INT $0; kill -INT $0", Text(process.Id)]) { UseShellExecute = false })!)
            {
                await kill.WaitForExitAsync(TestContext.Current.CancellationToken);
                Assert.Equal(0, kill.ExitCode);
            }

            using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(1));
            await process.WaitForExitAsync(limit.Token);
            process.WaitForExit();

            string printed;
            lock (output)
            {
                printed = output.ToString();
            }

            Assert.True(process.ExitCode == HostProgram.ExitSuccess, $"exit {process.ExitCode}:\n{printed}\n{error}");
            Assert.Contains("=== SyncMapRegistry host: summary (interrupted) ===", printed, StringComparison.Ordinal);
            Assert.Contains("stopping silos", printed, StringComparison.Ordinal);
            Assert.Contains("Ctrl+C: stopping the workload; the summary follows", error.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>The dotnet that runs the tests (the test host's DOTNET_HOST_PATH), else the one on the path.</summary>
    private static string Dotnet() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } path && File.Exists(path) ? path : "dotnet";
}
