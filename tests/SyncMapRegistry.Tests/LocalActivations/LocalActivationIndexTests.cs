using System.Diagnostics;
using System.Diagnostics.Metrics;
using static SyncMapRegistry.OrleansTests.TestSupport;

namespace SyncMapRegistry.OrleansTests;

/// <summary>
/// The index against Orleans' working-set notifications delivered in the orders that lose races in a live silo.
/// The activations are stand-ins whose state the test sets, so each interleaving is exact.
/// </summary>
public sealed class LocalActivationIndexTests
{
    private readonly ManualScheduler _scheduler = new();

    private LocalActivationIndex NewIndex(string name = "index-test") =>
        new(new SyncMapRegistryOptions { Name = name + "-cache", LocalActivationsName = name }, scheduleApply: _scheduler.Schedule);

    [Fact]
    public void AStaleOnActiveFromTheScanNeverReplacesTheGrainsNewerActivation()
    {
        LocalActivationIndex index = NewIndex();
        IActivationWorkingSetObserver observer = index;
        var first = new StandInActivation(Grain(1));
        var second = new StandInActivation(Grain(1));

        // The scan thread read `first` as active; then `first` deactivated and the grain came back as `second`;
        // then the scan delivered its stale OnActive(first), whose deactivation it had not yet seen complete.
        observer.OnAdded(first);
        observer.OnDeactivated(first);
        observer.OnAdded(second);
        observer.OnActive(first);
        _scheduler.RunAll();

        Assert.True(index.TryLookUp(Grain(1), out IGrainContext? indexed));
        Assert.Same(second, indexed);
        Assert.Equal(1, index.Count);

        // And the stale activation's removal, however late, leaves the newer one in place.
        observer.OnDeactivated(first);
        _scheduler.RunAll();
        Assert.True(index.TryLookUp(Grain(1), out indexed));
        Assert.Same(second, indexed);
    }

    [Fact]
    public void NothingReadsAnActivationsLazilyBuiltState()
    {
        LocalActivationIndex index = NewIndex();
        IActivationWorkingSetObserver observer = index;
        var activation = new StandInActivation(Grain(2));

        observer.OnAdded(activation);
        observer.OnActive(activation);
        observer.OnIdle(activation);
        observer.OnActive(activation);
        _scheduler.RunAll();
        Assert.True(index.TryLookUp(Grain(2), out _));
        _ = index.GetStatistics();
        _ = index.ToList();
        observer.OnEvicted(activation);
        observer.OnDeactivating(activation);
        observer.OnDeactivated(activation);
        _scheduler.RunAll();

        Assert.False(index.TryLookUp(Grain(2), out _));
        Assert.Equal(0, activation.DeactivatedReads);
    }

    [Fact]
    public void ANotificationUnderTheActivationsLockNeitherWritesTheMapNorRaisesTelemetry()
    {
        const string name = "index-lock-test";
        LocalActivationIndex index = NewIndex(name);
        IActivationWorkingSetObserver observer = index;
        var activation = new StandInActivation(Grain(3));
        int callbacksUnderTheLock = 0;
        int callbacks = 0;
        void Seen()
        {
            Interlocked.Increment(ref callbacks);
            if (Monitor.IsEntered(activation))
            {
                Interlocked.Increment(ref callbacksUnderTheLock);
            }
        }

        using var spans = new ActivityListener
        {
            ShouldListenTo = source => source.Name == SyncMapRegistryTelemetry.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStarted = activity => Seen(),
        };
        ActivitySource.AddActivityListener(spans);
        using var measurements = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == SyncMapRegistryTelemetry.MeterName)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        measurements.SetMeasurementEventCallback<long>((_, _, _, _) => Seen());
        measurements.Start();

        // Orleans calls OnAdded and OnDeactivated holding the activation's lock (lock (this) in ActivationData).
        lock (activation)
        {
            observer.OnAdded(activation);
            Assert.False(index.TryLookUp(Grain(3), out _), "OnAdded wrote the map under the activation's lock.");
        }

        _scheduler.RunAll();
        Assert.True(index.TryLookUp(Grain(3), out _));
        lock (activation)
        {
            observer.OnDeactivated(activation);
        }

        _scheduler.RunAll();
        Assert.False(index.TryLookUp(Grain(3), out _));
        Assert.True(callbacks > 0, "No telemetry was raised at all: the test would prove nothing.");
        Assert.Equal(0, callbacksUnderTheLock);
    }

    [Fact]
    public void ActivationsTheGrainDirectoryDoesNotRegisterStayOutOfTheIndex()
    {
        LocalActivationIndex index = NewIndex();
        IActivationWorkingSetObserver observer = index;
        var worker1 = new StandInActivation(Grain(4), new StandInPlacement(isUsingGrainDirectory: false));
        var worker2 = new StandInActivation(Grain(4), new StandInPlacement(isUsingGrainDirectory: false));

        observer.OnAdded(worker1);
        observer.OnAdded(worker2);
        observer.OnDeactivated(worker1);

        Assert.Equal(0, _scheduler.Queued);
        Assert.False(index.TryLookUp(Grain(4), out _));
        Assert.Equal(0, index.Count);
    }

    /// <summary>A placement like a stateless worker's, which the grain directory does not register.</summary>
    private sealed class StandInPlacement(bool isUsingGrainDirectory) : PlacementStrategy
    {
        public override bool IsUsingGrainDirectory => isUsingGrainDirectory;
    }

    /// <summary>
    /// An activation as the working set hands it to observers: an <see cref="IGrainContext"/> and an
    /// <see cref="IActivationWorkingSetMember"/>. It counts reads of <see cref="Deactivated"/>, which in Orleans'
    /// ActivationData takes the activation's lock and allocates its extras. Members the index must not use throw.
    /// </summary>
    private sealed class StandInActivation(GrainId grainId, PlacementStrategy? placement = null) : IGrainContext, IActivationWorkingSetMember
    {
        private static readonly PlacementStrategy s_defaultPlacement = new StandInPlacement(isUsingGrainDirectory: true);
        private readonly TaskCompletionSource _deactivated = new();
        private int _deactivatedReads;

        public int DeactivatedReads => Volatile.Read(ref _deactivatedReads);

        public GrainId GrainId { get; } = grainId;

        public ActivationId ActivationId { get; } = ActivationId.NewId();

        public GrainAddress Address => new() { GrainId = GrainId, ActivationId = ActivationId };

        public Task Deactivated
        {
            get
            {
                Interlocked.Increment(ref _deactivatedReads);
                return _deactivated.Task;
            }
        }

        public GrainReference GrainReference => throw new NotSupportedException();

        public object? GrainInstance => null;

        public IServiceProvider ActivationServices => throw new NotSupportedException();

        public IGrainLifecycle ObservableLifecycle => throw new NotSupportedException();

        public IWorkItemScheduler Scheduler => throw new NotSupportedException();

        public object? GetComponent(Type componentType) => componentType == typeof(PlacementStrategy) ? placement ?? s_defaultPlacement : null;

        public object? GetTarget() => null;

        public void SetComponent<TComponent>(TComponent? value)
            where TComponent : class => throw new NotSupportedException();

        public void ReceiveMessage(object message) => throw new NotSupportedException();

        public void Activate(Dictionary<string, object>? requestContext, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public void Deactivate(DeactivationReason deactivationReason, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public void Rehydrate(IRehydrationContext context) => throw new NotSupportedException();

        public void Migrate(Dictionary<string, object>? requestContext, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public bool Equals(IGrainContext? other) => ReferenceEquals(this, other);

        public bool IsCandidateForRemoval(bool wouldRemove) => false;
    }
}
