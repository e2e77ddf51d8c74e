using OpenTelemetry.Exporter;

namespace SyncMapRegistry.Host.Telemetry;

/// <summary>
/// Where the host exports: the endpoint it was given (<c>--otlp-endpoint</c>, or the dashboard it started). The
/// OpenTelemetry SDK reads the standard OTEL_EXPORTER_OTLP_* variables itself (protocol, headers); the host sets
/// only the endpoint, the timeout, and OTLP/HTTP where OTEL_EXPORTER_OTLP_PROTOCOL is unset (the SDK's default is gRPC).
/// </summary>
/// <param name="Endpoint">The endpoint's base address; for OTLP/HTTP each signal's path is appended.</param>
/// <param name="Timeout">The longest one export or the final flush may take.</param>
/// <param name="ChosenProtocol">OTLP/HTTP, or <c>null</c> to leave the protocol to the SDK.</param>
internal sealed record OtlpSettings(Uri Endpoint, TimeSpan Timeout, OtlpExportProtocol? ChosenProtocol)
{
    /// <summary>The variable that chooses the protocol, read by the SDK.</summary>
    public const string ProtocolVariable = "OTEL_EXPORTER_OTLP_PROTOCOL";

    /// <summary>Export settings for <paramref name="endpoint"/>, or <c>null</c> without one (no endpoint, no export).</summary>
    public static OtlpSettings? For(Uri? endpoint, TimeSpan timeout, Func<string, string?> getVariable)
    {
        ArgumentNullException.ThrowIfNull(getVariable);
        return endpoint is null
            ? null
            : new OtlpSettings(endpoint, timeout, string.IsNullOrWhiteSpace(getVariable(ProtocolVariable)) ? OtlpExportProtocol.HttpProtobuf : null);
    }

    /// <summary>The protocol the exporters use.</summary>
    public OtlpExportProtocol Protocol => ExporterOptions("").Protocol;

    /// <summary>
    /// Exporter options for one signal: the SDK's (its constructor reads OTEL_EXPORTER_OTLP_*), with the host's
    /// endpoint and timeout. An endpoint set in code is used as is, so for OTLP/HTTP it gets the signal's path
    /// (<c>v1/traces</c>, <c>v1/metrics</c>, <c>v1/logs</c>) here.
    /// </summary>
    public OtlpExporterOptions ExporterOptions(string signalPath)
    {
        var options = new OtlpExporterOptions { TimeoutMilliseconds = (int)Timeout.TotalMilliseconds };
        options.Protocol = ChosenProtocol ?? options.Protocol;
        options.Endpoint = options.Protocol == OtlpExportProtocol.HttpProtobuf
            ? new Uri(Endpoint.AbsoluteUri.TrimEnd('/') + "/" + signalPath)
            : Endpoint;
        return options;
    }
}
