using System.Collections.Concurrent;
using BenchmarkDotNet.Attributes;
using SyncMapRegistry.Benchmarks.Peers;

namespace SyncMapRegistry.Benchmarks.Infrastructure;

/// <summary>
/// Runs a Go workload against every peer in the same run, <see cref="System.Collections.Concurrent.ConcurrentDictionary{TKey, TValue}"/>
/// the baseline. Each peer gets a fresh map per iteration.
/// </summary>
public abstract class PeerBenchmark : MapBenchmark
{
    [IterationSetup(Target = nameof(ConcurrentDictionary))]
    public void SetupConcurrentDictionary() =>
        Prepare(static () => new ConcurrentDictionaryAdapter<BclConcurrentDictionary>(new(new ConcurrentDictionary<int, int>())));

    [IterationSetup(Target = nameof(SyncMap))]
    public void SetupSyncMap() => Prepare(static () => new SyncMapAdapter(new SyncMap<int, int>()));

    [IterationSetup(Target = nameof(NonBlockingDictionary))]
    public void SetupNonBlockingDictionary() =>
        Prepare(static () => new ConcurrentDictionaryAdapter<NonBlockingConcurrentDictionary>(new(new NonBlocking.ConcurrentDictionary<int, int>())));

    [IterationSetup(Target = nameof(DictionaryWithLock))]
    public void SetupDictionaryWithLock() =>
        Prepare(static () => new LockedDictionaryAdapter<ExclusiveLock>([], new(new Lock())));

    [IterationSetup(Target = nameof(DictionaryWithReaderWriterLock))]
    public void SetupDictionaryWithReaderWriterLock() =>
        Prepare(static () => new LockedDictionaryAdapter<SharedExclusiveLock>([], new(new ReaderWriterLockSlim())));

    [IterationSetup(Target = nameof(CopyOnWriteImmutable))]
    public void SetupCopyOnWriteImmutable() => Prepare(static () => new CopyOnWriteAdapter(new CopyOnWriteMap()));

    [Benchmark(Baseline = true, OperationsPerInvoke = Ops)]
    public void ConcurrentDictionary() => RunParallel();

    [Benchmark(OperationsPerInvoke = Ops)]
    public void SyncMap() => RunParallel();

    [Benchmark(OperationsPerInvoke = Ops)]
    public void NonBlockingDictionary() => RunParallel();

    [Benchmark(OperationsPerInvoke = Ops)]
    public void DictionaryWithLock() => RunParallel();

    [Benchmark(OperationsPerInvoke = Ops)]
    public void DictionaryWithReaderWriterLock() => RunParallel();

    [Benchmark(OperationsPerInvoke = Ops)]
    public void CopyOnWriteImmutable() => RunParallel();
}
