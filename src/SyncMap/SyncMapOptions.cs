namespace SyncMapRegistry;

/// <summary>Telemetry settings for one <see cref="SyncMap{TKey, TValue}"/>.</summary>
public sealed class SyncMapOptions
{
    /// <summary>
    /// The map's name in telemetry: the <c>syncmap.name</c> tag on every instrument and span. A map
    /// without a name publishes no telemetry. Keep names few and stable; they are tag values.
    /// </summary>
    public string? Name { get; init; }

    /// <summary>
    /// Counts lookups served by the read snapshot (<c>syncmap.lookups</c> with <c>syncmap.result=read_hit</c>).
    /// Off by default: even a per-core striped increment is a visible share of a read hit that takes a
    /// couple of nanoseconds. When on, the count goes to per-core striped cells summed only when observed;
    /// a read hit still takes no lock, allocates nothing and touches no shared counter.
    /// </summary>
    public bool CountReadHits { get; init; }
}
