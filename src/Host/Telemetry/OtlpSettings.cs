using OpenTelemetry.Exporter;

namespace SyncMapRegistry.Host.Telemetry;

/// <summary>
/// Where the host exports: the address from <c>--otlp-endpoint</c> (or the dashboard it started), else what the
/// OpenTelemetry SDK reads from the standard OTEL_EXPORTER_OTLP_* variables (endpoint, protocol, headers).
/// </summary>
/// <param name="Endpoint">Where the exporters send: the address given to the host, or the SDK's from OTEL_EXPORTER_OTLP_ENDPOINT.</param>
/// <param name="Timeout">The longest one export or the final flush may take.</param>
/// <param name="FromEnvironment">Whether the SDK took <paramref name="Endpoint"/> from OTEL_EXPORTER_OTLP_ENDPOINT.</param>
/// <param name="ChosenProtocol">
/// The protocol the host chose, or <c>null</c> to leave it to the SDK (which reads OTEL_EXPORTER_OTLP_PROTOCOL).
/// </param>
internal sealed record OtlpSettings(Uri Endpoint, TimeSpan Timeout, bool FromEnvironment, OtlpExportProtocol? ChosenProtocol)
{
    /// <summary>The variable whose presence turns export on when no endpoint is given to the host.</summary>
    public const string EndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>The variable that chooses the protocol; where it is unset the host uses OTLP/HTTP (the SDK's default is gRPC).</summary>
    public const string ProtocolVariable = "OTEL_EXPORTER_OTLP_PROTOCOL";

    /// <summary>Export to an endpoint that serves OTLP/HTTP, such as the dashboard the host started.</summary>
    public static OtlpSettings Http(Uri endpoint, TimeSpan timeout) => new(endpoint, timeout, FromEnvironment: false, OtlpExportProtocol.HttpProtobuf);

    /// <summary>
    /// Export settings, or <c>null</c> when neither <paramref name="endpoint"/> nor OTEL_EXPORTER_OTLP_ENDPOINT asks for
    /// export. The variable is only checked to be an http(s) address, so that a typo fails at start naming it; the
    /// SDK reads it (and the other OTEL_* variables) itself.
    /// </summary>
    public static OtlpSettings? Resolve(Uri? endpoint, TimeSpan timeout, Func<string, string?> getVariable, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(getVariable);
        ArgumentNullException.ThrowIfNull(errors);
        OtlpExportProtocol? protocol = string.IsNullOrWhiteSpace(getVariable(ProtocolVariable)) ? OtlpExportProtocol.HttpProtobuf : null;
        if (endpoint is not null)
        {
            return new OtlpSettings(endpoint, timeout, FromEnvironment: false, protocol);
        }

        string? fromEnvironment = getVariable(EndpointVariable);
        if (string.IsNullOrWhiteSpace(fromEnvironment))
        {
            return null;
        }

        if (!Uri.TryCreate(fromEnvironment.Trim(), UriKind.Absolute, out Uri? uri) || uri.Scheme is not ("http" or "https"))
        {
            errors.Add($"{EndpointVariable}: must be an absolute http:// or https:// URI (got '{fromEnvironment}').");
            return null;
        }

        return new OtlpSettings(new OtlpExporterOptions().Endpoint, timeout, FromEnvironment: true, protocol);
    }

    /// <summary>The protocol the exporters use.</summary>
    public OtlpExportProtocol Protocol => ExporterOptions("").Protocol;

    /// <summary>
    /// Exporter options for one signal: the SDK's (its constructor reads OTEL_EXPORTER_OTLP_*), with the host's
    /// timeout and, when the host was given one, its endpoint. An endpoint set in code is used as is, so for
    /// OTLP/HTTP it gets the signal's path (<c>v1/traces</c>, <c>v1/metrics</c>) here; the SDK appends it to one
    /// that it read from OTEL_EXPORTER_OTLP_ENDPOINT itself.
    /// </summary>
    public OtlpExporterOptions ExporterOptions(string signalPath)
    {
        var options = new OtlpExporterOptions { TimeoutMilliseconds = (int)Timeout.TotalMilliseconds };
        options.Protocol = ChosenProtocol ?? options.Protocol;
        if (!FromEnvironment)
        {
            options.Endpoint = options.Protocol == OtlpExportProtocol.HttpProtobuf
                ? new Uri(Endpoint.AbsoluteUri.TrimEnd('/') + "/" + signalPath)
                : Endpoint;
        }

        return options;
    }
}
