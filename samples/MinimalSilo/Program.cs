using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using MinimalSilo;
using SyncMapRegistry;

// The smallest silo with SyncMapRegistry: one line, services.AddSyncMapRegistry(), makes the registry the
// silo's grain directory cache. `dotnet run --project samples/MinimalSilo` starts it, calls a grain, prints
// the registry's statistics and keeps serving until Ctrl+C; `-- --once` stops right after the call.
HostApplicationBuilder builder = Host.CreateApplicationBuilder(args);
builder.UseOrleans(silo =>
{
    silo.UseLocalhostClustering();
    silo.Services.AddSyncMapRegistry();
});

using IHost host = builder.Build();
await host.StartAsync();

IHelloGrain grain = host.Services.GetRequiredService<IGrainFactory>().GetGrain<IHelloGrain>("world");
Console.WriteLine(await grain.SayHelloAsync());

// The registry's public read contract: entries, lookups and the SyncMap's statistics, one line per map.
SyncMapRegistryStatistics statistics = host.Services.GetRequiredService<ISyncMapRegistry>().GetStatistics();
Console.WriteLine(Describe(statistics.DirectoryCache));
Console.WriteLine(Describe(statistics.LocalActivations));

if (!args.Contains("--once"))
{
    await host.WaitForShutdownAsync();
}

await host.StopAsync();

// The fields spelled out, so the line reads the same whatever the statistics' ToString() prints.
static string Describe(GrainRegistryStatistics map) =>
    $"{map.Name}: {map.Count} entries; lookups: {map.LookupHits} hits, {map.LookupMisses} misses; " +
    $"{map.Updates} updates, {map.Removals} removals, {map.Evicted} evicted, {map.Purged} purged; " +
    $"map: {map.Map.ReadCount} read, {map.Map.DirtyCount} dirty, {map.Map.Promotions} promotions, {map.Map.Misses} misses";

