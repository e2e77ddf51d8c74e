using System.Collections;
using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace SyncMapRegistry;

/// <summary>
/// An index of the activations on this silo, <see cref="GrainId"/> to <see cref="IGrainContext"/>, on a
/// <see cref="SyncMap{TKey, TValue}"/>. Orleans' own index (<c>ActivationDirectory</c>) is internal; this one is
/// fed by Orleans' public <see cref="IActivationWorkingSetObserver"/> and can be read lock-free by anyone.
/// </summary>
/// <remarks>
/// <para>
/// What it follows. An activation enters on <c>OnAdded</c> (Orleans calls it once, when the activation becomes
/// valid) and leaves on <c>OnDeactivated</c> (once, when it is disposed). Orleans makes both calls under the
/// activation's own lock, so for one activation the add always comes before the removal. Removal is a
/// compare-and-delete on the very context, so the late removal of an old activation never removes a newer
/// activation of the same grain, and an add replaces whatever an older activation left.
/// </para>
/// <para>
/// What it ignores. <c>OnActive</c>, <c>OnIdle</c> and <c>OnEvicted</c> are about the working set, not about
/// existence. <c>OnActive</c> in particular comes from Orleans' scan thread with a view that may be seconds old:
/// storing from it could write a deactivated activation over its grain's newer one. Grains that the grain directory
/// does not register (<see cref="PlacementStrategy.IsUsingGrainDirectory"/> false: stateless workers) are left out:
/// their activations share one <see cref="GrainId"/>, so no single entry could stand for them. Nothing here
/// reads an activation's lazily built state (<see cref="IGrainContext.Deactivated"/> allocates it, under the
/// activation's lock).
/// </para>
/// <para>
/// Where the work runs. Both notifications arrive under Orleans' activation lock. They only queue the change
/// (a <see cref="System.Collections.Concurrent.ConcurrentQueue{T}"/>: lock-free and amortized O(1), except when a
/// backlog fills its segment and it allocates a larger one under a lock of its own); a background run applies the
/// queue to the map in order, so no map write (a new key may split its shard) and no telemetry listener runs under
/// Orleans' lock. The index therefore lags the
/// working set by the time that run takes to get a thread.
/// </para>
/// </remarks>
internal sealed partial class LocalActivationIndex : IActivationWorkingSetObserver, IGrainRegistryView<IGrainContext>
{
    private readonly SyncMap<GrainId, IGrainContext> _map;
    private readonly RegistryCounters _counters;
    private readonly ILogger _logger;

    /// <summary>Changes not yet applied, in the order Orleans reported them. Enqueued under Orleans' locks; dequeued by <see cref="_apply"/> only.</summary>
    private readonly ConcurrentQueue<Change> _changes = new();

    /// <summary>Runs <see cref="ApplyChanges"/>, one run at a time.</summary>
    private readonly BackgroundWork _apply;

    /// <summary>Creates an empty index.</summary>
    /// <param name="options">The telemetry name (<see cref="SyncMapRegistryOptions.LocalActivationsName"/>) and counting switches.</param>
    /// <param name="logger">Where a failure to apply changes is reported.</param>
    /// <param name="scheduleApply">Queues a run that applies the changes; the thread pool when <c>null</c>. Tests drive it by hand.</param>
    /// <param name="meterFactory">The silo's meter factory, which makes the meter of the index's instruments; the process-wide meter when <c>null</c>.</param>
    public LocalActivationIndex(SyncMapRegistryOptions options, ILogger<LocalActivationIndex>? logger = null, Action<Action>? scheduleApply = null, IMeterFactory? meterFactory = null)
    {
        RegistryOptionsGuard.Validated(options);
        _map = new SyncMap<GrainId, IGrainContext>(
            new SyncMapOptions { Name = options.LocalActivationsName, CountReadHits = options.CountReadHits, MeterFactory = meterFactory },
            keyComparer: null,
            valueComparer: ReferenceEqualityComparer.Instance);
        _counters = new RegistryCounters(options.LocalActivationsName, options.CountLookups, meterFactory);
        _logger = logger ?? NullLogger<LocalActivationIndex>.Instance;
        _apply = new BackgroundWork(ApplyChanges, exception => LogErrorApply(exception), scheduleApply);
    }

    /// <inheritdoc/>
    public string Name => _counters.Name;

    /// <inheritdoc/>
    public int Count => _counters.Count;

    /// <inheritdoc/>
    public bool TryLookUp(GrainId grainId, [NotNullWhen(true)] out IGrainContext? value)
    {
        if (_map.TryGetValue(grainId, out value))
        {
            _counters.Hit();
            return true;
        }

        _counters.Miss();
        return false;
    }

    /// <inheritdoc/>
    public GrainRegistryStatistics GetStatistics() => _counters.Snapshot(_map.GetStatistics());

    /// <inheritdoc/>
    public IEnumerator<KeyValuePair<GrainId, IGrainContext>> GetEnumerator() => _map.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <inheritdoc/>
    void IActivationWorkingSetObserver.OnAdded(IActivationWorkingSetMember member) => Enqueue(member, added: true);

    /// <inheritdoc/>
    void IActivationWorkingSetObserver.OnDeactivated(IActivationWorkingSetMember member) => Enqueue(member, added: false);

    /// <summary>Called under Orleans' activation lock: one enqueue (see the type's remarks), reads nothing lazily built.</summary>
    private void Enqueue(IActivationWorkingSetMember member, bool added)
    {
        // Grains kept out of the grain directory are stateless workers: several activations under one GrainId.
        // The placement is the grain type's (GetComponent reads it without a lock or an allocation).
        if (member is IGrainContext context && context.GetComponent<PlacementStrategy>() is not { IsUsingGrainDirectory: false })
        {
            _changes.Enqueue(new Change(context, added));
            _apply.Signal();
        }
    }

    /// <summary>Applies the queued changes in order. Runs on <see cref="_apply"/>, never under Orleans' locks.</summary>
    private void ApplyChanges()
    {
        while (_changes.TryDequeue(out Change change))
        {
            IGrainContext context = change.Context;
            if (change.Added)
            {
                bool replaced = _map.Swap(context.GrainId, context, out _);
                _counters.Updated(added: !replaced);
            }
            else if (_map.CompareAndDelete(context.GrainId, context))
            {
                _counters.Removed();
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Applying an activation change to the local-activation index failed; that change is dropped, and the changes queued behind it are applied with the next one")]
    private partial void LogErrorApply(Exception exception);

    /// <summary>An activation added (<see cref="Added"/>) or deactivated.</summary>
    private readonly record struct Change(IGrainContext Context, bool Added);
}
