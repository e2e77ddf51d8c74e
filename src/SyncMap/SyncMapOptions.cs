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
    /// Off by default: even a per-thread increment (about a nanosecond) is a visible share of a read hit that
    /// takes a few. When on, each thread counts in a cell of its own, summed only when observed; a read hit
    /// still takes no lock, allocates nothing and writes no shared memory.
    /// </summary>
    public bool CountReadHits { get; init; }
}
