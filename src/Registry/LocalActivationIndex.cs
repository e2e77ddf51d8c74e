using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace SyncMapRegistry;

/// <summary>
/// An index of the activations on this silo, <see cref="GrainId"/> to <see cref="IGrainContext"/>, on a
/// <see cref="SyncMap{TKey, TValue}"/>. Orleans' own index (<c>ActivationDirectory</c>) is internal; this one is
/// fed by Orleans' public <see cref="IActivationWorkingSetObserver"/> and can be read lock-free by anyone.
/// </summary>
/// <remarks>
/// <para>
/// An activation enters when it is added to the working set or reported active, and leaves when it is
/// deactivated. Leaving the working set because it went idle (<c>OnEvicted</c>) does not remove it: the
/// activation still exists. Removal is a compare-and-delete on the very context, so a late notification about
/// an old activation never removes a newer activation of the same grain. An activation whose
/// <see cref="IGrainContext.Deactivated"/> task has completed is never added, and <see cref="RemoveDeactivated"/>
/// sweeps out any that slipped in.
/// </para>
/// <para>
/// Cost: lookups are lock-free, but every new activation is a new key, which a <see cref="SyncMap{TKey, TValue}"/>
/// adds under its lock, and the first new key after a promotion copies the snapshot (O(n)). The index therefore
/// suits silos whose activations live long compared with how often new ones arrive; its statistics
/// (<see cref="GetStatistics"/>: rebuilds and entries copied) show what the churn costs.
/// </para>
/// </remarks>
internal sealed class LocalActivationIndex : IActivationWorkingSetObserver, IGrainRegistryView<IGrainContext>
{
    private readonly SyncMap<GrainId, IGrainContext> _map;
    private readonly RegistryCounters _counters;

    /// <summary>Creates an empty index.</summary>
    /// <param name="options">The telemetry name (<see cref="SyncMapRegistryOptions.LocalActivationsName"/>) and counting switches.</param>
    public LocalActivationIndex(SyncMapRegistryOptions options)
    {
        RegistryOptionsGuard.Validated(options);
        _map = new SyncMap<GrainId, IGrainContext>(
            new SyncMapOptions { Name = options.LocalActivationsName, CountReadHits = options.CountReadHits },
            keyComparer: null,
            valueComparer: ReferenceEqualityComparer.Instance);
        _counters = new RegistryCounters(options.LocalActivationsName, options.CountLookups);
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
    void IActivationWorkingSetObserver.OnAdded(IActivationWorkingSetMember member) => Add(member);

    /// <inheritdoc/>
    /// <remarks>Orleans reports every active member on each working-set scan; a known activation costs one lock-free read.</remarks>
    void IActivationWorkingSetObserver.OnActive(IActivationWorkingSetMember member) => Add(member);

    /// <inheritdoc/>
    void IActivationWorkingSetObserver.OnDeactivated(IActivationWorkingSetMember member)
    {
        if (member is IGrainContext context)
        {
            Remove(context);
        }
    }

    /// <summary>Removes activations whose deactivation has completed: a safety net behind the observer's notifications.</summary>
    /// <returns>The number removed.</returns>
    public int RemoveDeactivated()
    {
        int removed = 0;
        foreach (KeyValuePair<GrainId, IGrainContext> pair in _map)
        {
            if (pair.Value.Deactivated.IsCompleted && Remove(pair.Value))
            {
                removed++;
            }
        }

        return removed;
    }

    private void Add(IActivationWorkingSetMember member)
    {
        if (member is not IGrainContext context || context.Deactivated.IsCompleted)
        {
            return;
        }

        GrainId grainId = context.GrainId;
        if (_map.TryGetValue(grainId, out IGrainContext? current) && ReferenceEquals(current, context))
        {
            return;
        }

        bool replaced = _map.Swap(grainId, context, out _);
        _counters.Updated(added: !replaced);

        // Deactivation may have completed while we stored: then its notification may have run before our store.
        if (context.Deactivated.IsCompleted)
        {
            Remove(context);
        }
    }

    private bool Remove(IGrainContext context)
    {
        if (_map.CompareAndDelete(context.GrainId, context))
        {
            _counters.Removed();
            return true;
        }

        return false;
    }
}
