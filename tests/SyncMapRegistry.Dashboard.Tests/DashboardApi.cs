using System.Net.Http.Json;
using System.Text.Json;

namespace SyncMapRegistry.Dashboard.Tests;

/// <summary>One span as the dashboard's API returns it (OTLP JSON), with its scope and its resource's attributes.</summary>
internal sealed record ApiSpan(string TraceId, string SpanId, string? ParentSpanId, string Name, string Scope, IReadOnlyDictionary<string, string> Resource);

/// <summary>One resource the dashboard received telemetry from.</summary>
internal sealed record ApiResource(string Name, string? InstanceId, string DisplayName, bool HasTraces, bool HasMetrics);

/// <summary>The Aspire Dashboard's telemetry API (<c>/api/telemetry/...</c>), read as OTLP JSON.</summary>
internal sealed class DashboardApi(Uri dashboard) : IDisposable
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);
    private readonly HttpClient _http = new() { BaseAddress = dashboard, Timeout = TimeSpan.FromSeconds(30) };

    public async Task<IReadOnlyList<ApiResource>> ResourcesAsync() =>
        await _http.GetFromJsonAsync<List<ApiResource>>("api/telemetry/resources", Web) ?? [];

    /// <summary>Every span the dashboard holds (the API returns the most recent <c>limit</c>).</summary>
    public Task<IReadOnlyList<ApiSpan>> SpansAsync() => ReadSpansAsync("api/telemetry/spans?limit=1000000");

    /// <summary>Every span of the traces the dashboard holds, grouped by trace in the answer.</summary>
    public Task<IReadOnlyList<ApiSpan>> TracesAsync() => ReadSpansAsync("api/telemetry/traces?limit=1000000");

    /// <summary>One trace's spans.</summary>
    public Task<IReadOnlyList<ApiSpan>> TraceAsync(string traceId) => ReadSpansAsync($"api/telemetry/traces/{traceId}");

    private async Task<IReadOnlyList<ApiSpan>> ReadSpansAsync(string path)
    {
        using JsonDocument document = JsonDocument.Parse(await _http.GetStringAsync(path));
        var spans = new List<ApiSpan>();
        foreach (JsonElement resourceSpans in document.RootElement.GetProperty("data").GetProperty("resourceSpans").EnumerateArray())
        {
            IReadOnlyDictionary<string, string> resource = resourceSpans.TryGetProperty("resource", out JsonElement r)
                ? Attributes(r)
                : new Dictionary<string, string>();
            foreach (JsonElement scopeSpans in resourceSpans.GetProperty("scopeSpans").EnumerateArray())
            {
                string scope = scopeSpans.GetProperty("scope").GetProperty("name").GetString() ?? "";
                foreach (JsonElement span in scopeSpans.GetProperty("spans").EnumerateArray())
                {
                    spans.Add(new ApiSpan(
                        span.GetProperty("traceId").GetString()!,
                        span.GetProperty("spanId").GetString()!,
                        span.TryGetProperty("parentSpanId", out JsonElement parent) ? parent.GetString() : null,
                        span.GetProperty("name").GetString()!,
                        scope,
                        resource));
                }
            }
        }

        return spans;
    }

    private static Dictionary<string, string> Attributes(JsonElement resource)
    {
        var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
        if (resource.TryGetProperty("attributes", out JsonElement list))
        {
            foreach (JsonElement attribute in list.EnumerateArray())
            {
                JsonElement value = attribute.GetProperty("value");
                attributes[attribute.GetProperty("key").GetString()!] = value.TryGetProperty("stringValue", out JsonElement text) ? text.GetString()! : value.ToString();
            }
        }

        return attributes;
    }

    public void Dispose() => _http.Dispose();
}
