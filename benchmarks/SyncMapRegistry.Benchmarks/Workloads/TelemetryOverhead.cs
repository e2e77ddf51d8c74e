using System.Diagnostics;
using System.Diagnostics.Metrics;
using BenchmarkDotNet.Attributes;
using SyncMapRegistry.Benchmarks.Infrastructure;
using SyncMapRegistry.Benchmarks.Peers;

namespace SyncMapRegistry.Benchmarks.Workloads;

/// <summary>
/// What SyncMap's telemetry costs on its hottest path: <see cref="LoadMostlyHits"/> on a map with no telemetry;
/// on a named map (<see cref="SyncMapOptions.Name"/>) with a <see cref="MeterListener"/> and an
/// <see cref="ActivityListener"/> enabled on the <c>SyncMapRegistry</c> meter and source; and on a named, listened
/// map that also counts read hits (<see cref="SyncMapOptions.CountReadHits"/>).
/// </summary>
public class TelemetryOverhead : MapBenchmark
{
    private readonly LoadMostlyHits _workload = new();

    [ParamsSource(nameof(AllThreadCounts))]
    public int Threads { get; set; }

    protected override int ThreadCount => Threads;

    [GlobalSetup(Targets = [nameof(DefaultTelemetryListened), nameof(ReadHitsCounted)])]
    public void Listen()
    {
        var meterListener = new MeterListener
        {
            InstrumentPublished = static (instrument, listener) =>
            {
                if (instrument.Meter.Name == SyncMapRegistryTelemetry.MeterName)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        meterListener.SetMeasurementEventCallback<long>(static (_, _, _, _) => { });
        meterListener.Start();
        DisposeOnCleanup(meterListener);

        var activityListener = new ActivityListener
        {
            ShouldListenTo = static source => source.Name == SyncMapRegistryTelemetry.ActivitySourceName,
            Sample = static (ref _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(activityListener);
        DisposeOnCleanup(activityListener);
    }

    [IterationSetup(Target = nameof(NoTelemetry))]
    public void SetupNoTelemetry() => Prepare(static () => new SyncMapAdapter(new SyncMap<int, int>()));

    [IterationSetup(Target = nameof(DefaultTelemetryListened))]
    public void SetupDefaultTelemetryListened() =>
        Prepare(static () => new SyncMapAdapter(new SyncMap<int, int>(new SyncMapOptions { Name = "bench-default" })));

    [IterationSetup(Target = nameof(ReadHitsCounted))]
    public void SetupReadHitsCounted() =>
        Prepare(static () => new SyncMapAdapter(new SyncMap<int, int>(new SyncMapOptions { Name = "bench-read-hits", CountReadHits = true })));

    [Benchmark(Baseline = true, OperationsPerInvoke = Ops)]
    public void NoTelemetry() => RunParallel();

    [Benchmark(OperationsPerInvoke = Ops)]
    public void DefaultTelemetryListened() => RunParallel();

    [Benchmark(OperationsPerInvoke = Ops)]
    public void ReadHitsCounted() => RunParallel();

    internal override void Setup<TMap>(TMap map) => _workload.Setup(map);

    internal override void Work<TMap>(TMap map, int start, int count) => _workload.Work(map, start, count);
}
