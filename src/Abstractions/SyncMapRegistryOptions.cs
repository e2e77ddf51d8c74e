namespace SyncMapRegistry;

/// <summary>
/// Settings of the SyncMap grain registry: the silo's grain directory cache and its local-activation index.
/// </summary>
/// <remarks>Validated when the host starts; see <see cref="SyncMapRegistryOptionsValidator"/>.</remarks>
public sealed class SyncMapRegistryOptions
{
    /// <summary>The default of <see cref="Name"/>.</summary>
    public const string DefaultName = "grain-directory-cache";

    /// <summary>The default of <see cref="LocalActivationsName"/>.</summary>
    public const string DefaultLocalActivationsName = "local-activations";

    /// <summary>The default of <see cref="PurgeInterval"/>.</summary>
    public static readonly TimeSpan DefaultPurgeInterval = TimeSpan.FromSeconds(30);

    /// <summary>The shortest <see cref="PurgeInterval"/> accepted: a periodic timer's resolution.</summary>
    public static readonly TimeSpan MinPurgeInterval = TimeSpan.FromMilliseconds(1);

    /// <summary>The longest <see cref="PurgeInterval"/> accepted (a timer's limit).</summary>
    public static readonly TimeSpan MaxPurgeInterval = TimeSpan.FromDays(1);

    /// <summary>
    /// The most entries the directory cache holds; must be positive when set. When it is <c>null</c> (the
    /// default), the cap is Orleans' <c>GrainDirectoryOptions.CacheSize</c> (1,000,000 unless the silo sets it),
    /// so a silo that sizes Orleans' cache sizes this one. When both are set, this one wins. Going over the cap
    /// evicts on the inserting thread, a constant amount per insert (see the cache's remarks).
    /// </summary>
    public int? MaxEntries { get; set; }

    /// <summary>
    /// How often the maintenance service sweeps the cache for entries that point at dead silos, as a safety net
    /// behind the membership updates it follows, and recounts the cache. Must be at least <see cref="MinPurgeInterval"/>
    /// and at most <see cref="MaxPurgeInterval"/>.
    /// Default: <see cref="DefaultPurgeInterval"/>.
    /// </summary>
    public TimeSpan PurgeInterval { get; set; } = DefaultPurgeInterval;

    /// <summary>
    /// The directory cache's name in telemetry: the <c>syncmap.name</c> tag of its instruments and spans.
    /// Must not be empty. Default: <see cref="DefaultName"/>.
    /// </summary>
    public string Name { get; set; } = DefaultName;

    /// <summary>
    /// The local-activation index's name in telemetry. Must not be empty and must differ from <see cref="Name"/>.
    /// Default: <see cref="DefaultLocalActivationsName"/>.
    /// </summary>
    public string LocalActivationsName { get; set; } = DefaultLocalActivationsName;

    /// <summary>
    /// Publishes registry lookups by result (<c>syncmap_registry.lookups</c>, hit or miss), counted in per-thread
    /// cells: a thread-static access on every lookup. Off, a directory-cache hit records a sample for the eviction
    /// policy (in its thread's own ring) only once the cache has first held half its cap, and touches no per-thread
    /// state before that; idle expiry (Orleans' <c>GrainDirectoryOptions.MaximumCacheTTL</c>) does not depend on the
    /// samples either way (a hit stamps its entry's access epoch). Default: <c>true</c>.
    /// </summary>
    public bool CountLookups { get; set; } = true;

    /// <summary>
    /// Also counts the underlying maps' read-snapshot hits (<c>syncmap.lookups</c> with <c>read_hit</c>).
    /// Off by default: see <c>SyncMapOptions.CountReadHits</c>. Default: <c>false</c>.
    /// </summary>
    public bool CountReadHits { get; set; }
}
