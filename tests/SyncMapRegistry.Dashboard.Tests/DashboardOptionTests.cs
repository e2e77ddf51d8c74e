using System.Diagnostics;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using SyncMapRegistry.Host;
using SyncMapRegistry.Host.Tests;

namespace SyncMapRegistry.Dashboard.Tests;

/// <summary>The host's <c>--dashboard</c>: it starts the dashboard, prints its address, and leaves nothing running.</summary>
public sealed partial class DashboardOptionTests
{
    [Fact]
    public async Task WithOutputRedirectedTheRunPrintsTheDashboardsAddressExits0AndStopsTheDashboard()
    {
        HostRun run = await HostRun.StartAsync(null, "--dashboard", "--silos", "2", "--grains", "20", "--duration", "2s", "--concurrency", "4");

        Assert.True(run.Result.ExitCode == HostProgram.ExitSuccess, run.Output + run.Error);
        Match url = DashboardLine().Match(run.Output);
        Assert.True(url.Success, $"no dashboard address printed:{Environment.NewLine}{run.Output}");
        Assert.Contains($"exporting traces, metrics and logs by OTLP to {url.Groups["otlp"].Value}", run.Output, StringComparison.Ordinal);
        Assert.Contains("stopping the dashboard", run.Output, StringComparison.Ordinal);

        // Nothing listens at the dashboard's port any more.
        var address = new Uri(url.Groups["url"].Value);
        Assert.False(await AnswersAsync(address), $"the dashboard still answers at {address} after the run");
    }

    [Fact]
    public async Task WithAnOtlpEndpointTooTheHostStopsAtStartNamingTheDashboardOption()
    {
        var error = new StringWriter();
        HostRunResult result = await HostProgram.RunAsync(
            ["--dashboard", "--otlp-endpoint", "http://127.0.0.1:4318"],
            new HostConsole(new StringWriter(), error, IsTerminal: false),
            CancellationToken.None,
            new Dictionary<string, string?>());

        Assert.Equal(HostProgram.ExitUsage, result.ExitCode);
        Assert.Contains("--dashboard:", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AHostKilledOutrightTakesItsDashboardWithIt()
    {
        // SIGKILL runs no code in the host: the dashboard's watchdog has to notice.
        string host = Path.Combine(AppContext.BaseDirectory, "SyncMapRegistry.Host.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in (string[])["exec", host, "--dashboard", "--silos", "1", "--grains", "10", "--duration", "5m", "--output", "plain",
                     "--silo-port", FreePorts.Range(1).ToString(System.Globalization.CultureInfo.InvariantCulture),
                     "--gateway-port", FreePorts.Range(1).ToString(System.Globalization.CultureInfo.InvariantCulture)])
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var printed = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null && DashboardLine().Match(e.Data) is { Success: true } m)
            {
                printed.TrySetResult(new Uri(m.Groups["url"].Value));
            }
        };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            Uri url = await printed.Task.WaitAsync(TimeSpan.FromMinutes(2), TestContext.Current.CancellationToken);
            Assert.True(await AnswersAsync(url), $"the dashboard does not answer at {url}");

            process.Kill(entireProcessTree: false);
            await process.WaitForExitAsync(TestContext.Current.CancellationToken);

            // The watchdog checks once a second; give it ten.
            var clock = Stopwatch.StartNew();
            while (await AnswersAsync(url) && clock.Elapsed < TimeSpan.FromSeconds(10))
            {
                await Task.Delay(200, TestContext.Current.CancellationToken);
            }

            Assert.False(await AnswersAsync(url), $"the dashboard still answers at {url} {clock.Elapsed.TotalSeconds:0} s after its host was killed");
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }

    private static async Task<bool> AnswersAsync(Uri url)
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(url.Host, url.Port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    [GeneratedRegex(@"^dashboard: (?<url>http://127\.0\.0\.1:\d+/) .*OTLP/HTTP at (?<otlp>http://127\.0\.0\.1:\d+/)", RegexOptions.Multiline)]
    private static partial Regex DashboardLine();
}
