using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using Orleans.Runtime.GrainDirectory;
using SyncMapRegistry.Benchmarks.Infrastructure;

namespace SyncMapRegistry.Benchmarks.Registry;

/// <summary>
/// The registry workload: a silo's grain directory cache holding 10,000 grains activated across 3 silos,
/// driven through <see cref="IGrainDirectoryCache"/> with 99.9% lookups of random cached grains and 0.1% writes,
/// alternately a new activation of a cached grain (an update) and the activation of a grain not yet cached (a
/// new key). At 1, 2, ... <see cref="Environment.ProcessorCount"/> threads. The peers: a plain
/// <see cref="System.Collections.Concurrent.ConcurrentDictionary{TKey, TValue}"/> (the baseline), Orleans' own LRU
/// cache from the public <see cref="GrainDirectoryCacheFactory"/>, BitFaster's ConcurrentLru, a bare SyncMap and the
/// registry's <see cref="global::SyncMapRegistry.SyncMapGrainDirectoryCache"/>.
/// </summary>
public class RegistryLookups : ParallelBenchmark
{
    private const int WriteEvery = 1000;

    [ParamsSource(nameof(AllThreadCounts))]
    public int Threads { get; set; }

    protected override int ThreadCount => Threads;

    [IterationSetup(Target = nameof(ConcurrentDictionary))]
    public void SetupConcurrentDictionary() => Prepare(static () => new ConcurrentDictionaryDirectoryCache());

    [IterationSetup(Target = nameof(OrleansLru))]
    public void SetupOrleansLru() =>
        Prepare(static () => GrainDirectoryCacheFactory.CreateGrainDirectoryCache(
            new ServiceCollection().BuildServiceProvider(),
            new GrainDirectoryOptions { CachingStrategy = GrainDirectoryOptions.CachingStrategyType.LRU }));

    [IterationSetup(Target = nameof(BitFasterConcurrentLru))]
    public void SetupBitFasterConcurrentLru() => Prepare(static () => new BitFasterDirectoryCache(new GrainDirectoryOptions().CacheSize));

    [IterationSetup(Target = nameof(SyncMapDirect))]
    public void SetupSyncMapDirect() => Prepare(static () => new SyncMapDirectoryCache());

    [IterationSetup(Target = nameof(SyncMapGrainDirectoryCache))]
    public void SetupSyncMapGrainDirectoryCache() =>
        Prepare(static () => new global::SyncMapRegistry.SyncMapGrainDirectoryCache(new SyncMapRegistryOptions()));

    [Benchmark(Baseline = true, OperationsPerInvoke = Ops)]
    public void ConcurrentDictionary() => RunParallel();

    [Benchmark(OperationsPerInvoke = Ops)]
    public void OrleansLru() => RunParallel();

    [Benchmark(OperationsPerInvoke = Ops)]
    public void BitFasterConcurrentLru() => RunParallel();

    /// <summary><see cref="SyncMap{TKey, TValue}"/> of <c>(GrainAddress, int)</c> used directly: the map's own cost.</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public void SyncMapDirect() => RunParallel();

    /// <summary>The registry's cache as shipped: default options (a cap of 1,000,000, telemetry named, lookups counted).</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public void SyncMapGrainDirectoryCache() => RunParallel();

    /// <summary>Makes the next invocation run the workload on a cache from <paramref name="create"/>, filled and primed.</summary>
    private void Prepare(Func<IGrainDirectoryCache> create) =>
        Prepare(
            () =>
            {
                IGrainDirectoryCache cache = create();
                GrainPopulation population = GrainPopulation.Instance;
                foreach (GrainAddress address in population.Activations)
                {
                    cache.AddOrUpdate(address, 1);
                }

                // Look every grain up twice, as Go's benchmarks prime a map, so that SyncMap starts from a promoted snapshot.
                for (int i = 0; i < 2 * GrainPopulation.GrainCount; i++)
                {
                    cache.LookUp(population.Grains[i % GrainPopulation.GrainCount], out _, out _);
                }

                return cache;
            },
            (cache, worker, _, count) => Work(cache, GrainPopulation.Instance, worker, count));

    private static void Work(IGrainDirectoryCache cache, GrainPopulation population, int worker, int count)
    {
        GrainId[] grains = population.Grains;
        int[] order = population.LookupOrder;
        int offset = worker * 7919;
        int writes = 0;
        int newGrains = 0;
        int newGrainsPerWorker = GrainPopulation.GrainCount / Environment.ProcessorCount;
        for (int n = 0; n < count; n++)
        {
            int grain = order[(offset + n) & (GrainPopulation.LookupOrderLength - 1)];
            if (n % WriteEvery != WriteEvery - 1)
            {
                cache.LookUp(grains[grain], out _, out _);
            }
            else if (++writes % 2 == 0)
            {
                GrainAddress[] activations = writes % 4 == 0 ? population.Activations : population.Reactivations;
                cache.AddOrUpdate(activations[grain], writes);
            }
            else
            {
                cache.AddOrUpdate(population.NewActivations[(worker * newGrainsPerWorker) + (newGrains++ % newGrainsPerWorker)], 1);
            }
        }
    }
}
