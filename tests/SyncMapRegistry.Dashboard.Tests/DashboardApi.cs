using System.Net.Http.Json;
using System.Text.Json;

namespace SyncMapRegistry.Dashboard.Tests;

/// <summary>One span as the dashboard's API returns it (OTLP JSON), with its scope and its resource's attributes.</summary>
internal sealed record ApiSpan(string TraceId, string SpanId, string? ParentSpanId, string Name, string Scope, IReadOnlyDictionary<string, string> Resource);

/// <summary>One log record as the dashboard's API returns it (OTLP JSON): its body, its scope (the logger's category) and its resource's attributes.</summary>
internal sealed record ApiLog(string Body, string Scope, IReadOnlyDictionary<string, string> Resource);

/// <summary>One resource the dashboard received telemetry from.</summary>
internal sealed record ApiResource(string Name, string? InstanceId, string DisplayName, bool HasTraces, bool HasMetrics, bool HasLogs);

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

    /// <summary>Every log record the dashboard holds (the API returns the most recent <c>limit</c>).</summary>
    public Task<IReadOnlyList<ApiLog>> LogsAsync() =>
        ReadAsync("api/telemetry/logs?limit=1000000", "resourceLogs", "scopeLogs", "logRecords", (record, scope, resource) => new ApiLog(
            record.TryGetProperty("body", out JsonElement body) && body.TryGetProperty("stringValue", out JsonElement text) ? text.GetString()! : "",
            scope,
            resource));

    private Task<IReadOnlyList<ApiSpan>> ReadSpansAsync(string path) =>
        ReadAsync(path, "resourceSpans", "scopeSpans", "spans", (span, scope, resource) => new ApiSpan(
            span.GetProperty("traceId").GetString()!,
            span.GetProperty("spanId").GetString()!,
            span.TryGetProperty("parentSpanId", out JsonElement parent) ? parent.GetString() : null,
            span.GetProperty("name").GetString()!,
            scope,
            resource));

    /// <summary>Reads one signal's OTLP JSON: its items, each with its scope's name and its resource's attributes.</summary>
    private async Task<IReadOnlyList<T>> ReadAsync<T>(
        string path, string resourceList, string scopeList, string itemList, Func<JsonElement, string, IReadOnlyDictionary<string, string>, T> read)
    {
        using JsonDocument document = JsonDocument.Parse(await _http.GetStringAsync(path));
        var items = new List<T>();
        foreach (JsonElement perResource in document.RootElement.GetProperty("data").GetProperty(resourceList).EnumerateArray())
        {
            IReadOnlyDictionary<string, string> resource = perResource.TryGetProperty("resource", out JsonElement r)
                ? Attributes(r)
                : new Dictionary<string, string>();
            foreach (JsonElement perScope in perResource.GetProperty(scopeList).EnumerateArray())
            {
                string scope = perScope.GetProperty("scope").GetProperty("name").GetString() ?? "";
                items.AddRange(perScope.GetProperty(itemList).EnumerateArray().Select(item => read(item, scope, resource)));
            }
        }

        return items;
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
