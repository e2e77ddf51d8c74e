namespace SyncMapRegistry.Host.Registry;

/// <summary>One silo's registry statistics at one moment. Counters are cumulative since the silo started.</summary>
/// <param name="Silo">The silo's name.</param>
/// <param name="Available">Whether the silo runs SyncMapRegistry and its statistics could be read.</param>
/// <param name="Entries">Grain addresses held now.</param>
/// <param name="Hits">Lookups the registry answered.</param>
/// <param name="Misses">Lookups the registry could not answer (Orleans then asked the grain directory).</param>
/// <param name="ReadHits">Lookups served by the SyncMap's lock-free read snapshot (0 unless counted).</param>
/// <param name="DirtyHits">Lookups that missed the read snapshot and were found in the dirty map under the lock.</param>
/// <param name="LookupMisses">Lookups that went under the lock and found nothing.</param>
/// <param name="Promotions">Promotions: a shard's dirty map and live snapshot entries merged into a new read snapshot.</param>
/// <param name="EntriesCopied">Entries those promotions copied into new snapshots.</param>
/// <param name="Purged">Entries removed because their silo left the cluster.</param>
/// <param name="Removals">Entries removed by Orleans (an invalidated address, for example after a failed call).</param>
/// <param name="Evicted">Entries removed by the entry cap.</param>
/// <param name="LocalActivations">Activations on this silo, from the registry's local-activation index.</param>
public readonly record struct SiloRegistrySnapshot(
    string Silo,
    bool Available,
    int Entries,
    long Hits,
    long Misses,
    long ReadHits,
    long DirtyHits,
    long LookupMisses,
    long Promotions,
    long EntriesCopied,
    long Purged,
    long Removals,
    long Evicted,
    int LocalActivations)
{
    /// <summary>A silo whose registry could not be read.</summary>
    public static SiloRegistrySnapshot Unavailable(string silo) => new(silo, false, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);

    /// <summary>Sums the snapshots of several silos.</summary>
    public static SiloRegistrySnapshot Total(IEnumerable<SiloRegistrySnapshot> silos)
    {
        ArgumentNullException.ThrowIfNull(silos);
        SiloRegistrySnapshot total = Unavailable("total");
        foreach (SiloRegistrySnapshot s in silos)
        {
            total = new SiloRegistrySnapshot(
                "total",
                total.Available || s.Available,
                total.Entries + s.Entries,
                total.Hits + s.Hits,
                total.Misses + s.Misses,
                total.ReadHits + s.ReadHits,
                total.DirtyHits + s.DirtyHits,
                total.LookupMisses + s.LookupMisses,
                total.Promotions + s.Promotions,
                total.EntriesCopied + s.EntriesCopied,
                total.Purged + s.Purged,
                total.Removals + s.Removals,
                total.Evicted + s.Evicted,
                total.LocalActivations + s.LocalActivations);
        }

        return total;
    }
}
