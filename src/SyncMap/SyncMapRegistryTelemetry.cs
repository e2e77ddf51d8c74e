namespace SyncMapRegistry;

/// <summary>
/// The names a <see cref="SyncMap{TKey, TValue}"/> publishes its telemetry under: one <see cref="System.Diagnostics.Metrics.Meter"/>
/// name, one <see cref="System.Diagnostics.ActivitySource"/>, their instruments, spans and attributes.
/// </summary>
/// <remarks>
/// Names follow OpenTelemetry's conventions: lowercase and dotted, with UCUM units; an up-down counter of things is
/// named <c>.count</c>; a span attribute is named for the one thing it means. A promotion is one event with one name:
/// <c>syncmap.promotions</c>, <c>syncmap.promotion.size</c>, and the span <c>syncmap.promote</c> with its
/// <c>syncmap.promotion.*</c> attributes (<c>syncmap.expunged</c> counts what promotions left out). A map given a
/// <see cref="SyncMapOptions.MeterFactory"/> creates its meter there (one per factory, so one per silo in a
/// dependency-injected host); a map without one uses a process-wide meter of the same name.
/// </remarks>
public static class SyncMapRegistryTelemetry
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "SyncMapRegistry";

    /// <summary>The activity source's name.</summary>
    public const string ActivitySourceName = "SyncMapRegistry";

    /// <summary>Instrument names, one per metric.</summary>
    public static class Instruments
    {
        /// <summary>
        /// Counter: each promotion, which merges a shard's live snapshot entries and its dirty map's into a new read
        /// snapshot (the map's only O(shard) copy). Unit <c>{promotion}</c>.
        /// </summary>
        public const string Promotions = "syncmap.promotions";

        /// <summary>Histogram: entries in each promotion's new snapshot, that is, the entries it copied. Unit <c>{entry}</c>.</summary>
        public const string PromotionSize = "syncmap.promotion.size";

        /// <summary>Counter: deleted entries expunged (left out of the new snapshot) by promotions. Unit <c>{entry}</c>.</summary>
        public const string Expunged = "syncmap.expunged";

        /// <summary>Counter: each operation that went past the read snapshot and under its shard's lock. Unit <c>{miss}</c>.</summary>
        public const string Misses = "syncmap.misses";

        /// <summary>Observable up-down counter: keys per tier, with <see cref="Tags.Tier"/>. Unit <c>{entry}</c>.</summary>
        public const string EntryCount = "syncmap.entry.count";

        /// <summary>Observable counter: lookups by result, with <see cref="Tags.LookupResult"/>. Unit <c>{lookup}</c>.</summary>
        public const string Lookups = "syncmap.lookups";
    }

    /// <summary>Span names.</summary>
    public static class Spans
    {
        /// <summary>
        /// A promotion: a shard's live snapshot entries and its dirty map's merged into a new read snapshot (O(shard)),
        /// and the snapshot published. With <see cref="Tags.PromotionEntries"/>, <see cref="Tags.PromotionMisses"/>
        /// and <see cref="Tags.PromotionExpunged"/>.
        /// </summary>
        public const string Promote = "syncmap.promote";
    }

    /// <summary>Tag (attribute) keys and their bounded values.</summary>
    public static class Tags
    {
        /// <summary>The map's name, carried by every instrument and span.</summary>
        public const string Name = "syncmap.name";

        /// <summary>The tier of <see cref="Instruments.EntryCount"/>: <see cref="TierRead"/> or <see cref="TierDirty"/>.</summary>
        public const string Tier = "syncmap.tier";

        /// <summary>
        /// The result of a lookup: of <see cref="Instruments.Lookups"/> (<see cref="ReadHit"/>, <see cref="DirtyHit"/>,
        /// <see cref="Miss"/>), and of the registry's <c>syncmap_registry.lookups</c> (<c>hit</c>, <c>miss</c>).
        /// </summary>
        public const string LookupResult = "syncmap.lookup.result";

        /// <summary>Attribute of <see cref="Spans.Promote"/>: entries in the new snapshot (the entries the promotion copied).</summary>
        public const string PromotionEntries = "syncmap.promotion.entries";

        /// <summary>Attribute of <see cref="Spans.Promote"/>: the shard's misses since its previous promotion, which led to this one (fewer than its entries when a walk promoted).</summary>
        public const string PromotionMisses = "syncmap.promotion.misses";

        /// <summary>Attribute of <see cref="Spans.Promote"/>: deleted entries the promotion expunged.</summary>
        public const string PromotionExpunged = "syncmap.promotion.expunged";

        /// <summary><see cref="Tier"/> value: the read snapshot.</summary>
        public const string TierRead = "read";

        /// <summary><see cref="Tier"/> value: the dirty map.</summary>
        public const string TierDirty = "dirty";

        /// <summary><see cref="LookupResult"/> value: served by the read snapshot.</summary>
        public const string ReadHit = "read_hit";

        /// <summary><see cref="LookupResult"/> value: found in the dirty map under the lock.</summary>
        public const string DirtyHit = "dirty_hit";

        /// <summary><see cref="LookupResult"/> value: not found after going under the lock.</summary>
        public const string Miss = "miss";
    }
}
