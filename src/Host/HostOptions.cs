using Microsoft.Extensions.Logging;

namespace SyncMapRegistry.Host;

/// <summary>How the host shows its progress.</summary>
public enum OutputMode
{
    /// <summary>A live table when standard output is a terminal, plain progress lines otherwise.</summary>
    Auto,

    /// <summary>A live Spectre.Console table, redrawn in place.</summary>
    Live,

    /// <summary>One plain progress line per report interval (CI, tests, log files).</summary>
    Plain,
}

/// <summary>
/// The host's settings. Bound from the <c>SyncMapHost</c> section of appsettings.json, then from
/// environment variables (<c>SyncMapHost__Silos=5</c>), then from the command line; a later source wins.
/// </summary>
/// <remarks>
/// Silo <c>i</c> listens on <see cref="SiloPort"/> + i and <see cref="GatewayPort"/> + i, and silo 0 is the
/// primary silo of localhost clustering. A cluster that spans processes (one silo per process, clustered
/// through a membership store) keeps this shape: <see cref="Silos"/> becomes 1 and the ports are that
/// process's own.
/// </remarks>
public sealed partial class HostOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "SyncMapHost";

    /// <summary>Silos started in this process. Default 3.</summary>
    public int Silos { get; set; } = 3;

    /// <summary>Sample grains activated across the silos before the workload starts. Default 1000.</summary>
    public int Grains { get; set; } = 1000;

    /// <summary>How long the workload runs, warm-up excluded. Default 30 s.</summary>
    public TimeSpan Duration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The share of calls that only read a grain, in [0, 1]. Default 0.99. Every other call updates the grain,
    /// which then deactivates, so its next call activates it again on the calling silo: every silo that
    /// cached its address must correct that registry entry. Reads are served by the registry's read snapshot.
    /// </summary>
    public double ReadRatio { get; set; } = 0.99;

    /// <summary>Grain calls in flight at once, across all silos. Default 32.</summary>
    public int Concurrency { get; set; } = 32;

    /// <summary>The share of calls made from a silo other than the one the grain lives on, in [0, 1]. Default 0.9.</summary>
    public double CrossSiloRatio { get; set; } = 0.9;

    /// <summary>The first silo's silo-to-silo port; silo i uses SiloPort + i. Default 11111.</summary>
    public int SiloPort { get; set; } = 11111;

    /// <summary>The first silo's client gateway port; silo i uses GatewayPort + i. Default 30000.</summary>
    public int GatewayPort { get; set; } = 30000;

    /// <summary>
    /// The OTLP endpoint to export traces and metrics to, for example <c>http://localhost:4318</c>. When unset,
    /// the standard <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> environment variable is used; when neither is set,
    /// nothing is exported.
    /// </summary>
    public Uri? OtlpEndpoint { get; set; }

    /// <summary>
    /// Start the Aspire Dashboard (from its NuGet package, on free ports of 127.0.0.1) and export to it instead of
    /// <see cref="OtlpEndpoint"/>. Default off.
    /// </summary>
    public bool Dashboard { get; set; }

    /// <summary>The longest an OTLP export may take before it is abandoned. Default 3 s.</summary>
    public TimeSpan OtlpTimeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>How often progress is reported and registry statistics read. Default 1 s.</summary>
    public TimeSpan ReportInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How progress is shown. Default <see cref="OutputMode.Auto"/>.</summary>
    public OutputMode Output { get; set; } = OutputMode.Auto;

    /// <summary>
    /// The least severe log level the silos write, to standard error. Default <see cref="LogLevel.Error"/>: anything
    /// more talkative interleaves with a live display.
    /// </summary>
    public LogLevel LogLevel { get; set; } = LogLevel.Error;

    /// <summary>Orleans' cluster id (and service id) shared by the silos. Default <c>syncmap-host</c>.</summary>
    public string ClusterId { get; set; } = "syncmap-host";

    /// <summary>Checks every setting and returns one message per failure, each naming its option.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Silos is < 1 or > 16)
        {
            errors.Add($"--silos: must be between 1 and 16 (got {Silos}).");
        }

        if (Grains is < 1 or > 1_000_000)
        {
            errors.Add($"--grains: must be between 1 and 1000000 (got {Grains}).");
        }

        if (Duration <= TimeSpan.Zero || Duration > TimeSpan.FromDays(1))
        {
            errors.Add($"--duration: must be more than 0 and at most one day (got {Duration}).");
        }

        if (double.IsNaN(ReadRatio) || ReadRatio is < 0 or > 1)
        {
            errors.Add($"--read-ratio: must be between 0 and 1 (got {ReadRatio}).");
        }

        if (double.IsNaN(CrossSiloRatio) || CrossSiloRatio is < 0 or > 1)
        {
            errors.Add($"--cross-silo-ratio: must be between 0 and 1 (got {CrossSiloRatio}).");
        }

        if (Concurrency is < 1 or > 4096)
        {
            errors.Add($"--concurrency: must be between 1 and 4096 (got {Concurrency}).");
        }

        int silos = Math.Max(Silos, 1);
        if (SiloPort < 1 || SiloPort + silos - 1 > 65535)
        {
            errors.Add($"--silo-port: ports {SiloPort}..{SiloPort + silos - 1} must lie in 1..65535.");
        }

        if (GatewayPort < 1 || GatewayPort + silos - 1 > 65535)
        {
            errors.Add($"--gateway-port: ports {GatewayPort}..{GatewayPort + silos - 1} must lie in 1..65535.");
        }

        if (SiloPort < GatewayPort + silos && GatewayPort < SiloPort + silos)
        {
            errors.Add($"--gateway-port: the gateway ports {GatewayPort}..{GatewayPort + silos - 1} overlap the silo ports {SiloPort}..{SiloPort + silos - 1}.");
        }

        if (OtlpEndpoint is not null && !IsHttpUri(OtlpEndpoint))
        {
            errors.Add($"--otlp-endpoint: must be an absolute http:// or https:// URI (got '{OtlpEndpoint}').");
        }

        if (Dashboard && OtlpEndpoint is not null)
        {
            errors.Add("--dashboard: exports to the dashboard it starts; leave out --otlp-endpoint.");
        }

        if (OtlpTimeout <= TimeSpan.Zero || OtlpTimeout > TimeSpan.FromMinutes(1))
        {
            errors.Add($"SyncMapHost:OtlpTimeout: must be more than 0 and at most one minute (got {OtlpTimeout}).");
        }

        if (ReportInterval < TimeSpan.FromMilliseconds(100) || ReportInterval > TimeSpan.FromMinutes(1))
        {
            errors.Add($"SyncMapHost:ReportInterval: must be between 100 ms and one minute (got {ReportInterval}).");
        }

        if (string.IsNullOrWhiteSpace(ClusterId))
        {
            errors.Add("SyncMapHost:ClusterId: must not be empty.");
        }

        errors.AddRange(ValidateCluster());
        return errors;
    }

    internal static bool IsHttpUri(Uri uri) =>
        uri.IsAbsoluteUri && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);
}
