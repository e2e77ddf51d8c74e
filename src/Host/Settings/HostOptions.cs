using System.ComponentModel;
using System.Net;
using Microsoft.Extensions.Logging;

namespace SyncMapRegistry.Host;

/// <summary>Which grain directory cache the silos run.</summary>
public enum DirectoryCacheKind
{
    /// <summary>SyncMapRegistry: the SyncMap directory cache and the local-activation index.</summary>
    SyncMap,

    /// <summary>Orleans' default cache (an LRU); SyncMapRegistry is not registered at all.</summary>
    Lru,
}

/// <summary>How the host's silos find each other.</summary>
public enum ClusteringMode
{
    /// <summary>Orleans' localhost clustering: every silo in this process, silo 0 the primary. No outside service.</summary>
    Localhost,

    /// <summary>A Redis membership table: each process (on any machine) runs its silos and joins the same cluster.</summary>
    Redis,
}

/// <summary>What this host process does in the cluster.</summary>
public enum HostRole
{
    /// <summary>Runs silos and drives the workload from them (the default).</summary>
    All,

    /// <summary>Runs silos that only host grains; the workload comes from other processes.</summary>
    Silo,

    /// <summary>Runs no silo: an Orleans client that drives the workload through the cluster's gateways.</summary>
    Client,
}

/// <summary>How fast Orleans' membership protocol declares a silo dead.</summary>
public enum MembershipProfile
{
    /// <summary>Orleans' defaults: a dead silo is declared dead after about 15 to 30 s.</summary>
    Default,

    /// <summary>A few seconds; for tests and demos on a quiet machine, where a slow silo may otherwise be voted dead.</summary>
    Fast,
}

/// <summary>How the host shows its progress.</summary>
public enum OutputMode
{
    /// <summary>A live table when standard output is a terminal (and no status lines are asked for), plain lines otherwise.</summary>
    Auto,

    /// <summary>A live Spectre.Console table, redrawn in place.</summary>
    Live,

    /// <summary>One plain progress line per report interval (CI, tests, log files).</summary>
    Plain,
}

/// <summary>
/// The host's settings, bound once from the <c>SyncMapHost</c> configuration section: appsettings.json, then
/// environment variables (<c>SyncMapHost__Silos=5</c>), then the command line, where each property is the option
/// of the same name in kebab case (<see cref="ReadRatio"/> is <c>--read-ratio</c>). A later source wins.
/// </summary>
/// <remarks>
/// Silo <c>i</c> of this process listens on <see cref="SiloPort"/> + i and <see cref="GatewayPort"/> + i. With
/// localhost clustering silo 0 is the primary; with Redis clustering each process, on any machine, joins the
/// cluster named <see cref="ClusterId"/>. Durations read as <c>30</c> (seconds), <c>30s</c>, <c>500ms</c>, <c>2m</c>,
/// <c>1h</c> or <c>00:00:30</c>. OpenTelemetry's own <c>OTEL_*</c> variables are read by the SDK, not here.
/// </remarks>
public sealed class HostOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "SyncMapHost";

    /// <summary>Silos started in this process. Default 3.</summary>
    [Description("Silos to start in this process.")]
    public int Silos { get; set; } = 3;

    /// <summary>Demo grains the workload calls. Default 1000.</summary>
    [Description("Grains the workload calls; each is activated once by the warm-up.")]
    public int Grains { get; set; } = 1000;

    /// <summary>How long the workload runs (or a silo-only process hosts), warm-up excluded. Default 30 s.</summary>
    [Description("How long the workload runs: 30, 30s, 500ms, 2m or 00:00:30.")]
    public TimeSpan Duration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The share of calls that only read a grain, in [0, 1]. Default 0.99. Every other call updates the grain, which
    /// then deactivates; its next call activates it again on a random silo, so the silos that cached its address must
    /// correct that entry.
    /// </summary>
    [Description("Share of calls that only read a grain (0..1); the others update it, and it deactivates.")]
    public double ReadRatio { get; set; } = 0.99;

    /// <summary>The share of calls made from a silo of this process other than the grain's, in [0, 1]. Default 0.9.</summary>
    [Description("Share of calls made from a silo other than the grain's (0..1).")]
    public double CrossSiloRatio { get; set; } = 0.9;

    /// <summary>Closed loop: grain calls in flight at once; each worker waits for its call. Default 32.</summary>
    [Description("Grain calls in flight at once (closed loop).")]
    public int Concurrency { get; set; } = 32;

    /// <summary>
    /// How long the workload runs before the measured run, after the grains are activated; nothing of it is counted
    /// (calls, latency, processor time, allocations, collections, directory lookups). Default 0: none. Long enough, the
    /// runtime has compiled the hot paths at their final tier before the measurement starts, so a run measures a silo in
    /// its steady state, not the JIT's work (up to a fifth of a 20 s run's processor time on a loaded 2-core machine).
    /// </summary>
    [Description("Run the workload this long before the measured run, uncounted (the JIT finishes its tiering there), e.g. 10s; 0: no warm-up beyond activating the grains.")]
    public TimeSpan WarmUp { get; set; }

    /// <summary>
    /// Open loop: calls started per second whether or not earlier calls returned, so a silo that stops answering
    /// does not hold back calls to the others; 0 (the default) runs the closed loop of <see cref="Concurrency"/>.
    /// </summary>
    [Description("Start this many calls a second whether or not earlier ones returned (open loop); 0: closed loop.")]
    public int Rate { get; set; }

    /// <summary>
    /// How the workload picks each call's grain: <c>uniform</c> (the default) or <c>zipf:S</c>, Zipf's law with
    /// exponent S (see <see cref="Host.Popularity"/>).
    /// </summary>
    [Description("How calls pick their grain: uniform (every grain alike) or zipf:S (Zipf's law with exponent S, e.g. zipf:0.9; grain 0 the most called).")]
    public string Popularity { get; set; } = "uniform";

    /// <summary>
    /// Orleans' <c>GrainDirectoryOptions.CacheSize</c>: the most entries a silo's grain directory cache holds, which
    /// both caches honour (SyncMapRegistry takes it as its cap when its own <c>MaxEntries</c> is not set);
    /// <c>null</c> (the default) leaves Orleans' default, 1,000,000.
    /// </summary>
    [Description("The silos' grain directory cache size (Orleans' GrainDirectoryOptions.CacheSize), honoured by both caches; default: Orleans' 1000000.")]
    public int? CacheSize { get; set; }

    /// <summary>Which grain directory cache the silos run. Default <see cref="DirectoryCacheKind.SyncMap"/>.</summary>
    [Description("The silos' grain directory cache: syncmap (SyncMapRegistry) or lru (Orleans' default, no SyncMapRegistry).")]
    public DirectoryCacheKind DirectoryCache { get; set; } = DirectoryCacheKind.SyncMap;

    /// <summary>
    /// Whether the registry's SyncMaps also count read hits (<c>SyncMapRegistryOptions.CountReadHits</c>), which fills
    /// the <c>read_hit</c> column. Off by default, as in the library: counting adds a per-thread increment to every hit
    /// and takes the lookup off the map's inlined read path, a cost Orleans' own cache does not pay, so a comparison
    /// of the two caches runs without it.
    /// </summary>
    [Description("Count the registry's read hits by how its SyncMap served them (the read_hit column); costs every cache hit a per-thread increment. Default: off, as in the library.")]
    public bool CountReadHits { get; set; }

    /// <summary>
    /// Heavy activation churn: idle grains are collected after <see cref="ChurnCollectionAge"/> instead of Orleans'
    /// default of 15 minutes, so with many grains (<c>--grains 20000</c>) more grains are called than stay active,
    /// and every update still deactivates its grain.
    /// </summary>
    [Description("Heavy activation churn: idle grains are collected after 2 s; use with many grains.")]
    public bool Churn { get; set; }

    /// <summary>The first silo's silo-to-silo port; silo i uses SiloPort + i. Default 11111.</summary>
    [Description("First silo's silo-to-silo port; silo i uses port + i.")]
    public int SiloPort { get; set; } = 11111;

    /// <summary>The first silo's client gateway port; silo i uses GatewayPort + i. Default 30000.</summary>
    [Description("First silo's client gateway port; silo i uses port + i.")]
    public int GatewayPort { get; set; } = 30000;

    /// <summary>How the silos find each other. Default <see cref="ClusteringMode.Localhost"/>.</summary>
    [Description("How silos find each other: localhost (every silo in this process) or redis (a membership table; processes on any machine join).")]
    public ClusteringMode Clustering { get; set; } = ClusteringMode.Localhost;

    /// <summary>The StackExchange.Redis connection string of the membership table, for example <c>127.0.0.1:6379</c>.</summary>
    [Description("The Redis connection string of the membership table, e.g. 127.0.0.1:6379 (with --clustering redis).")]
    public string? Redis { get; set; }

    /// <summary>What this process does. Default <see cref="HostRole.All"/>.</summary>
    [Description("all (silos that also drive the workload), silo (silos only) or client (no silo: calls through the gateways).")]
    public HostRole Role { get; set; } = HostRole.All;

    /// <summary>Orleans' cluster id and service id. Default <c>syncmap-host</c>.</summary>
    [Description("Orleans' cluster id and service id; every process of one cluster uses the same.")]
    public string ClusterId { get; set; } = "syncmap-host";

    /// <summary>
    /// The address this process's silos advertise. Default 127.0.0.1; another address makes the silos listen on
    /// every interface.
    /// </summary>
    [Description("The address other machines reach this one's silos at; other than loopback, silos listen on every interface.")]
    public string AdvertisedAddress { get; set; } = "127.0.0.1";

    /// <summary>How fast membership declares a silo dead. Default <see cref="MembershipProfile.Default"/>.</summary>
    [Description("How fast a dead silo is declared dead: default (Orleans' timeouts) or fast (a few seconds).")]
    public MembershipProfile Membership { get; set; } = MembershipProfile.Default;

    /// <summary>Before the workload starts, wait for this many active silos in the cluster (0: do not wait).</summary>
    [Description("Wait until the cluster has this many active silos before the workload starts (0: do not wait).")]
    public int AwaitSilos { get; set; }

    /// <summary>
    /// A client (<see cref="HostRole.Client"/>) gives up when no gateway of the cluster answers within this long, and
    /// the host exits with an error. Default 30 s.
    /// </summary>
    [Description("With --role client: give up (exit 1) when no gateway of the cluster answers within this long.")]
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often to write a <c>STATUS {json}</c> line (<see cref="Harness.StatusLine"/>); zero (the default) writes none.</summary>
    [Description("Write a machine-readable 'STATUS {json}' line this often, e.g. 250ms; 0 writes none.")]
    public TimeSpan StatusInterval { get; set; }

    /// <summary>How often progress is reported. Default 1 s.</summary>
    [Description("How often progress is shown.")]
    public TimeSpan ReportInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How progress is shown. Default <see cref="OutputMode.Auto"/>.</summary>
    [Description("auto (a live table on a terminal, plain lines otherwise), live or plain.")]
    public OutputMode Output { get; set; } = OutputMode.Auto;

    /// <summary>The least severe level of the silos' logs, written to standard error. Default <see cref="LogLevel.Error"/>.</summary>
    [Description("Least severe level of the silos' logs, written to standard error.")]
    public LogLevel LogLevel { get; set; } = LogLevel.Error;

    /// <summary>The OTLP endpoint for traces, metrics and logs, for example <c>http://localhost:4318</c>; none: no export.</summary>
    [Description("OTLP endpoint for traces, metrics and logs, e.g. http://localhost:4318.")]
    public Uri? OtlpEndpoint { get; set; }

    /// <summary>The longest one OTLP export may take. Default 3 s.</summary>
    [Description("The longest one OTLP export may take.")]
    public TimeSpan OtlpTimeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// Whether to start the Aspire Dashboard (from its NuGet package, on free ports of 127.0.0.1) and export to it;
    /// on a terminal it stays open after the run until Ctrl+C. Default off.
    /// </summary>
    [Description("Start the Aspire Dashboard on 127.0.0.1, export to it and print its address; on a terminal it stays open after the run until Ctrl+C.")]
    public bool Dashboard { get; set; }

    /// <summary>How long an idle grain stays active under <see cref="Churn"/>.</summary>
    internal static readonly TimeSpan ChurnCollectionAge = TimeSpan.FromSeconds(2);

    /// <summary>Whether this process runs silos.</summary>
    internal bool HostsSilos => Role != HostRole.Client;

    /// <summary>Whether this process drives the workload.</summary>
    internal bool DrivesWorkload => Role != HostRole.Silo;

    /// <summary>The parsed <see cref="Popularity"/> (validated at start).</summary>
    internal Popularity ParsedPopularity => Host.Popularity.TryParse(Popularity, out Popularity? popularity) ? popularity.Value : throw new InvalidOperationException($"--popularity: '{Popularity}' was not validated.");

    /// <summary>The parsed <see cref="AdvertisedAddress"/> (validated at start).</summary>
    internal IPAddress Advertised => IPAddress.Parse(AdvertisedAddress);

    /// <summary>Silo <paramref name="index"/>'s name: <c>silo-{index}</c> on localhost, address and port once silos span processes.</summary>
    internal string SiloName(int index) =>
        Clustering == ClusteringMode.Localhost ? $"silo-{index}" : $"silo-{AdvertisedAddress}-{SiloPort + index}";
}
