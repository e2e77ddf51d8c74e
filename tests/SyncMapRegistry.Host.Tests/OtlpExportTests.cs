using System.Text;

namespace SyncMapRegistry.Host.Tests;

public sealed class OtlpExportTests
{
    [Fact]
    public async Task SyncMapSpansArriveNestedUnderOrleansCallSpans_InOneTrace_WithOneServiceInstancePerSilo()
    {
        using var receiver = new OtlpReceiver();

        HostRun run = await HostRun.StartAsync(
            null, "--silos", "3", "--grains", "60", "--duration", "2s", "--concurrency", "4", "--otlp-endpoint", receiver.Endpoint.ToString());

        Assert.True(run.Result.ExitCode == HostProgram.ExitSuccess, run.Error);
        List<OtlpSpan> spans = [.. receiver.Bodies("/v1/traces").SelectMany(OtlpProto.DecodeTraces)];
        Assert.NotEmpty(spans);

        // Each silo exports under its own service instance, all in one service.
        Assert.Equal(3, spans.Select(s => s.Resource.GetValueOrDefault("service.instance.id")).Distinct().Count());
        Assert.All(spans, s => Assert.Equal("syncmap-host", s.Resource.GetValueOrDefault("service.name")));
        Assert.Equal(["silo-0", "silo-1", "silo-2"], spans.Select(s => s.Resource.GetValueOrDefault("orleans.silo.name")).Distinct().Order());

        // Orleans' call spans arrive.
        Assert.Contains(spans, s => s.Scope == "Microsoft.Orleans.Application" && s.Name.Contains("IRegistryDemoGrain", StringComparison.Ordinal));

        // A syncmap.* span arrives as the child of an Orleans span of the same trace.
        var byId = spans.GroupBy(s => (s.TraceId, s.SpanId)).ToDictionary(g => g.Key, g => g.First());
        List<OtlpSpan> syncMapSpans = [.. spans.Where(s => s.Name.StartsWith("syncmap.", StringComparison.Ordinal))];
        Assert.NotEmpty(syncMapSpans);
        Assert.Contains(syncMapSpans, s =>
            s.Scope == SyncMapRegistryTelemetry.ActivitySourceName
            && byId.TryGetValue((s.TraceId, s.ParentSpanId), out OtlpSpan? parent)
            && parent.Scope.StartsWith("Microsoft.Orleans.", StringComparison.Ordinal));

        // Metrics from both meters arrive too.
        string metrics = string.Join('\n', receiver.Bodies("/v1/metrics").Select(b => Encoding.UTF8.GetString(b)));
        Assert.Contains(SyncMapRegistryTelemetry.Instruments.Promotions, metrics, StringComparison.Ordinal);
        Assert.Contains(GrainRegistryTelemetry.Instruments.Lookups, metrics, StringComparison.Ordinal);
        Assert.Contains("orleans-", metrics, StringComparison.Ordinal);
    }
}
