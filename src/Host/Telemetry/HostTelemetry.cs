using System.Diagnostics;
using System.Reflection;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace SyncMapRegistry.Host.Telemetry;

/// <summary>
/// OTLP export of the host's traces and metrics. Each silo has its own tracer provider, whose resource names
/// the silo (<c>service.instance.id</c>), and exports only the spans started in that silo's flow
/// (<see cref="SiloScope"/>). Metrics come from one meter provider for the process: the meters are
/// process-wide, so the registry's instruments tell silos apart by their <c>syncmap.name</c> tag.
/// </summary>
/// <remarks>
/// Export never holds up the workload: spans and metrics are queued and sent by background threads, a queue
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

    private readonly List<TracerProvider> _tracers;
    private readonly MeterProvider _meters;
    private readonly int _timeoutMilliseconds;

    private HostTelemetry(OtlpSettings settings, IReadOnlyList<string> siloNames, string clusterId)
    {
        Settings = settings;
        _timeoutMilliseconds = (int)settings.Timeout.TotalMilliseconds;
        string instanceBase = settings.InstanceId ?? $"{Environment.MachineName}-{Environment.ProcessId}";
        _tracers = [.. siloNames.Select((silo, index) => BuildTracer(index, silo, $"{instanceBase}/{silo}", clusterId))];
        _meters = BuildMeters(instanceBase, clusterId);
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

    private MeterProvider BuildMeters(string instanceId, string clusterId)
    {
        var exporter = new OtlpMetricExporter(ExporterOptions("v1/metrics"));
        var reader = new PeriodicExportingMetricReader(exporter, exportIntervalMilliseconds: 5_000, exportTimeoutMilliseconds: _timeoutMilliseconds);
        return Sdk.CreateMeterProviderBuilder()
            .SetResourceBuilder(Resource(instanceId, clusterId, siloName: null))
            .AddMeter(OrleansMeter)
            .AddSyncMapRegistryInstrumentation()
            .AddReader(reader)
            .Build();
    }

    private OtlpExporterOptions ExporterOptions(string signalPath)
    {
        // The constructor reads the standard OTEL_EXPORTER_OTLP_* variables (headers among them); the endpoint,
        // protocol and timeout then come from the host's resolved settings.
        var options = new OtlpExporterOptions
        {
            Protocol = Settings.Protocol,
            TimeoutMilliseconds = _timeoutMilliseconds,
        };

        // An endpoint set in code is used as is: for OTLP/HTTP it must carry the signal's path.
        options.Endpoint = Settings.Protocol == OtlpExportProtocol.HttpProtobuf
            ? new Uri(Settings.Endpoint.AbsoluteUri.TrimEnd('/') + "/" + signalPath)
            : Settings.Endpoint;
        return options;
    }

    private ResourceBuilder Resource(string instanceId, string clusterId, string? siloName)
    {
        // CreateDefault reads OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME; the host adds only what they lack,
        // and always its own service.instance.id, so that each silo is a service instance of its own.
        ResourceBuilder builder = ResourceBuilder.CreateDefault();
        if (Settings.ServiceName is null)
        {
            builder.AddService(DefaultServiceName, serviceVersion: Version, autoGenerateServiceInstanceId: false, serviceInstanceId: instanceId);
        }

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

        _meters.Shutdown(_timeoutMilliseconds);
        _meters.Dispose();
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
/// <summary>Where and how to export, resolved from the host's options and the standard OTEL_* variables.</summary>
/// <param name="Endpoint">The OTLP endpoint's base address (OTLP/HTTP appends <c>/v1/traces</c> and <c>/v1/metrics</c>).</param>
/// <param name="Protocol">OTLP/HTTP with protobuf (the default) or gRPC (<c>OTEL_EXPORTER_OTLP_PROTOCOL=grpc</c>).</param>
/// <param name="Timeout">The longest one export or the final flush may take.</param>
/// <param name="ServiceName">The service name from OTEL_SERVICE_NAME or OTEL_RESOURCE_ATTRIBUTES, if any.</param>
/// <param name="InstanceId">The base of every silo's <c>service.instance.id</c>, from OTEL_RESOURCE_ATTRIBUTES, if any.</param>
internal sealed record OtlpSettings(Uri Endpoint, OtlpExportProtocol Protocol, TimeSpan Timeout, string? ServiceName, string? InstanceId);
