namespace SyncMapRegistry;

/// <summary>
/// The one place where the registry walks a map for its own housekeeping (eviction, purges, statistics,
/// Orleans' <c>KeyValues</c>). Such walks must not force a promotion of the map's pending keys: the next new
/// key would then pay for a rebuild on a message-path thread.
/// </summary>
/// <remarks>
/// Today this is <see cref="SyncMap{TKey, TValue}.GetEnumerator"/>, which still promotes pending keys before it
/// walks; the map's non-promoting walk replaces it here, and nowhere else, once it lands.
/// </remarks>
internal static class SyncMapWalk
{
    /// <summary>The map's live entries, with the map's enumeration semantics (no key twice, concurrent changes may or may not show).</summary>
    internal static IEnumerable<KeyValuePair<TKey, TValue>> Entries<TKey, TValue>(SyncMap<TKey, TValue> map)
        where TKey : notnull => map;
}
