namespace SyncMapRegistry;

/// <summary>
/// The names the grain registry publishes its own telemetry under, on the same meter and activity source as its
/// maps (<see cref="SyncMapRegistryTelemetry.MeterName"/>, <see cref="SyncMapRegistryTelemetry.ActivitySourceName"/>).
/// The maps' instruments are in <see cref="SyncMapRegistryTelemetry"/>.
/// </summary>
/// <remarks>Names follow OpenTelemetry's conventions: lowercase and dotted, with UCUM units.</remarks>
public static class GrainRegistryTelemetry
{
    /// <summary>Instrument names, one per metric.</summary>
    public static class Instruments
    {
        /// <summary>Observable counter: registry lookups, tagged <see cref="Tags.Result"/>. Unit <c>{lookup}</c>.</summary>
        public const string Lookups = "registry.lookups";

        /// <summary>Counter: registry entries removed because their silo left the cluster. Unit <c>{entry}</c>.</summary>
        public const string Purged = "registry.purged";

        /// <summary>Counter: registry entries removed by the entry cap. Unit <c>{entry}</c>.</summary>
        public const string Evicted = "registry.evicted";
    }

    /// <summary>Span names.</summary>
    public static class Spans
    {
        /// <summary>Registry entries purged for a silo that left.</summary>
        public const string Purge = "registry.purge";
    }

    /// <summary>Tag (attribute) keys and their bounded values.</summary>
    public static class Tags
    {
        /// <summary>The result of a <see cref="Instruments.Lookups"/> measurement: <see cref="Hit"/> or <see cref="Miss"/>.</summary>
        public const string Result = "registry.result";

        /// <summary>Span tag: the silo whose entries a purge removed.</summary>
        public const string Silo = "registry.silo";

        /// <summary>Span tag: entries a purge removed.</summary>
        public const string Removed = "registry.removed";

        /// <summary><see cref="Result"/> value: the registry held the grain.</summary>
        public const string Hit = "hit";

        /// <summary><see cref="Result"/> value: the registry did not hold the grain.</summary>
        public const string Miss = "miss";
    }
}
