namespace SyncMapRegistry;

/// <summary>
/// The names the grain registry publishes its own telemetry under, on the same meter and activity source as its
/// maps (<see cref="SyncMapRegistryTelemetry.MeterName"/>, <see cref="SyncMapRegistryTelemetry.ActivitySourceName"/>):
/// in a silo, the meter its <c>IMeterFactory</c> makes, one per silo. The maps' instruments are in
/// <see cref="SyncMapRegistryTelemetry"/>.
/// </summary>
/// <remarks>
/// Names follow OpenTelemetry's conventions: lowercase, dotted, under the library's own namespace
/// (<c>syncmap_registry.</c>), with UCUM units. Every measurement and span also carries the map's name,
/// <see cref="SyncMapRegistryTelemetry.Tags.Name"/>; a lookup's result is <see cref="SyncMapRegistryTelemetry.Tags.LookupResult"/>,
/// the attribute the maps' lookups carry too.
/// </remarks>
public static class GrainRegistryTelemetry
{
    /// <summary>Instrument names, one per metric.</summary>
    public static class Instruments
    {
        /// <summary>
        /// Observable counter: registry lookups, with <see cref="SyncMapRegistryTelemetry.Tags.LookupResult"/> <see cref="Tags.Hit"/>
        /// or <see cref="Tags.Miss"/>. Unit <c>{lookup}</c>.
        /// </summary>
        public const string Lookups = "syncmap_registry.lookups";

        /// <summary>Counter: registry entries removed because the silo they point at is dead. Unit <c>{entry}</c>.</summary>
        public const string Purged = "syncmap_registry.purged";

        /// <summary>Counter: registry entries removed by the entry cap. Unit <c>{entry}</c>.</summary>
        public const string Evicted = "syncmap_registry.evicted";
    }

    /// <summary>Span names.</summary>
    public static class Spans
    {
        /// <summary>One walk of the directory cache that removed the entries of every dead silo.</summary>
        public const string Purge = "syncmap_registry.purge";
    }

    /// <summary>Tag (attribute) keys and their bounded values.</summary>
    public static class Tags
    {
        /// <summary>Span tag of <see cref="Spans.Purge"/>: the dead silos whose entries it removed (a string array).</summary>
        public const string PurgedSilos = "syncmap_registry.purge.silos";

        /// <summary>Span tag of <see cref="Spans.Purge"/>: the entries it removed.</summary>
        public const string PurgedEntries = "syncmap_registry.purge.entries";

        /// <summary><see cref="SyncMapRegistryTelemetry.Tags.LookupResult"/> value of <see cref="Instruments.Lookups"/>: the registry held the grain.</summary>
        public const string Hit = "hit";

        /// <summary><see cref="SyncMapRegistryTelemetry.Tags.LookupResult"/> value of <see cref="Instruments.Lookups"/>: the registry did not hold the grain.</summary>
        public const string Miss = "miss";
    }
}
