namespace SyncMapRegistry.Telemetry;

/// <summary>
/// What a map's slow path did under the lock, for its telemetry to report once the lock is released. A slow path
/// holds one shard's lock, so it promotes at most once.
/// Times are set only when something listened to spans when the work started (see <see cref="SyncMapTelemetry.TracesSpans"/>).
/// </summary>
internal struct SlowPathEvents
{
    /// <summary>Misses counted (Go's <c>misses</c>).</summary>
    internal int Misses;

    /// <summary>Shards promoted: 0 or 1.</summary>
    internal int Promotions;

    /// <summary>Entries of the promotion's new snapshot: the entries it copied.</summary>
    internal int PromotedEntries;

    /// <summary>Deleted entries the promotion expunged.</summary>
    internal int PromotedExpunged;

    /// <summary>The shard's misses that led to the promotion.</summary>
    internal int PromotedMisses;
    internal DateTime PromoteStart;
    internal DateTime PromoteEnd;

    /// <summary>Whether there is anything to report.</summary>
    internal readonly bool Any => Misses > 0 || Promotions > 0;
}
