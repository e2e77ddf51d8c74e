using System.Diagnostics.Metrics;

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
    /// Counts lookups served by the read snapshot (<c>syncmap.lookups</c> with <c>syncmap.lookup.result=read_hit</c>).
    /// Off by default: even a per-thread increment (about a nanosecond) is a visible share of a read hit that
    /// takes a few. When on, each thread counts in a cell of its own, summed only when observed; a read hit
    /// still takes no lock, allocates nothing and writes no shared memory.
    /// </summary>
    public bool CountReadHits { get; init; }

    /// <summary>
    /// Where the map's meter comes from: with dependency injection, the host's <see cref="IMeterFactory"/> (each
    /// silo's own, as Orleans uses it), so that each host exports only its own maps. The factory is asked for the
    /// <c>SyncMapRegistry</c> meter once; every named map given the same factory shares that meter and its
    /// instruments. <c>null</c> (the default, for code without dependency injection): a process-wide meter of
    /// the same name. Spans always come from the process-wide <c>SyncMapRegistry</c> activity source.
    /// </summary>
    public IMeterFactory? MeterFactory { get; init; }
}
