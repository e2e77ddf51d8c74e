// A user's silo that takes SyncMapRegistry as NuGet packages: it adds the registry and its OpenTelemetry
// instrumentation, makes a few grain calls, and checks that the registry and its telemetry are live.
// Exit code 0 when they are, 1 otherwise. Run by .ci/pack-and-consume against freshly packed packages.
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using PackageConsumer;
using SyncMapRegistry;

var exportedMetrics = new List<MetricSnapshot>();

var builder = Host.CreateApplicationBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.UseOrleans(silo =>
{
    silo.UseLocalhostClustering();
    silo.Services.AddSyncMapRegistry();
});
builder.Services.AddOpenTelemetry()
    .WithMetrics(metrics => metrics
        .AddSyncMapRegistryInstrumentation()
        .AddInMemoryExporter(exportedMetrics))
    .WithTracing(tracing => tracing.AddSyncMapRegistryInstrumentation());

using var host = builder.Build();
await host.StartAsync();

var failures = new List<string>();
var grains = host.Services.GetRequiredService<IGrainFactory>();
const int Greeters = 8;
for (var round = 0; round < 3; round++)
{
    for (var i = 0; i < Greeters; i++)
    {
        var reply = await grains.GetGrain<IGreeterGrain>(i).Greet($"round {round}");
        if (reply != $"greeter {i}: round {round}")
        {
            failures.Add($"grain call: unexpected reply '{reply}'");
        }
    }
}

var registry = host.Services.GetRequiredService<ISyncMapRegistry>();

// The local-activation index follows Orleans' activations one thread-pool hop behind them (it never writes inside
// Orleans' activation callbacks), so a grain that just answered may not be in it yet: wait for it, up to 10 s.
int FoundGreeters() => Enumerable.Range(0, Greeters)
    .Count(i => registry.LocalActivations.TryLookUp(grains.GetGrain<IGreeterGrain>(i).GetGrainId(), out _));
var found = FoundGreeters();
for (var waited = 0; found != Greeters && waited < 10_000; waited += 50)
{
    await Task.Delay(50);
    found = FoundGreeters();
}

var statistics = registry.GetStatistics();
Console.WriteLine($"Local activations: {registry.LocalActivations.Count} ({found} of {Greeters} greeters found)");
Console.WriteLine($"Directory cache:   {registry.DirectoryCache.Count} entries");
Console.WriteLine($"Statistics:        {Describe(statistics.DirectoryCache)}");
Console.WriteLine($"                   {Describe(statistics.LocalActivations)}");
if (found != Greeters)
{
    failures.Add($"ISyncMapRegistry.LocalActivations found {found} of the {Greeters} greeters");
}

if (!host.Services.GetRequiredService<MeterProvider>().ForceFlush())
{
    failures.Add("the meter provider did not flush");
}

var instruments = exportedMetrics
    .Where(metric => metric.MeterName == SyncMapRegistryTelemetry.MeterName)
    .Select(metric => metric.Name)
    .Distinct(StringComparer.Ordinal)
    .Order(StringComparer.Ordinal)
    .ToList();
Console.WriteLine($"Exported SyncMapRegistry instruments: {string.Join(", ", instruments)}");

// One instrument of the map (package SyncMapRegistry.SyncMap) and one of the registry (package SyncMapRegistry).
foreach (var expected in new[] { SyncMapRegistryTelemetry.Instruments.EntryCount, GrainRegistryTelemetry.Instruments.Lookups })
{
    if (!instruments.Contains(expected))
    {
        failures.Add($"no '{expected}' metric was exported from meter '{SyncMapRegistryTelemetry.MeterName}'");
    }
}

await host.StopAsync();

foreach (var failure in failures)
{
    Console.Error.WriteLine($"FAIL: {failure}");
}

Console.WriteLine(failures.Count == 0 ? "PackageConsumer: OK" : "PackageConsumer: FAILED");
return failures.Count == 0 ? 0 : 1;

// The fields spelled out, so the line reads the same whatever the statistics' ToString() prints.
static string Describe(GrainRegistryStatistics map) =>
    $"{map.Name}: {map.Count} entries; lookups: {map.LookupHits} hits, {map.LookupMisses} misses; " +
    $"{map.Updates} updates, {map.Removals} removals; " +
    $"map: {map.Map.ReadCount} read, {map.Map.DirtyCount} dirty, {map.Map.Promotions} promotions, {map.Map.Misses} misses";
