using CsCheck;

namespace SyncMapRegistry.Tests.SyncMap;

internal enum OpKind
{
    TryGetValue,
    ContainsKey,
    Indexer,
    Store,
    LoadOrStore,
    GetOrAdd,
    GetOrAddWithArgument,
    AddOrUpdate,
    AddOrUpdateWithFactory,
    LoadAndDelete,
    Delete,
    Swap,
    CompareAndSwap,
    CompareAndDelete,
    Range,
    Enumerate,
    Count,
    IsEmpty,
    Clear,
}

/// <summary>
/// One map operation with its arguments, applied alike to a <see cref="SyncMap{TKey, TValue}"/> and to the
/// sequential reference model; each application returns the operation's observable result as text.
/// </summary>
internal sealed record MapOp(OpKind Kind, string Key, string? Value, string? Expected)
{
    /// <summary>Values include null: a stored null is a value, not a deletion.</summary>
    internal static readonly Gen<string?> Values = Gen.OneOf<string?>("x", "y", "z", null);

    internal static Gen<MapOp> Generate(Gen<string> keys, params OpKind[] kinds) =>
        Gen.Select(Gen.OneOf(kinds), keys, Values, Values, (kind, key, value, expected) => new MapOp(kind, key, value, expected));

    /// <summary>Keys of 0-3 letters drawn from <paramref name="alphabet"/>, so keys collide often.</summary>
    internal static Gen<string> Keys(string alphabet) => Gen.String[Gen.Char[alphabet], 0, 3];

    internal static OpKind[] AllKinds => Enum.GetValues<OpKind>();

    public override string ToString() => $"{Kind}({Key}, {Value ?? "null"}, {Expected ?? "null"})";

    internal string Apply(SyncMap<string, string?> map)
    {
        switch (Kind)
        {
            case OpKind.TryGetValue:
                return Found(map.TryGetValue(Key, out string? value), value);
            case OpKind.ContainsKey:
                return map.ContainsKey(Key).ToString();
            case OpKind.Indexer:
                try
                {
                    return Found(true, map[Key]);
                }
                catch (KeyNotFoundException)
                {
                    return Found(false, null);
                }

            case OpKind.Store:
                map.Store(Key, Value);
                return "stored";
            case OpKind.LoadOrStore:
                return Found(map.LoadOrStore(Key, Value, out bool loaded) is var actual && loaded, actual);
            case OpKind.GetOrAdd:
                return map.GetOrAdd(Key, _ => Value) ?? "null";
            case OpKind.GetOrAddWithArgument:
                return map.GetOrAdd(Key, static (_, value) => value, Value) ?? "null";
            case OpKind.AddOrUpdate:
                return map.AddOrUpdate(Key, Value, (_, old) => Updated(old)) ?? "null";
            case OpKind.AddOrUpdateWithFactory:
                return map.AddOrUpdate(Key, _ => Value, (_, old) => Updated(old)) ?? "null";
            case OpKind.LoadAndDelete:
                return Found(map.LoadAndDelete(Key, out string? deleted), deleted);
            case OpKind.Delete:
                return map.Delete(Key).ToString();
            case OpKind.Swap:
                return Found(map.Swap(Key, Value, out string? previous), previous);
            case OpKind.CompareAndSwap:
                return map.CompareAndSwap(Key, Expected, Value).ToString();
            case OpKind.CompareAndDelete:
                return map.CompareAndDelete(Key, Expected).ToString();
            case OpKind.Range:
                var visited = new List<KeyValuePair<string, string?>>();
                map.Range((k, v) =>
                {
                    visited.Add(new(k, v));
                    return true;
                });
                return Describe(visited, map.KeyComparer);
            case OpKind.Enumerate:
                var enumerated = new List<KeyValuePair<string, string?>>();
                foreach (KeyValuePair<string, string?> pair in map)
                {
                    enumerated.Add(pair);
                }

                return Describe(enumerated, map.KeyComparer);
            case OpKind.Count:
                return map.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
            case OpKind.IsEmpty:
                return map.IsEmpty.ToString();
            case OpKind.Clear:
                map.Clear();
                return "cleared";
            default:
                throw new InvalidOperationException(Kind.ToString());
        }
    }

    internal string Apply(ReferenceMap model)
    {
        lock (model.Gate)
        {
            Dictionary<string, string?> d = model.Entries;
            switch (Kind)
            {
                case OpKind.TryGetValue:
                case OpKind.Indexer:
                    return Found(d.TryGetValue(Key, out string? value), value);
                case OpKind.ContainsKey:
                    return d.ContainsKey(Key).ToString();
                case OpKind.Store:
                    d[Key] = Value;
                    return "stored";
                case OpKind.LoadOrStore:
                    if (d.TryGetValue(Key, out string? existing))
                    {
                        return Found(true, existing);
                    }

                    d[Key] = Value;
                    return Found(false, Value);
                case OpKind.GetOrAdd:
                case OpKind.GetOrAddWithArgument:
                    if (!d.TryGetValue(Key, out string? got))
                    {
                        d[Key] = got = Value;
                    }

                    return got ?? "null";
                case OpKind.AddOrUpdate:
                case OpKind.AddOrUpdateWithFactory:
                    string? stored = d.TryGetValue(Key, out string? present) ? Updated(present) : Value;
                    d[Key] = stored;
                    return stored ?? "null";
                case OpKind.LoadAndDelete:
                    return Found(d.Remove(Key, out string? deleted), deleted);
                case OpKind.Delete:
                    return d.Remove(Key).ToString();
                case OpKind.Swap:
                    bool had = d.TryGetValue(Key, out string? previous);
                    d[Key] = Value;
                    return Found(had, previous);
                case OpKind.CompareAndSwap:
                    if (d.TryGetValue(Key, out string? current) && current == Expected)
                    {
                        d[Key] = Value;
                        return bool.TrueString;
                    }

                    return bool.FalseString;
                case OpKind.CompareAndDelete:
                    return (d.TryGetValue(Key, out string? old) && old == Expected && d.Remove(Key)).ToString();
                case OpKind.Range:
                case OpKind.Enumerate:
                    return Describe(d, d.Comparer);
                case OpKind.Count:
                    return d.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
                case OpKind.IsEmpty:
                    return (d.Count == 0).ToString();
                case OpKind.Clear:
                    d.Clear();
                    return "cleared";
                default:
                    throw new InvalidOperationException(Kind.ToString());
            }
        }
    }

    /// <summary>The update of AddOrUpdate: appends this op's value to the current one (up to a few characters), so that updates compose visibly.</summary>
    private string? Updated(string? current) => current is { Length: < 6 } ? current + (Value ?? "n") : Value;

    private static string Found(bool found, string? value) => found ? $"found {value ?? "null"}" : "absent";

    /// <summary>Entries in a canonical order; fails if a key (under the map's comparer) was visited twice.</summary>
    internal static string Describe(IEnumerable<KeyValuePair<string, string?>> entries, IEqualityComparer<string> comparer)
    {
        var seen = new HashSet<string>(comparer);
        var parts = new List<string>();
        foreach ((string key, string? value) in entries)
        {
            Assert.True(seen.Add(key), $"Key '{key}' was visited twice.");
            parts.Add($"{key.ToUpperInvariant()}={value ?? "null"}");
        }

        parts.Sort(StringComparer.Ordinal);
        return string.Join(",", parts);
    }
}

/// <summary>The sequential reference: a <see cref="Dictionary{TKey, TValue}"/> under a lock.</summary>
internal sealed class ReferenceMap(IEqualityComparer<string> comparer)
{
    internal readonly Lock Gate = new();
    internal readonly Dictionary<string, string?> Entries = new(comparer);
}
