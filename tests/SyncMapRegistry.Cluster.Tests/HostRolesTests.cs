using System.Globalization;
using SyncMapRegistry.Testing;

namespace SyncMapRegistry.Cluster.Tests;

/// <summary>
/// The Host's cluster options without Redis: bad values exit with code 2, and a grain-only silo process plus a
/// workload client form one cluster on localhost. These run in every <c>dotnet test</c>.
/// </summary>
public sealed class HostRolesTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(90);

    private readonly TimeProvider _time = TimeProvider.System;

    [Theory]
    [InlineData("--redis", "--clustering", "redis")]
    [InlineData("--clustering", "--clustering", "etcd")]
    [InlineData("--role", "--role", "boss")]
    [InlineData("--membership", "--membership", "fastest")]
    [InlineData("--status-interval", "--status-interval", "1ms")]
    [InlineData("--advertised-address", "--advertised-address", "0.0.0.0")]
    [InlineData("--rate", "--rate", "-1")]
    public async Task ABadClusterOption_ExitsWith2_AndNamesTheOption(string named, string option, string value)
    {
        await using HostProcess host = HostProcess.Start("bad option", [option, value], _time);

        Assert.True(await host.WaitForExitAsync(Limit), "The host did not exit.");
        Assert.Equal(2, host.ExitCode);
        Assert.Contains(named, host.Tail(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AGrainOnlySiloProcessAndAWorkloadClientFormOneClusterAndEveryCallSucceeds()
    {
        (int siloPort, int gatewayPort) = (FreePorts.Range(2), FreePorts.Range(2));
        string clusterId = "syncmap-roles-" + Guid.NewGuid().ToString("N")[..12];
        string[] common = ["--cluster-id", clusterId, "--silos", "2", "--silo-port", Text(siloPort), "--gateway-port", Text(gatewayPort), "--status-interval", "200ms"];
        await using HostProcess silos = HostProcess.Start("silos", [.. common, "--role", "silo", "--duration", "120s"], _time);
        await using HostProcess client = HostProcess.Start("client", [.. common, "--role", "client", "--await-silos", "2", "--grains", "200", "--rate", "500", "--duration", "3s"], _time);
        try
        {
            Assert.True(await client.WaitForExitAsync(Limit), "The client did not finish its run.");
            Assert.Equal(0, client.ExitCode);
            HostStatus last = client.Latest ?? throw new Xunit.Sdk.XunitException("The client wrote no STATUS line.");
            HostStatus hosting = silos.Latest ?? throw new Xunit.Sdk.XunitException("The silo process wrote no STATUS line.");
            long entries = hosting.Line.Silos.Sum(s => s.Registry!.Entries);
            output.WriteLine($"client: {last.Calls} calls, {last.Failed} failed, grains by silo {HostStatus.Text(last.Workload.GrainsBySilo)}; silos: {entries} registry entries");

            Assert.Equal("client", last.Line.Role);
            Assert.Empty(last.Line.Silos);
            Assert.True(last.Calls > 500, $"The client made only {last.Calls} calls.");
            Assert.Equal(0, last.Failed);
            Assert.Equal(200, last.Workload.Activated);

            // Hash placement spreads the grains over both silos; each silo's gateway finds the other's through its registry.
            Assert.Equal(2, last.Workload.GrainsBySilo.Count);
            Assert.Equal("hosting", hosting.Phase);
            Assert.True(entries > 0, "The silos' registries hold no entry.");
            Assert.False(silos.HasExited, "The silo process exited.");
        }
        catch (Exception) when (Dump(silos, client))
        {
            throw;
        }
    }

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);

    private bool Dump(params HostProcess[] hosts)
    {
        foreach (HostProcess host in hosts)
        {
            output.WriteLine(host.Tail());
            if (host.Latest is { } latest)
            {
                output.WriteLine("last " + latest);
            }
        }

        return false;
    }
}
