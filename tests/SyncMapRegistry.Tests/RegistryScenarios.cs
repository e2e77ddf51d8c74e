using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime.GrainDirectory;
using static SyncMapRegistry.OrleansTests.TestSupport;

namespace SyncMapRegistry.OrleansTests;

/// <summary>The cluster scenarios, written once and run on both of Orleans' paths to the cache.</summary>
internal static class RegistryScenarios
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    internal static ISyncMapRegistry Registry(this IServiceProvider silo) => silo.GetRequiredService<ISyncMapRegistry>();

    internal static SiloAddress Address(this IServiceProvider silo) => silo.GetRequiredService<ILocalSiloDetails>().SiloAddress;

    internal static IGrainFactory Grains(this IServiceProvider silo) => silo.GetRequiredService<IGrainFactory>();

    /// <summary>Calls <paramref name="count"/> randomly placed grains from <paramref name="caller"/>, <paramref name="rounds"/> times.</summary>
    /// <returns>Where each grain says it is.</returns>
    internal static async Task<Dictionary<GrainId, GrainAddress>> CallRandomGrainsAsync(IServiceProvider caller, long firstKey, int count, int rounds)
    {
        var actual = new Dictionary<GrainId, GrainAddress>();
        for (int round = 0; round < rounds; round++)
        {
            GrainAddress[] addresses = await Task.WhenAll(Enumerable.Range(0, count)
                .Select(i => caller.Grains().GetGrain<IRandomProbeGrain>(firstKey + i).WhereAmI()));
            foreach (GrainAddress address in addresses)
            {
                actual[address.GrainId] = address;
            }
        }

        return actual;
    }

    internal static async Task CrossSiloCallsLeaveTheCalleesAddressInTheCallersRegistryAsync(ITestCluster cluster, ITestOutputHelper output, long firstKey)
    {
        IServiceProvider caller = cluster.Silos[0];
        SyncMapGrainDirectoryCache cache = Assert.IsType<SyncMapGrainDirectoryCache>(caller.GetRequiredService<IGrainDirectoryCache>());
        Assert.Same(cache, caller.Registry().DirectoryCache);
        GrainRegistryStatistics before = caller.Registry().GetStatistics().DirectoryCache;

        var stopwatch = Stopwatch.StartNew();
        Dictionary<GrainId, GrainAddress> actual = await CallRandomGrainsAsync(caller, firstKey, count: 60, rounds: 3);
        output.WriteLine($"{cluster.PathName}: 180 calls to 60 grains in {stopwatch.ElapsedMilliseconds} ms (cluster started in {cluster.StartTime.TotalMilliseconds:F0} ms)");

        Assert.Contains(actual.Values, address => !caller.Address().Equals(address.SiloAddress));
        var cached = caller.Registry().DirectoryCache.Where(pair => actual.ContainsKey(pair.Key)).ToList();
        Assert.NotEmpty(cached);
        // Orleans caches the placement's address before the activation exists, without an activation id:
        // compare grain and silo, as Orleans does (GrainAddress.Matches).
        Assert.All(cached, pair => Assert.True(actual[pair.Key].Matches(pair.Value), $"{pair.Value} is not {actual[pair.Key]}"));
        Assert.Contains(cached, pair => !caller.Address().Equals(pair.Value.SiloAddress));
        foreach ((GrainId grain, GrainAddress address) in cached)
        {
            Assert.True(caller.Registry().DirectoryCache.TryLookUp(grain, out GrainAddress? found));
            Assert.Same(address, found);
        }

        GrainRegistryStatistics after = caller.Registry().GetStatistics().DirectoryCache;
        output.WriteLine($"caller's cache holds {cached.Count} of the 60 grains, {cached.Count(pair => !caller.Address().Equals(pair.Value.SiloAddress))} of them remote");
        output.WriteLine("before: " + before.ToString());
        output.WriteLine("after:  " + after.ToString());
        Assert.True(after.Updates > before.Updates, "Orleans put no address into the registry.");
        Assert.True(after.LookupHits > before.LookupHits, "Orleans found no address in the registry.");
        Assert.True(after.Count >= cached.Count);
    }

    internal static async Task AKilledSilosEntriesLeaveEveryRegistryAndItsGrainsComeBackElsewhereAsync(ITestCluster cluster, ITestOutputHelper output)
    {
        const int victimIndex = 2;
        IServiceProvider[] survivors = [cluster.Silos[0], cluster.Silos[1]];
        SiloAddress victim = cluster.Silos[victimIndex].Address();

        var actual = new Dictionary<GrainId, GrainAddress>();
        foreach (IServiceProvider survivor in survivors)
        {
            foreach ((GrainId grain, GrainAddress address) in await CallRandomGrainsAsync(survivor, 10_000, count: 60, rounds: 2))
            {
                actual[grain] = address;
            }
        }

        List<GrainId> onVictim = [.. actual.Where(pair => victim.Equals(pair.Value.SiloAddress)).Select(pair => pair.Key)];
        Assert.NotEmpty(onVictim);
        int cachedForVictim = survivors.Sum(s => s.Registry().DirectoryCache.Count(pair => victim.Equals(pair.Value.SiloAddress)));
        Assert.True(cachedForVictim > 0, "No survivor cached an address on the victim: the test would prove nothing.");
        output.WriteLine($"{cluster.PathName}: {onVictim.Count} of 60 grains on the victim {victim}; survivors cache {cachedForVictim} addresses on it");
        PrintStatistics(output, "before the kill", survivors);

        var stopwatch = Stopwatch.StartNew();
        await cluster.KillAsync(victimIndex);
        bool dead = await WaitUntilAsync(
            () => survivors.All(s => s.GetRequiredService<IClusterMembershipService>().CurrentSnapshot.GetSiloStatus(victim) == SiloStatus.Dead),
            Patience);
        Assert.True(dead, "The survivors did not declare the victim dead.");
        TimeSpan declaredDead = stopwatch.Elapsed;
        bool purged = await WaitUntilAsync(
            () => survivors.All(s => !s.Registry().DirectoryCache.Any(pair => victim.Equals(pair.Value.SiloAddress))),
            Patience);
        Assert.True(purged, "Entries for the dead silo stayed in a survivor's registry.");
        output.WriteLine($"victim declared dead after {declaredDead.TotalMilliseconds:F0} ms; its entries left every registry after {stopwatch.ElapsedMilliseconds} ms");

        stopwatch.Restart();
        GrainAddress[] reactivated = await Task.WhenAll(onVictim.Select(grain =>
            survivors[0].Grains().GetGrain<IRandomProbeGrain>(grain.GetIntegerKey()).WhereAmI()));
        output.WriteLine($"{reactivated.Length} calls to the victim's grains succeeded in {stopwatch.ElapsedMilliseconds} ms");
        Assert.All(reactivated, address => Assert.NotEqual(victim, address.SiloAddress));
        Assert.All(reactivated, address => Assert.Contains(address.SiloAddress, survivors.Select(s => s.Address())));
        Assert.All(survivors, s => Assert.DoesNotContain(s.Registry().DirectoryCache, pair => victim.Equals(pair.Value.SiloAddress)));
        PrintStatistics(output, "after the kill", survivors);

        // Orleans removed those entries itself on the membership change. An entry for the dead silo that it
        // missed (written by a racing lookup, say) is the maintenance service's to purge, on its next sweep. A
        // later membership update can make Orleans remove a planted entry first (a removal, not a purge): then
        // plant another, a few times at most.
        var cache = (SyncMapGrainDirectoryCache)survivors[0].Registry().DirectoryCache;
        bool purgedBySweep = false;
        for (int attempt = 0; attempt < 3 && !purgedBySweep; attempt++)
        {
            long purgedBefore = cache.GetStatistics().Purged;
            GrainAddress straggler = TestSupport.Address(Grain(424_242 + attempt), victim);
            cache.AddOrUpdate(straggler, 1);
            stopwatch.Restart();
            Assert.True(await WaitUntilAsync(() => !cache.TryLookUp(straggler.GrainId, out _), Patience), "The sweep left an entry for the dead silo.");
            purgedBySweep = cache.GetStatistics().Purged > purgedBefore;
            output.WriteLine($"an entry planted for the dead silo left after {stopwatch.ElapsedMilliseconds} ms, {(purgedBySweep ? "purged by the sweep" : "removed by Orleans")}");
        }

        Assert.True(purgedBySweep, "No planted entry for the dead silo was purged by the sweep.");
        PrintStatistics(output, "after the sweep", [survivors[0]]);
    }

    internal static async Task AStaleAddressIsCorrectedWhenTheGrainComesBackOnAnotherSiloAsync(ITestCluster cluster, ITestOutputHelper output, long firstKey)
    {
        IServiceProvider a = cluster.Silos[0];
        IServiceProvider b = cluster.Silos[1];
        IServiceProvider c = cluster.Silos[2];

        // Activate grains on B, call them from A, and keep one whose address A has cached (on the DHT path A
        // caches only grains whose directory partition another silo owns).
        GrainAddress? onB = null;
        for (long key = firstKey; key < firstKey + 50 && onB is null; key++)
        {
            GrainAddress address = await b.Grains().GetGrain<ILocalProbeGrain>(key).WhereAmI();
            Assert.Equal(b.Address(), address.SiloAddress);
            Assert.Equal(address, await a.Grains().GetGrain<ILocalProbeGrain>(key).WhereAmI());
            if (a.Registry().DirectoryCache.TryLookUp(address.GrainId, out GrainAddress? cached) && cached.Equals(address))
            {
                onB = address;
            }
        }

        Assert.NotNull(onB);
        GrainId grain = onB.GrainId;
        long grainKey = grain.GetIntegerKey();

        // Deactivate it on B (B's local index follows), and bring it back on C.
        await b.Grains().GetGrain<ILocalProbeGrain>(grainKey).Deactivate();
        Assert.True(await WaitUntilAsync(() => !b.Registry().LocalActivations.TryLookUp(grain, out _), Patience), "B's local index kept the deactivated grain.");
        GrainAddress onC = await BringUpOnAsync(cluster, c, grainKey, output);
        output.WriteLine($"{cluster.PathName}: A={a.Address()} B={b.Address()} C={c.Address()}");
        var cache = (SyncMapGrainDirectoryCache)a.Registry().DirectoryCache;
        if (!cache.LookUp(grain, out GrainAddress? stale, out int version) || !stale.Equals(onB))
        {
            // Orleans already refreshed A's entry while the grain moved (it may, depending on timing):
            // put the stale address back, as it stood, so that the correction below is exercised.
            output.WriteLine($"A's cache already held {stale?.ToString() ?? "nothing"}; restoring the stale address");
            cache.AddOrUpdate(onB, version);
        }

        output.WriteLine($"A caches {onB} while the grain lives at {onC}");

        // A's call goes to B by the stale address; Orleans forwards it and corrects A's cache.
        GrainAddress viaA = await a.Grains().GetGrain<ILocalProbeGrain>(grainKey).WhereAmI();
        output.WriteLine($"A's call reached {viaA}; A's registry: {(a.Registry().DirectoryCache.TryLookUp(grain, out GrainAddress? x) ? x : null)}");
        Assert.Equal(onC, viaA);
        Assert.True(
            await WaitUntilAsync(() => !a.Registry().DirectoryCache.TryLookUp(grain, out GrainAddress? now) || !now.Equals(onB), Patience),
            "A's registry kept the stale address.");
        Assert.Equal(onC, await a.Grains().GetGrain<ILocalProbeGrain>(grainKey).WhereAmI());
        bool corrected = a.Registry().DirectoryCache.TryLookUp(grain, out GrainAddress? current);
        output.WriteLine($"A's registry now holds {(corrected ? current!.ToString() : "no entry")} for the grain");
        if (corrected)
        {
            Assert.True(onC.Matches(current), $"{current} is not {onC}");
        }
    }

    /// <summary>
    /// Activates a prefer-local grain on <paramref name="silo"/>. Until the directory has dropped a previous
    /// activation's registration, the call may still reach that old silo and activate the grain there; then
    /// it deactivates that one and tries again.
    /// </summary>
    private static async Task<GrainAddress> BringUpOnAsync(ITestCluster cluster, IServiceProvider silo, long key, ITestOutputHelper output)
    {
        for (int attempt = 1; ; attempt++)
        {
            ILocalProbeGrain probe = silo.Grains().GetGrain<ILocalProbeGrain>(key);
            GrainAddress address = await probe.WhereAmI();
            if (silo.Address().Equals(address.SiloAddress) || attempt == 20)
            {
                Assert.Equal(silo.Address(), address.SiloAddress);
                return address;
            }

            // The silo had looked the old registration up and cached it, so its calls keep reaching the old silo,
            // which activates the grain anew: drop that entry so that the next call asks the directory again.
            output.WriteLine($"attempt {attempt}: the grain came up at {address}, not on {silo.Address()}; deactivating it");
            IServiceProvider elsewhere = cluster.Silos.Single(s => s.Address().Equals(address.SiloAddress));
            await probe.Deactivate();
            Assert.True(
                await WaitUntilAsync(() => !elsewhere.Registry().LocalActivations.TryLookUp(address.GrainId, out _), Patience),
                "The stray activation did not deactivate.");
            silo.GetRequiredService<IGrainDirectoryCache>().Remove(address.GrainId);
        }
    }

    internal static async Task TheLocalIndexFollowsActivationsAndDeactivationsAsync(ITestCluster cluster, ITestOutputHelper output, long key)
    {
        IServiceProvider a = cluster.Silos[0];
        IServiceProvider b = cluster.Silos[1];
        ILocalProbeGrain probe = a.Grains().GetGrain<ILocalProbeGrain>(key);
        GrainAddress address = await probe.WhereAmI();
        Assert.Equal(a.Address(), address.SiloAddress);

        // The index applies Orleans' notifications off Orleans' locks, a moment after they arrive.
        IGrainContext? context = null;
        Assert.True(await WaitUntilAsync(() => a.Registry().LocalActivations.TryLookUp(address.GrainId, out context), Patience));
        Assert.Equal(address, context!.Address);
        Assert.Contains(a.Registry().LocalActivations, pair => pair.Key.Equals(address.GrainId) && ReferenceEquals(pair.Value, context));
        Assert.False(b.Registry().LocalActivations.TryLookUp(address.GrainId, out _));
        GrainRegistryStatistics statistics = a.Registry().GetStatistics().LocalActivations;
        Assert.True(statistics.Count >= 1);
        Assert.True(statistics.Updates >= 1);
        output.WriteLine($"{cluster.PathName}: " + statistics.ToString());

        await probe.Deactivate();
        Assert.True(await WaitUntilAsync(() => !a.Registry().LocalActivations.TryLookUp(address.GrainId, out _), Patience), "The index kept a deactivated activation.");
        Assert.True(a.Registry().GetStatistics().LocalActivations.Removals > statistics.Removals);

        // Activated again, on B this time: B's index has it, A's does not.
        GrainAddress again = await BringUpOnAsync(cluster, b, key, output);
        IGrainContext? second = null;
        Assert.True(await WaitUntilAsync(() => b.Registry().LocalActivations.TryLookUp(again.GrainId, out second), Patience));
        Assert.Equal(again, second!.Address);
        Assert.False(a.Registry().LocalActivations.TryLookUp(again.GrainId, out _));
    }

    internal static async Task StatelessWorkersStayOutOfTheLocalIndexAsync(ITestCluster cluster, ITestOutputHelper output, long key)
    {
        IServiceProvider a = cluster.Silos[0];

        // Concurrent calls that each keep a worker busy make the silo start several workers under one GrainId.
        IWorkerGrain worker = a.Grains().GetGrain<IWorkerGrain>(key);
        ActivationId[] served = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => worker.Work(TimeSpan.FromMilliseconds(100))));
        int workers = served.Distinct().Count();

        // A plain grain activated after them: once the index holds it, it has applied the workers' notifications too.
        GrainAddress probe = await a.Grains().GetGrain<ILocalProbeGrain>(key).WhereAmI();
        Assert.True(await WaitUntilAsync(() => a.Registry().LocalActivations.TryLookUp(probe.GrainId, out _), Patience));
        output.WriteLine($"{cluster.PathName}: {workers} worker activations served 8 calls");
        Assert.True(workers > 1, "Only one worker was activated: the test would prove nothing.");
        GrainId workerId = ((GrainReference)worker).GrainId;
        Assert.False(a.Registry().LocalActivations.TryLookUp(workerId, out _));
        Assert.DoesNotContain(a.Registry().LocalActivations, pair => pair.Key.Equals(workerId));
    }

    internal static async Task TheIndexLeavesAnActivationsLazilyBuiltStateUnbuiltAsync(ITestCluster cluster, ITestOutputHelper output, long key)
    {
        IServiceProvider a = cluster.Silos[0];
        GrainAddress address = await a.Grains().GetGrain<ILocalProbeGrain>(key).WhereAmI();
        IGrainContext? context = null;
        Assert.True(await WaitUntilAsync(() => a.Registry().LocalActivations.TryLookUp(address.GrainId, out context), Patience));

        // ActivationData builds its extras (a dictionary, and for Deactivated a TaskCompletionSource) only when
        // something asks, under its lock. A plain grain asks for none of it: nor may the index.
        System.Reflection.FieldInfo extras = context!.GetType().GetField("_extras", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)
            ?? throw new InvalidOperationException($"{context.GetType()} has no _extras field: Orleans changed, update this test.");
        output.WriteLine($"{cluster.PathName}: {context.GetType().Name}._extras = {extras.GetValue(context) ?? "null"}");
        Assert.Null(extras.GetValue(context));
    }

    private static void PrintStatistics(ITestOutputHelper output, string when, IServiceProvider[] silos)
    {
        foreach (IServiceProvider silo in silos)
        {
            SyncMapRegistryStatistics statistics = silo.Registry().GetStatistics();
            output.WriteLine($"{when}, silo {silo.Address()}:");
            output.WriteLine("  " + statistics.DirectoryCache.ToString());
            output.WriteLine("  " + statistics.LocalActivations.ToString());
        }
    }
}
