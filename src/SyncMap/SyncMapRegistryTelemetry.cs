namespace SyncMapRegistry;

/// <summary>
/// The names a <see cref="SyncMap{TKey, TValue}"/> publishes its telemetry under: one <see cref="System.Diagnostics.Metrics.Meter"/>,
/// one <see cref="System.Diagnostics.ActivitySource"/>, their instruments, spans and tags.
/// </summary>
/// <remarks>Names follow OpenTelemetry's conventions: lowercase and dotted, with UCUM units.</remarks>
public static class SyncMapRegistryTelemetry
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "SyncMapRegistry";

    /// <summary>The activity source's name.</summary>
    public const string ActivitySourceName = "SyncMapRegistry";

    /// <summary>Instrument names, one per metric.</summary>
    public static class Instruments
    {
        /// <summary>Counter: each time a shard's dirty map is promoted into a new read snapshot. Unit <c>{promotion}</c>.</summary>
        public const string Promotions = "syncmap.promotions";

        /// <summary>Counter: each operation that went past the read snapshot and under its shard's lock. Unit <c>{miss}</c>.</summary>
        public const string Misses = "syncmap.misses";

        /// <summary>
        /// Counter: each rebuild of a read snapshot by a promotion, which copies the shard's live snapshot entries and
        /// its dirty map's (named for Go's dirty rebuild, which copies at the first new key instead). Unit <c>{rebuild}</c>.
        /// </summary>
        public const string DirtyRebuilds = "syncmap.dirty.rebuilds";

        /// <summary>Counter: entries copied by those rebuilds. Unit <c>{entry}</c>.</summary>
        public const string DirtyRebuildEntries = "syncmap.dirty.rebuild.entries";

        /// <summary>Counter: deleted entries expunged (left out of the new snapshot) by those rebuilds. Unit <c>{entry}</c>.</summary>
        public const string Expunged = "syncmap.expunged";

        /// <summary>Histogram: entries in each promoted snapshot. Unit <c>{entry}</c>.</summary>
        public const string PromotionSize = "syncmap.promotion.size";

        /// <summary>Observable up-down counter: keys per tier, tagged <see cref="Tags.Tier"/>. Unit <c>{entry}</c>.</summary>
        public const string Entries = "syncmap.entries";

        /// <summary>Observable counter: lookups by result, tagged <see cref="Tags.Result"/>. Unit <c>{lookup}</c>.</summary>
        public const string Lookups = "syncmap.lookups";
    }

    /// <summary>Span names.</summary>
    public static class Spans
    {
        /// <summary>A shard's dirty map promoted into a new read snapshot.</summary>
        public const string Promote = "syncmap.promote";

        /// <summary>The copy inside a promotion: a shard's live snapshot entries and its dirty map's merged into the new snapshot (O(shard)).</summary>
        public const string DirtyRebuild = "syncmap.dirty.rebuild";
    }

    /// <summary>Tag (attribute) keys and their bounded values.</summary>
    public static class Tags
    {
        /// <summary>The map's name, carried by every instrument and span.</summary>
        public const string Name = "syncmap.name";

        /// <summary>The tier of <see cref="Instruments.Entries"/>: <see cref="TierRead"/> or <see cref="TierDirty"/>.</summary>
        public const string Tier = "syncmap.tier";

        /// <summary>The result of a <see cref="Instruments.Lookups"/> measurement.</summary>
        public const string Result = "syncmap.result";

        /// <summary>Span tag: entries in a promoted snapshot, or copied by a rebuild.</summary>
        public const string Entries = "syncmap.entries";

        /// <summary>Span tag: misses that triggered a promotion.</summary>
        public const string Misses = "syncmap.misses";

        /// <summary>Span tag: entries expunged by a rebuild.</summary>
        public const string ExpungedEntries = "syncmap.expunged";

        /// <summary><see cref="Tier"/> value: the read snapshot.</summary>
        public const string TierRead = "read";

        /// <summary><see cref="Tier"/> value: the dirty map.</summary>
        public const string TierDirty = "dirty";

        /// <summary><see cref="Result"/> value: served by the read snapshot.</summary>
        public const string ReadHit = "read_hit";

        /// <summary><see cref="Result"/> value: found in the dirty map under the lock.</summary>
        public const string DirtyHit = "dirty_hit";

        /// <summary><see cref="Result"/> value: not found after going under the lock.</summary>
        public const string Miss = "miss";
    }
}
