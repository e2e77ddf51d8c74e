using System.Diagnostics;
using SyncMapRegistry.Host.Dashboard;
using SyncMapRegistry.Host.Tests;

namespace SyncMapRegistry.Dashboard.Tests;

/// <summary>
/// One real Aspire Dashboard (started by the host's own <see cref="AspireDashboard"/>) and one real host run that
/// exported to it: three silos, a workload small enough to promote its maps often. Shared by the API and browser
/// tests, which only read.
/// </summary>
public sealed class DashboardFixture : IAsyncLifetime
{
    public const int Silos = 3;

    /// <summary>The run's silos, by index.</summary>
    public static IReadOnlyList<string> SiloNames { get; } = [.. Enumerable.Range(0, Silos).Select(i => $"silo-{i}")];

    private static readonly TimeSpan SettleLimit = TimeSpan.FromSeconds(30);

    internal AspireDashboard Dashboard { get; private set; } = null!;

    internal DashboardApi Api { get; private set; } = null!;

    internal HostRun Run { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Dashboard = await AspireDashboard.StartAsync(TimeSpan.FromSeconds(90), CancellationToken.None);
        Api = new DashboardApi(Dashboard.Url);
        Run = await HostRun.StartAsync(
            null,
            "--silos", Silos.ToString(System.Globalization.CultureInfo.InvariantCulture), "--grains", "60", "--duration", "3s", "--concurrency", "4",
            "--otlp-endpoint", Dashboard.OtlpHttpEndpoint.ToString());

        // The host flushed on exit; the dashboard files what it received asynchronously. Wait until every resource
        // reported metrics, every silo logs, and a syncmap.promote span is in, or until the limit (the tests then say what
        // is missing).
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < SettleLimit)
        {
            IReadOnlyList<ApiResource> resources = await Api.ResourcesAsync();
            IReadOnlyList<ApiSpan> spans = await Api.SpansAsync();
            if (resources.Count >= Silos && resources.All(r => r.HasMetrics) && resources.Count(r => r.HasLogs) >= Silos && spans.Any(s => s.Name == SyncMapRegistryTelemetry.Spans.Promote))
            {
                return;
            }

            await Task.Delay(500);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Api?.Dispose();
        if (Dashboard is not null)
        {
            await Dashboard.DisposeAsync();
        }
    }

    /// <summary>For failure messages: what the host printed.</summary>
    internal string RunOutput => $"exit {Run.Result.ExitCode}{Environment.NewLine}{Run.Output}{Environment.NewLine}{Run.Error}";
}

[CollectionDefinition(Name)]
public sealed class SharedDashboard : ICollectionFixture<DashboardFixture>
{
    public const string Name = "dashboard";
}
