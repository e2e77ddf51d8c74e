using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using Orleans.TestingHost;

namespace SyncMapRegistry.Cluster.Tests;

/// <summary>
/// A 60 s soak of three real silos in this process (<see cref="InProcessTestCluster"/>, the registry on each) under
/// heavy activation churn: every third call deactivates its grain, grains are placed at random, and far more grains
/// are called than stay active (idle ones are collected after a few seconds). It then holds each silo's
/// local-activation index against Orleans' own list of that silo's activations, every cache against membership, and
/// the managed heap at the end against the heap at 20 s.
/// </summary>
[Trait("Category", "Faults")]
public sealed class ChurnSoakTests(ITestOutputHelper output)
{
    private const int Silos = 3;
    private const int WorkersPerSilo = 4;

    /// <summary>Half the calls go to these few grains, which stay active and are updated, so deactivated and activated again, all the time.</summary>
    private const int HotGrains = 200;

    /// <summary>The other half go to any of this many: far more than stay active, so most calls activate a grain, and idle ones are collected.</summary>
    private const int Grains = 50_000;

    private const double UpdateShare = 1 / 3.0;

    /// <summary>
    /// Each silo's cache holds at most this many entries, far fewer than the grains called: the cache reaches its
    /// steady size within seconds (so the heap at 20 s is a fair baseline) and evicts under churn from then on.
    /// </summary>
    private const int CacheEntries = 5_000;

    private static readonly TimeSpan Soak = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan HeapBaselineAt = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan CollectionQuantum = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan CollectionAge = TimeSpan.FromSeconds(8);

    /// <summary>
    /// How long the index may take to agree with Orleans once the load stops: shorter than <see cref="CollectionAge"/>,
    /// so that Orleans cannot collect an activation the index lost before the comparison sees it.
    /// </summary>
    private static readonly TimeSpan SettleLimit = TimeSpan.FromSeconds(5);

    private const double HeapTolerance = 0.10;

    private readonly TimeProvider _time = TimeProvider.System;
    private readonly ConcurrentQueue<(TimeSpan At, string Error)> _failures = new();
    private long _calls;

    [Fact]
    public async Task UnderHeavyActivationChurn_EachSilosIndexHoldsExactlyItsActivations_NoCacheEntryPointsAtADeadSilo_AndTheHeapStaysFlat()
    {
        var builder = new InProcessTestClusterBuilder(Silos);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.UseSyncMapRegistry(registry =>
            {
                registry.PurgeInterval = TimeSpan.FromSeconds(2);
                registry.MaxEntries = CacheEntries;
            });
            silo.Configure<GrainDirectoryOptions>(directory => directory.CacheSize = CacheEntries);
            silo.Configure<GrainCollectionOptions>(collection =>
            {
                collection.CollectionQuantum = CollectionQuantum;
                collection.CollectionAge = CollectionAge;
            });
        });
        await using InProcessTestCluster cluster = builder.Build();
        await cluster.DeployAsync();
        IReadOnlyList<InProcessSiloHandle> silos = [.. cluster.Silos];
        GrainType churnType = cluster.Client.GetGrain<IChurnGrain>(0).GetGrainId().Type;

        // 1. Churn for 60 s, from every silo; the heap is measured at 20 s and at the end, both under load.
        long started = _time.GetTimestamp();
        using var stop = new CancellationTokenSource();
        Task[] workers = [.. silos.SelectMany((silo, s) => Enumerable.Range(0, WorkersPerSilo).Select(w =>
            Task.Run(() => WorkAsync(silo.ServiceProvider.GetRequiredService<IGrainFactory>(), (s * WorkersPerSilo) + w, started, stop.Token))))];
        await Task.Delay(HeapBaselineAt, _time);
        (long heap, int activations, long calls) atBaseline = Measure(silos);
        await Task.Delay(Soak - _time.GetElapsedTime(started), _time);
        (long heap, int activations, long calls) atEnd = Measure(silos);
        await stop.CancelAsync();
        await Task.WhenAll(workers);
        TimeSpan soaked = _time.GetElapsedTime(started);

        // 2. Each silo's index against Orleans' own list of its activations.
        IManagementGrain management = cluster.Client.GetGrain<IManagementGrain>(0);
        var comparisons = new List<IndexComparison>();
        foreach (InProcessSiloHandle silo in silos)
        {
            comparisons.Add(await SettleAsync(management, silo, churnType));
        }

        // 3. Every cache entry points at a silo its own membership view holds active.
        List<string> deadEntries = [];
        foreach (InProcessSiloHandle silo in silos)
        {
            ClusterMembershipSnapshot view = silo.ServiceProvider.GetRequiredService<IClusterMembershipService>().CurrentSnapshot;
            deadEntries.AddRange(Registry(silo).DirectoryCache
                .Where(entry => entry.Value.SiloAddress is not { } at || !view.Members.TryGetValue(at, out ClusterMember? member) || member.Status != SiloStatus.Active)
                .Select(entry => $"{silo.SiloAddress}: {entry.Key} -> {entry.Value.SiloAddress}"));
        }

        double heapRatio = (double)atEnd.heap / atBaseline.heap;
        string figures = string.Create(
            CultureInfo.InvariantCulture,
            $"CHURN-SOAK calls={Volatile.Read(ref _calls)} calls-per-s={Volatile.Read(ref _calls) / soaked.TotalSeconds:0} failed={_failures.Count} heap-at-20s-bytes={atBaseline.heap} heap-at-end-bytes={atEnd.heap} heap-ratio={heapRatio:0.000} activations-at-20s={atBaseline.activations} activations-at-end={atEnd.activations} index-vs-orleans={string.Join(' ', comparisons.Select(c => $"{c.Index}/{c.Orleans}"))} settle-ms={string.Join('/', comparisons.Select(c => c.Took.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture)))} dead-entries={deadEntries.Count} duration-s={soaked.TotalSeconds:0.0}");
        output.WriteLine(figures);
        Console.WriteLine(figures);
        foreach (InProcessSiloHandle silo in silos)
        {
            SyncMapRegistryStatistics statistics = Registry(silo).GetStatistics();
            output.WriteLine($"{silo.SiloAddress}: index {statistics.LocalActivations}; cache {statistics.DirectoryCache}");
        }

        foreach ((TimeSpan at, string error) in _failures.Take(20))
        {
            output.WriteLine($"failed at {at.TotalSeconds:0.000} s: {error}");
        }

        Assert.True(atBaseline.activations > 1_000, $"Only {atBaseline.activations} activations at 20 s: the soak churns too little to prove anything.");
        Assert.Empty(_failures);
        Assert.All(comparisons, c =>
        {
            Assert.True(c.Missing.Count == 0, $"{c.Silo}: {c.Missing.Count} live activations missing from the index, for example {string.Join(", ", c.Missing.Take(5))}.");
            Assert.True(c.Stale.Count == 0, $"{c.Silo}: {c.Stale.Count} index entries whose activation is gone, for example {string.Join(", ", c.Stale.Take(5))}.");
            Assert.True(c.CountAgrees, $"{c.Silo}: the index counts {c.Counted} entries but holds {c.Enumerated}.");
        });
        Assert.Empty(deadEntries);
        Assert.True(
            Math.Abs(heapRatio - 1) <= HeapTolerance,
            $"The heap after a full GC was {atBaseline.heap:N0} B at {HeapBaselineAt.TotalSeconds:0} s and {atEnd.heap:N0} B at the end ({heapRatio:0.000} times).");
    }

    private static ISyncMapRegistry Registry(InProcessSiloHandle silo) => silo.ServiceProvider.GetRequiredService<ISyncMapRegistry>();

    /// <summary>The managed heap after a full, blocking collection; the activations in every silo's index; the calls so far.</summary>
    private (long Heap, int Activations, long Calls) Measure(IEnumerable<InProcessSiloHandle> silos) =>
        (GC.GetTotalMemory(forceFullCollection: true), silos.Sum(s => Registry(s).LocalActivations.Count), Volatile.Read(ref _calls));

    private async Task WorkAsync(IGrainFactory grains, int seed, long started, CancellationToken stop)
    {
        var random = new Random(seed);
        while (!stop.IsCancellationRequested)
        {
            long key = random.Next(2) == 0 ? random.Next(HotGrains) : random.Next(HotGrains, Grains);
            IChurnGrain grain = grains.GetGrain<IChurnGrain>(key);
            try
            {
                _ = random.NextDouble() < UpdateShare ? await grain.UpdateAsync() : await grain.ReadAsync();
                Interlocked.Increment(ref _calls);
            }
            catch (Exception exception)
            {
                _failures.Enqueue((_time.GetElapsedTime(started), $"{exception.GetType().Name}: {exception.Message}"));
            }
        }
    }

    /// <summary>
    /// Compares until the index agrees with Orleans or <see cref="SettleLimit"/> passes. The load has stopped, so
    /// activations only go (deactivations finishing, idle ones collected): Orleans' list read before the index
    /// (<c>before</c>) holds every grain the index may rightly hold, and Orleans' list read after it (<c>after</c>)
    /// every grain the index must hold. The test may read an activation's <c>Deactivated</c>; the registry must not.
    /// </summary>
    private async Task<IndexComparison> SettleAsync(IManagementGrain management, InProcessSiloHandle silo, GrainType type)
    {
        long started = _time.GetTimestamp();
        while (true)
        {
            HashSet<GrainId> before = await ActivationsAsync(management, silo.SiloAddress, type);
            IGrainRegistryView<IGrainContext> index = Registry(silo).LocalActivations;
            int counted = index.Count;
            List<KeyValuePair<GrainId, IGrainContext>> all = [.. index];
            HashSet<GrainId> indexed = [.. all.Where(pair => pair.Key.Type.Equals(type)).Select(pair => pair.Key)];
            bool countAgrees = counted == all.Count && counted == index.Count;
            HashSet<GrainId> after = await ActivationsAsync(management, silo.SiloAddress, type);

            var comparison = new IndexComparison(
                silo.SiloAddress,
                indexed.Count,
                after.Count,
                [.. after.Where(grain => !indexed.Contains(grain))],
                [.. all.Where(pair => indexed.Contains(pair.Key) && (!before.Contains(pair.Key) || pair.Value.Deactivated.IsCompleted)).Select(pair => pair.Key)],
                counted,
                all.Count,
                countAgrees,
                _time.GetElapsedTime(started));
            if ((comparison.Missing.Count == 0 && comparison.Stale.Count == 0 && countAgrees) || comparison.Took > SettleLimit)
            {
                return comparison;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), _time);
        }
    }

    private static async Task<HashSet<GrainId>> ActivationsAsync(IManagementGrain management, SiloAddress silo, GrainType type) =>
        [.. (await management.GetDetailedGrainStatistics(hostsIds: [silo])).Where(s => s.GrainId.Type.Equals(type)).Select(s => s.GrainId)];

    /// <summary>One silo's index against Orleans' list of its activations (of the churn grain).</summary>
    /// <param name="Silo">The silo.</param>
    /// <param name="Index">Churn grains in the index.</param>
    /// <param name="Orleans">Churn grains in Orleans' list, read after the index.</param>
    /// <param name="Missing">Activations in Orleans' list after the index was read, but not in the index.</param>
    /// <param name="Stale">
    /// Index entries whose grain was not in Orleans' list read before the index, or whose activation has finished
    /// deactivating (an old activation of a grain that lives on in a newer one).
    /// </param>
    /// <param name="Counted">The index's own count (<see cref="IGrainRegistryView{TValue}.Count"/>), of every grain type.</param>
    /// <param name="Enumerated">The entries the index enumerated, of every grain type.</param>
    /// <param name="CountAgrees">Whether the count equalled the entries enumerated, read before and after.</param>
    /// <param name="Took">How long the index took to agree, or the time spent trying.</param>
    private sealed record IndexComparison(
        SiloAddress Silo,
        int Index,
        int Orleans,
        IReadOnlyList<GrainId> Missing,
        IReadOnlyList<GrainId> Stale,
        int Counted,
        int Enumerated,
        bool CountAgrees,
        TimeSpan Took);
}
