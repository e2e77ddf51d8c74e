using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using Orleans.TestingHost;
using SyncMapRegistry.Host.Cluster;

namespace SyncMapRegistry.Cluster.Tests;

/// <summary>
/// A 60 s soak of three real silos in this process (<see cref="InProcessTestCluster"/>, the registry on each) under
/// heavy activation churn: every third call deactivates its grain, grains are placed at random, and far more grains
/// are called than stay active (idle ones are collected after a few seconds). After 10 s one silo is killed and a new
/// one joins. At the end it holds each silo's local-activation index against Orleans' own list of that silo's
/// activations, and every cache against membership. At 20 s, 40 s and at the end it stops the load and has Orleans
/// collect every activation: the indexes must empty, and the managed heap must be what it was at 20 s.
/// </summary>
[Trait("Category", "Faults")]
public sealed class ChurnSoakTests(ITestOutputHelper output)
{
    private const int Silos = 3;
    private const int WorkersPerSilo = 4;

    /// <summary>
    /// Calls a second, all workers together: a pace the 2-core CI machine keeps, so that each run churns alike and
    /// leaves the silos' own timers (membership probes, collection) the CPU they need.
    /// </summary>
    private const int CallsPerSecond = 1_200;

    /// <summary>Half the calls go to these few grains, which stay active and are updated, so deactivated and activated again, all the time.</summary>
    private const int HotGrains = 200;

    /// <summary>The other half go to any of this many: far more than stay active, so most calls activate a grain, and idle ones are collected.</summary>
    private const int Grains = 50_000;

    private const double UpdateShare = 1 / 3.0;

    /// <summary>
    /// Each silo's cache holds at most this many entries, far fewer than the grains called: the cache reaches its
    /// steady size within seconds (so the heap at 20 s is a fair baseline) and evicts under churn from then on.
    /// </summary>
    private const int CacheEntries = 1_000;

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
    public async Task UnderHeavyActivationChurnEachSilosIndexHoldsExactlyItsActivationsNoCacheEntryPointsAtADeadSiloAndTheHeapStaysFlat()
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

            // The host processes' membership settings: a killed silo is declared dead in seconds.
            silo.Configure<ClusterMembershipOptions>(SiloCluster.ApplyFast);
        });
        await using InProcessTestCluster cluster = builder.Build();
        await cluster.DeployAsync(TestContext.Current.CancellationToken);
        IReadOnlyList<InProcessSiloHandle> silos = [.. cluster.Silos];
        GrainType churnType = cluster.Client.GetGrain<IChurnGrain>(0).GetGrainId().Type;

        // 1. Churn from every silo for 10 s; one silo is killed and a new one takes its place; 10 s more churn, so that
        //    the new silo has filled its cache too. Every activation is collected and the heap measured; 40 s more churn.
        IManagementGrain management = cluster.Client.GetGrain<IManagementGrain>(0);
        TimeSpan loaded = await ChurnAsync(silos, HeapBaselineAt / 2);
        (silos, SiloAddress killed, TimeSpan declared) = await ReplaceSiloAsync(cluster, silos);
        loaded += await ChurnAsync(silos, HeapBaselineAt / 2);
        Quiesced atBaseline = await QuiesceAsync(management, silos, churnType);
        loaded += await ChurnAsync(silos, (Soak - HeapBaselineAt) / 2);
        Quiesced midway = await QuiesceAsync(management, silos, churnType);
        loaded += await ChurnAsync(silos, (Soak - HeapBaselineAt) / 2);

        // 2. Each silo's index against Orleans' own list of its activations.
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

        // 4. Every activation collected again: the index empties, and the heap is what it was at 20 s.
        Quiesced atEnd = await QuiesceAsync(management, silos, churnType);

        double heapRatio = (double)atEnd.Heap / atBaseline.Heap;
        string figures = string.Create(
            CultureInfo.InvariantCulture,
            $"CHURN-SOAK calls={Volatile.Read(ref _calls)} calls-per-s={Volatile.Read(ref _calls) / loaded.TotalSeconds:0} (pace {CallsPerSecond}) failed={_failures.Count} load-s={loaded.TotalSeconds:0.0} activations-at-20s={atBaseline.Activations} activations-at-end={atEnd.Activations} index-vs-orleans={string.Join(' ', comparisons.Select(c => $"{c.Index}/{c.Orleans}"))} settle-ms={string.Join('/', comparisons.Select(c => c.Took.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture)))} killed={killed} kill-to-clean-ms={declared.TotalMilliseconds:0} dead-entries={deadEntries.Count} collect-ms={atBaseline.Took.TotalMilliseconds:0}/{midway.Took.TotalMilliseconds:0}/{atEnd.Took.TotalMilliseconds:0} left-in-index={atBaseline.LeftInIndex}/{midway.LeftInIndex}/{atEnd.LeftInIndex} heap-at-20s-bytes={atBaseline.Heap} heap-at-40s-bytes={midway.Heap} heap-at-end-bytes={atEnd.Heap} heap-ratio={heapRatio:0.000} map-slots-at-20s/40s/end={atBaseline.MapSlots}/{midway.MapSlots}/{atEnd.MapSlots}");
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

        Assert.True(atBaseline.Activations > 1_000, $"Only {atBaseline.Activations} activations at 20 s: the soak churns too little to prove anything.");
        Assert.Empty(_failures);
        Assert.All(comparisons, c =>
        {
            Assert.True(c.Missing.Count == 0, $"{c.Silo}: {c.Missing.Count} live activations missing from the index, for example {string.Join(", ", c.Missing.Take(5))}.");
            Assert.True(c.Stale.Count == 0, $"{c.Silo}: {c.Stale.Count} index entries whose activation is gone, for example {string.Join(", ", c.Stale.Take(5))}.");
            Assert.True(c.CountAgrees, $"{c.Silo}: the index counts {c.Counted} entries but holds {c.Enumerated}.");
        });
        Assert.Empty(deadEntries);
        Assert.All((Quiesced[])[atBaseline, midway, atEnd], q => Assert.Equal(0, q.LeftInIndex));
        Assert.True(
            Math.Abs(heapRatio - 1) <= HeapTolerance,
            $"The heap after a full GC, every activation collected, was {atBaseline.Heap:N0} B at {HeapBaselineAt.TotalSeconds:0} s and {atEnd.Heap:N0} B at the end ({heapRatio:0.000} times).");
    }

    private static ISyncMapRegistry Registry(InProcessSiloHandle silo) => silo.ServiceProvider.GetRequiredService<ISyncMapRegistry>();

    /// <summary>
    /// Kills the last silo (no graceful shutdown) and starts a new one; waits until every live silo sees the killed one
    /// dead and no cache points at it.
    /// </summary>
    /// <returns>The live silos, the killed silo, and how long the survivors took to declare it dead and drop its entries.</returns>
    private async Task<(IReadOnlyList<InProcessSiloHandle> Silos, SiloAddress Killed, TimeSpan Took)> ReplaceSiloAsync(InProcessTestCluster cluster, IReadOnlyList<InProcessSiloHandle> silos)
    {
        InProcessSiloHandle victim = silos[^1];
        SiloAddress killed = victim.SiloAddress;
        long started = _time.GetTimestamp();
        await cluster.KillSiloAsync(victim);
        InProcessSiloHandle added = await cluster.StartAdditionalSiloAsync();
        IReadOnlyList<InProcessSiloHandle> live = [.. silos.SkipLast(1), added];
        while (!live.All(silo =>
            silo.ServiceProvider.GetRequiredService<IClusterMembershipService>().CurrentSnapshot.GetSiloStatus(killed) == SiloStatus.Dead
            && !Registry(silo).DirectoryCache.Any(entry => killed.Equals(entry.Value.SiloAddress))))
        {
            Assert.True(_time.GetElapsedTime(started) < MembershipWindow.Declaration * 2, $"{killed} is not declared dead and purged everywhere {(MembershipWindow.Declaration * 2).TotalSeconds:0} s after it was killed.");
            await Task.Delay(TimeSpan.FromMilliseconds(50), _time);
        }

        return (live, killed, _time.GetElapsedTime(started));
    }

    /// <summary>Runs the workers of every silo for <paramref name="duration"/>, then waits for their last calls.</summary>
    /// <returns>How long the load ran.</returns>
    private async Task<TimeSpan> ChurnAsync(IReadOnlyList<InProcessSiloHandle> silos, TimeSpan duration)
    {
        long started = _time.GetTimestamp();
        using var stop = new CancellationTokenSource(duration, _time);
        Task[] workers = [.. silos.SelectMany((silo, s) => Enumerable.Range(0, WorkersPerSilo).Select(w =>
            Task.Run(() => WorkAsync(silo.ServiceProvider.GetRequiredService<IGrainFactory>(), Random.Shared.Next(), started, stop.Token))))];
        await Task.WhenAll(workers);
        return _time.GetElapsedTime(started);
    }

    /// <summary>
    /// With the load stopped, has Orleans collect every churn grain's activation (each is idle), waits until none is
    /// left on any silo, and measures the heap after a full, blocking collection.
    /// </summary>
    private async Task<Quiesced> QuiesceAsync(IManagementGrain management, IReadOnlyList<InProcessSiloHandle> silos, GrainType type)
    {
        int activations = silos.Sum(s => Registry(s).LocalActivations.Count(pair => pair.Key.Type.Equals(type)));
        long started = _time.GetTimestamp();
        while (true)
        {
            await management.ForceActivationCollection(TimeSpan.FromMilliseconds(1));
            int left = (await management.GetDetailedGrainStatistics()).Count(s => s.GrainId.Type.Equals(type));
            if (left == 0)
            {
                break;
            }

            Assert.True(_time.GetElapsedTime(started) < CollectionAge * 2, $"{left} churn grains are still active {(CollectionAge * 2).TotalSeconds:0} s after the load stopped.");
            await Task.Delay(TimeSpan.FromMilliseconds(200), _time);
        }

        // The index hears of a deactivation just after Orleans' own list drops it: it gets a moment to catch up.
        TimeSpan took = _time.GetElapsedTime(started);
        int leftInIndex;
        while ((leftInIndex = silos.Sum(s => Registry(s).LocalActivations.Count(pair => pair.Key.Type.Equals(type)))) > 0
            && _time.GetElapsedTime(started) - took < SettleLimit)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(100), _time);
        }

        int mapSlots = silos.Sum(s => Registry(s).GetStatistics() is { } statistics
            ? statistics.LocalActivations.Map.ReadCount + statistics.LocalActivations.Map.DirtyCount + statistics.DirectoryCache.Map.ReadCount + statistics.DirectoryCache.Map.DirtyCount
            : 0);
        return new Quiesced(activations, took, leftInIndex, GC.GetTotalMemory(forceFullCollection: true), mapSlots);
    }

    /// <summary>One worker: its share of <see cref="CallsPerSecond"/>, each call waiting for the one before; a worker that falls behind does not catch up.</summary>
    private async Task WorkAsync(IGrainFactory grains, int seed, long started, CancellationToken stop)
    {
        var random = new Random(seed);
        TimeSpan interval = TimeSpan.FromSeconds((double)Silos * WorkersPerSilo / CallsPerSecond);
        TimeSpan next = TimeSpan.Zero;
        while (!stop.IsCancellationRequested)
        {
            TimeSpan now = _time.GetElapsedTime(started);
            if (next > now)
            {
                try
                {
                    await Task.Delay(next - now, _time, stop);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }

            next = (next > now ? next : now) + interval;
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

    /// <summary>The cluster with the load stopped and every churn grain collected.</summary>
    /// <param name="Activations">Churn grains in the indexes when the load stopped.</param>
    /// <param name="Took">How long Orleans took to collect them all.</param>
    /// <param name="LeftInIndex">Churn grains the indexes still held once Orleans held none.</param>
    /// <param name="Heap">The managed heap after a full, blocking collection.</param>
    /// <param name="MapSlots">The entries the registries' maps hold in their read and dirty tables, all silos together (deleted ones not yet dropped included).</param>
    private sealed record Quiesced(int Activations, TimeSpan Took, int LeftInIndex, long Heap, int MapSlots);

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
