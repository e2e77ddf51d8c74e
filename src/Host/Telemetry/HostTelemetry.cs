using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Reflection;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using SyncMapRegistry.Host.Cluster;

namespace SyncMapRegistry.Host.Telemetry;

/// <summary>
/// OTLP export of the host's traces, metrics and logs. Each silo is a resource of its own (its own
/// <c>service.instance.id</c>), for traces, metrics and logs alike:
/// <list type="bullet">
/// <item>each silo's logs are exported by a logger provider in that silo's own host (<see cref="AddLogExport"/>);</item>
/// <item>each silo's tracer provider exports only the spans started in that silo's flow (<see cref="SiloScope"/>);</item>
/// <item>each silo's meter provider exports only the meters that silo created through its own <c>IMeterFactory</c>
/// (Orleans creates its meters so); a meter belongs to the silo in whose flow its first instrument appeared;</item>
/// <item>SyncMapRegistry's meter is process-wide, its series told apart by the <c>syncmap.name</c> tag that names each
/// silo's registry: <see cref="SiloMeterMirror"/> re-publishes it on one meter per silo, which that silo's provider exports;</item>
/// <item>one more meter provider, with the process as its resource, exports any other process-wide meter.</item>
/// </list>
/// </summary>
/// <remarks>
/// The OpenTelemetry SDK reads the standard OTEL_* variables itself: OTEL_EXPORTER_OTLP_PROTOCOL and _HEADERS for
/// the exporters (see <see cref="OtlpSettings"/>), OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES for the resources. The host adds
/// only <c>service.name=syncmap-host</c> where they name no service, and each silo's own
/// <c>service.instance.id</c> (which replaces one given in OTEL_RESOURCE_ATTRIBUTES: every silo must be an
/// instance of its own).
/// Export never holds up the workload: spans, metrics and log records are queued and sent by background threads, a queue
/// that is full drops, and every export and the final flush give up after <see cref="HostOptions.OtlpTimeout"/>.
/// </remarks>
internal sealed class HostTelemetry : IDisposable
{
    /// <summary>Orleans' activity sources the host traces: calls to grain interfaces, and Orleans' own calls.</summary>
    public static readonly IReadOnlyList<string> OrleansActivitySources = ["Microsoft.Orleans.Application", "Microsoft.Orleans.Runtime"];

    /// <summary>Orleans' meter.</summary>
    public const string OrleansMeter = "Microsoft.Orleans";

    /// <summary>The service name when neither OTEL_SERVICE_NAME nor OTEL_RESOURCE_ATTRIBUTES gives one.</summary>
    public const string DefaultServiceName = "syncmap-host";

    /// <summary>The least severe level exported of the silos' logs, unless <c>--log-level</c> asks for less severe ones too.</summary>
    public const LogLevel ExportedLogLevel = LogLevel.Information;

    private readonly List<TracerProvider> _tracers;
    private readonly List<MeterProvider> _meters;
    private readonly int _timeoutMilliseconds;

    // Index i: the i-th silo's name and service.instance.id (the names given to Start).
    private readonly IReadOnlyList<string> _siloNames;
    private readonly IReadOnlyList<string> _instanceIds;
    private readonly string _clusterId;

    // The silo each factory-created meter belongs to, keyed by the meter's scope (the silo's IMeterFactory): the silo
    // whose flow published the scope's first instrument. Written by the first view callback that sees the scope.
    private readonly ConcurrentDictionary<object, int> _meterScopeOwners = new();

    private readonly SiloMeterMirror _mirror;

    private HostTelemetry(OtlpSettings settings, IReadOnlyList<string> siloNames, string clusterId)
    {
        Settings = settings;
        _timeoutMilliseconds = (int)settings.Timeout.TotalMilliseconds;
        string instanceBase = $"{Environment.MachineName}-{Environment.ProcessId}";
        _siloNames = siloNames;
        _instanceIds = [.. siloNames.Select(silo => $"{instanceBase}/{silo}")];
        _clusterId = clusterId;

        // SyncMapRegistry's process-wide meter, re-published on one meter per silo; each silo's registry names its maps.
        var siloOfMap = new Dictionary<string, int>(StringComparer.Ordinal);
        var mirrorScopes = new List<object>();
        for (int silo = 0; silo < siloNames.Count; silo++)
        {
            siloOfMap[RegistryWiring.DirectoryCacheName(siloNames[silo])] = silo;
            siloOfMap[RegistryWiring.LocalActivationsName(siloNames[silo])] = silo;
            object scope = new();
            _meterScopeOwners[scope] = silo;
            mirrorScopes.Add(scope);
        }

        _mirror = new SiloMeterMirror(SyncMapRegistryTelemetry.MeterName, mirrorScopes, name => siloOfMap.TryGetValue(name, out int silo) ? silo : null);
        _tracers = [.. siloNames.Select((silo, index) => BuildTracer(index, silo, _instanceIds[index], clusterId))];
        _meters =
        [
            .. siloNames.Select((silo, index) => BuildMeters(index, silo, _instanceIds[index], clusterId)),
            BuildMeters(silo: null, siloName: null, instanceBase, clusterId),
        ];
    }

    public OtlpSettings Settings { get; }

    /// <summary>Starts exporting, or returns <c>null</c> when no endpoint is configured.</summary>
    public static HostTelemetry? Start(OtlpSettings? settings, IReadOnlyList<string> siloNames, string clusterId)
    {
        ArgumentNullException.ThrowIfNull(siloNames);
        return settings is null ? null : new HostTelemetry(settings, siloNames, clusterId);
    }

    private TracerProvider BuildTracer(int silo, string siloName, string instanceId, string clusterId)
    {
        var exporter = new OtlpTraceExporter(ExporterOptions("v1/traces"));
        // The claim is this silo's own object: only this provider's processors compare equal to it.
        object claim = silo;
        var processor = new SiloExportProcessor(
            claim,
            exporter,
            maxQueueSize: 16_384,
            scheduledDelayMilliseconds: 1_000,
            exporterTimeoutMilliseconds: _timeoutMilliseconds,
            maxExportBatchSize: 1_024);

        return Sdk.CreateTracerProviderBuilder()
            .SetResourceBuilder(Resource(instanceId, clusterId, siloName))
            .AddSource([.. OrleansActivitySources])
            .AddSyncMapRegistryInstrumentation()
            .AddProcessor(new SiloClaimProcessor(silo, claimsUnscoped: silo == 0, claim))
            .AddProcessor(processor)
            .Build();
    }

    /// <summary>One silo's meters, or with <paramref name="silo"/> <c>null</c> the process-wide ones.</summary>
    private MeterProvider BuildMeters(int? silo, string? siloName, string instanceId, string clusterId)
    {
        var exporter = new OtlpMetricExporter(ExporterOptions("v1/metrics"));
        var reader = new PeriodicExportingMetricReader(exporter, exportIntervalMilliseconds: 5_000, exportTimeoutMilliseconds: _timeoutMilliseconds);
        return Sdk.CreateMeterProviderBuilder()
            .SetResourceBuilder(Resource(instanceId, clusterId, siloName))
            .AddMeter(OrleansMeter)
            .AddSyncMapRegistryInstrumentation()
            .AddView(instrument => Owner(instrument.Meter) == silo && !(silo is null && _mirror.Mirrors(instrument.Meter)) ? null : MetricStreamConfiguration.Drop)
            .AddReader(reader)
            .Build();
    }

    /// <summary>
    /// Exports the logs of one silo's host (or the client's, index 0) under that silo's resource. The logger provider
    /// belongs to that host, which flushes it when it is disposed.
    /// </summary>
    /// <param name="logging">The silo's logging builder.</param>
    /// <param name="silo">The silo's index among the names given to <see cref="Start"/>.</param>
    public void AddLogExport(ILoggingBuilder logging, int silo)
    {
        ArgumentNullException.ThrowIfNull(logging);
        logging.AddOpenTelemetry(o =>
        {
            o.SetResourceBuilder(Resource(_instanceIds[silo], _clusterId, _siloNames[silo]));
            o.IncludeFormattedMessage = true;
            o.IncludeScopes = true;
            o.AddProcessor(new BatchLogRecordExportProcessor(
                new OtlpLogExporter(ExporterOptions("v1/logs")),
                maxQueueSize: 16_384,
                scheduledDelayMilliseconds: 1_000,
                exporterTimeoutMilliseconds: _timeoutMilliseconds,
                maxExportBatchSize: 1_024));
        });
    }

    /// <summary>The silo a meter belongs to, or <c>null</c> for a process-wide meter (one created without a factory).</summary>
    private int? Owner(Meter meter) =>
        meter.Scope is null ? null : _meterScopeOwners.GetOrAdd(meter.Scope, static _ => SiloScope.Current ?? 0);

    private OtlpExporterOptions ExporterOptions(string signalPath) => Settings.ExporterOptions(signalPath);

    private static ResourceBuilder Resource(string instanceId, string clusterId, string? siloName)
    {
        // Later sources win: the host's default service name, then what OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES
        // say (read by the SDK's detector), then the host's own service.instance.id, so that each silo is a service
        // instance of its own.
        ResourceBuilder builder = ResourceBuilder.CreateEmpty()
            .AddService(DefaultServiceName, serviceVersion: Version, autoGenerateServiceInstanceId: false)
            .AddTelemetrySdk()
            .AddEnvironmentVariableDetector();

        var attributes = new Dictionary<string, object>
        {
            ["service.instance.id"] = instanceId,
            ["orleans.cluster.id"] = clusterId,
        };
        if (siloName is not null)
        {
            attributes["orleans.silo.name"] = siloName;
        }

        return builder.AddAttributes(attributes);
    }

    private static string Version => typeof(HostTelemetry).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";

    /// <summary>Flushes and shuts down every provider, each bounded by the export timeout.</summary>
    public void Dispose()
    {
        foreach (TracerProvider tracer in _tracers)
        {
            tracer.Shutdown(_timeoutMilliseconds);
            tracer.Dispose();
        }

        foreach (MeterProvider meters in _meters)
        {
            meters.Shutdown(_timeoutMilliseconds);
            meters.Dispose();
        }

        _mirror.Dispose();
    }

    /// <summary>
    /// Claims, when a span starts, the spans started in one silo's flow (<see cref="SiloScope"/>); every provider
    /// sees every span, since activity sources are process-wide.
    /// </summary>
    private sealed class SiloClaimProcessor(int silo, bool claimsUnscoped, object claim) : BaseProcessor<Activity>
    {
        public override void OnStart(Activity data)
        {
            int? scope = SiloScope.Current;
            if (scope == silo || (scope is null && claimsUnscoped))
            {
                data.SetCustomProperty(SiloExportProcessor.ClaimProperty, claim);
            }
        }
    }

    /// <summary>A batch export processor that exports only the spans its silo claimed.</summary>
    private sealed class SiloExportProcessor(
        object claim,
        BaseExporter<Activity> exporter,
        int maxQueueSize,
        int scheduledDelayMilliseconds,
        int exporterTimeoutMilliseconds,
        int maxExportBatchSize)
        : BatchActivityExportProcessor(exporter, maxQueueSize, scheduledDelayMilliseconds, exporterTimeoutMilliseconds, maxExportBatchSize)
    {
        public const string ClaimProperty = "syncmap.host.silo";

        public override void OnEnd(Activity data)
        {
            if (ReferenceEquals(data.GetCustomProperty(ClaimProperty), claim))
            {
                base.OnEnd(data);
            }
        }
    }
}
