using OpenTelemetry.Exporter;
using SyncMapRegistry.Host.Telemetry;

namespace SyncMapRegistry.Host.Dashboard;

/// <summary>
/// The host's <c>--dashboard</c>: starts the Aspire Dashboard, prints its address, runs the host with export
/// pointed at it, then, on a terminal, keeps it open until Ctrl+C. With output redirected (CI, a pipe, a test)
/// the run ends with the workload and stops the dashboard.
/// </summary>
internal static class DashboardRun
{
    /// <summary>How long the dashboard may take to answer; its first start on a loaded 2-core machine takes seconds.</summary>
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);

    /// <summary>Why <c>--dashboard</c> cannot work on this machine, or <c>null</c>.</summary>
    public static string? Unavailable() => AspireDashboard.FindExecutable(out string reason) is null ? reason : null;

    /// <summary>Runs <paramref name="run"/> with the dashboard's OTLP endpoint, the dashboard open around it.</summary>
    public static async Task<T> RunAsync<T>(HostConsole console, Func<Uri, Task<T>> run, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(run);
        await using AspireDashboard dashboard = await AspireDashboard.StartAsync(StartTimeout, cancellationToken);
        await console.Out.WriteLineAsync($"dashboard: {dashboard.Url} (traces, metrics and logs of this run; OTLP/HTTP at {dashboard.OtlpHttpEndpoint})");

        // OTLP/HTTP, unless OTEL_EXPORTER_OTLP_PROTOCOL asks the SDK for gRPC.
        bool grpc = OtlpSettings.For(dashboard.OtlpHttpEndpoint, TimeSpan.FromSeconds(1), Environment.GetEnvironmentVariable)!.Protocol == OtlpExportProtocol.Grpc;
        T result = await run(grpc ? dashboard.OtlpGrpcEndpoint : dashboard.OtlpHttpEndpoint);
        if (console.IsTerminal && !cancellationToken.IsCancellationRequested)
        {
            await console.Out.WriteLineAsync($"the run is over; the dashboard stays open at {dashboard.Url} until Ctrl+C");
            await WaitForStopAsync(dashboard, cancellationToken);
        }

        await console.Out.WriteLineAsync("stopping the dashboard");
        return result;
    }

    private static async Task WaitForStopAsync(AspireDashboard dashboard, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested && !dashboard.HasExited)
        {
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
