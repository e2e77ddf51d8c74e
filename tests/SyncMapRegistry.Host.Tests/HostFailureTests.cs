using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace SyncMapRegistry.Host.Tests;

/// <summary>Starts that cannot succeed end at once, with exit code 1 and the real reason.</summary>
public sealed class HostFailureTests
{
    [Theory]
    [InlineData(0, "silo port")]
    [InlineData(1, "gateway port")]
    public async Task APortInUseIsReportedAsSuchNotHiddenByTheCleanup(int silo, string role)
    {
        int siloPort = FreePorts.Range(2);
        int gatewayPort = FreePorts.Range(2);
        int taken = (role == "silo port" ? siloPort : gatewayPort) + silo;
        using var squatter = new TcpListener(IPAddress.Loopback, taken);
        squatter.Start();

        var output = new StringWriter();
        var error = new StringWriter();
        HostRunResult result = await HostProgram.RunAsync(
            ["--silos", "2", "--silo-port", Text(siloPort), "--gateway-port", Text(gatewayPort), "--duration", "1s", "--output", "plain", "--log-level", "None"],
            new HostConsole(output, error, IsTerminal: false),
            CancellationToken.None,
            new Dictionary<string, string?>());

        Assert.Equal(HostProgram.ExitFailure, result.ExitCode);
        Assert.Contains($"error: silo-{silo} could not start: its {role} {taken} is already in use", error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("not in the Running state", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AClientWithNoClusterToReachGivesUpAfterTheConnectTimeoutWithAClearError()
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int gateway = FreePorts.Range(1);
        var clock = System.Diagnostics.Stopwatch.StartNew();

        HostRunResult result = await HostProgram.RunAsync(
            ["--role", "client", "--silos", "1", "--gateway-port", Text(gateway), "--silo-port", Text(FreePorts.Range(1)), "--connect-timeout", "2s", "--output", "plain", "--log-level", "None"],
            new HostConsole(output, error, IsTerminal: false),
            CancellationToken.None,
            new Dictionary<string, string?>()).WaitAsync(TimeSpan.FromMinutes(1), TestContext.Current.CancellationToken);

        Assert.Equal(HostProgram.ExitFailure, result.ExitCode);
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(2), $"gave up after {clock.Elapsed}, before the timeout");
        Assert.Contains(
            $"error: the client found no gateway of cluster 'syncmap-host' within 2 s (--connect-timeout); it tried gateway ports {gateway}..{gateway} on 127.0.0.1.",
            error.ToString(),
            StringComparison.Ordinal);
        Assert.Contains("connecting a client to cluster 'syncmap-host'", output.ToString(), StringComparison.Ordinal);
    }

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);
}
