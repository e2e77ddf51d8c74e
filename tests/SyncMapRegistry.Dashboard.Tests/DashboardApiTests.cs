using SyncMapRegistry.Host;

namespace SyncMapRegistry.Dashboard.Tests;

/// <summary>What the host exported, as the Aspire Dashboard received it, read through the dashboard's JSON API.</summary>
[Collection(SharedDashboard.Name)]
public sealed class DashboardApiTests(DashboardFixture fixture)
{
    [Fact]
    public async Task SyncMapPromoteSpansShareTheirTraceWithTheOrleansCallSpanTheyRanUnder()
    {
        Assert.True(fixture.Run.Result.ExitCode == HostProgram.ExitSuccess, fixture.RunOutput);
        IReadOnlyList<ApiSpan> spans = await fixture.Api.SpansAsync();
        List<ApiSpan> promotions = [.. spans.Where(s => s.Name == SyncMapRegistryTelemetry.Spans.Promote)];
        Assert.True(promotions.Count > 0, $"no {SyncMapRegistryTelemetry.Spans.Promote} span among {spans.Count}: {fixture.RunOutput}");
        Assert.All(promotions, s => Assert.Equal(SyncMapRegistryTelemetry.ActivitySourceName, s.Scope));

        // A promotion inside a grain call: its parent is the Orleans call span, in the same trace, as the
        // dashboard's trace endpoint returns it.
        var byId = spans.ToDictionary(s => (s.TraceId, s.SpanId));
        ApiSpan? nested = promotions.FirstOrDefault(s =>
            s.ParentSpanId is { Length: > 0 } parent && byId.TryGetValue((s.TraceId, parent), out ApiSpan? p) && p.Scope.StartsWith("Microsoft.Orleans.", StringComparison.Ordinal));
        Assert.True(nested is not null, $"none of the {promotions.Count} {SyncMapRegistryTelemetry.Spans.Promote} spans has an Orleans call span as its parent");
        IReadOnlyList<ApiSpan> trace = await fixture.Api.TraceAsync(nested.TraceId);
        Assert.Contains(trace, s => s.SpanId == nested.SpanId && s.Name == SyncMapRegistryTelemetry.Spans.Promote);
        Assert.Contains(trace, s => s.SpanId == nested.ParentSpanId && s.Scope.StartsWith("Microsoft.Orleans.", StringComparison.Ordinal));

        // And the traces endpoint groups them into one trace too.
        IReadOnlyList<ApiSpan> traces = await fixture.Api.TracesAsync();
        Assert.Contains(traces, s => s.TraceId == nested.TraceId && s.SpanId == nested.ParentSpanId);
    }

    [Fact]
    public async Task EverySiloIsAResourceOfItsOwnWithTracesAndMetrics()
    {
        IReadOnlyList<ApiResource> resources = await fixture.Api.ResourcesAsync();
        List<ApiResource> silos = [.. resources.Where(r => r.InstanceId?.Contains("/silo-", StringComparison.Ordinal) == true)];
        string seen = string.Join(", ", resources.Select(r => $"{r.DisplayName} traces={r.HasTraces} metrics={r.HasMetrics}"));

        Assert.Equal(
            DashboardFixture.SiloNames,
            silos.Select(SiloOf).Order());
        Assert.All(silos, r =>
        {
            Assert.Equal("syncmap-host", r.Name);
            Assert.True(r.HasTraces, $"{r.DisplayName} has no traces; resources: {seen}");
            Assert.True(r.HasMetrics, $"{r.DisplayName} has no metrics of its own; resources: {seen}");
        });

        // Each silo's spans arrive under that silo's resource.
        IReadOnlyList<ApiSpan> spans = await fixture.Api.SpansAsync();
        Assert.Equal(
            DashboardFixture.SiloNames,
            spans.Select(s => s.Resource.GetValueOrDefault("orleans.silo.name")).OfType<string>().Distinct().Order());
        Assert.All(spans, s => Assert.EndsWith("/" + s.Resource["orleans.silo.name"], s.Resource["service.instance.id"], StringComparison.Ordinal));
    }

    [Fact]
    public async Task EverySilosLogsArriveUnderThatSilosResourceAndNoOtherSilos()
    {
        IReadOnlyList<ApiLog> logs = await fixture.Api.LogsAsync();
        Assert.True(logs.Count > 0, $"no log records: {fixture.RunOutput}");

        // Orleans logs "Starting silo <name>" (Information) as each silo starts, in that silo's own host: the record
        // is under that silo's resource, and the other silos' resources hold no such record for it.
        foreach (string silo in DashboardFixture.SiloNames)
        {
            List<ApiLog> starting = [.. logs.Where(l => l.Body == $"Starting silo {silo}")];
            ApiLog record = Assert.Single(starting);
            Assert.Equal("Orleans.Runtime.Silo", record.Scope);
            Assert.Equal(silo, record.Resource.GetValueOrDefault("orleans.silo.name"));
            Assert.EndsWith("/" + silo, record.Resource["service.instance.id"], StringComparison.Ordinal);
        }

        Assert.All(logs, l => Assert.EndsWith("/" + l.Resource["orleans.silo.name"], l.Resource["service.instance.id"], StringComparison.Ordinal));
        IReadOnlyList<ApiResource> resources = await fixture.Api.ResourcesAsync();
        Assert.Equal(
            DashboardFixture.SiloNames,
            resources.Where(r => r.HasLogs).Select(SiloOf).Order());
    }

    /// <summary>The silo a resource's <c>service.instance.id</c> (<c>machine-pid/silo-N</c>) names.</summary>
    private static string SiloOf(ApiResource resource) => resource.InstanceId![(resource.InstanceId!.LastIndexOf('/') + 1)..];
}
