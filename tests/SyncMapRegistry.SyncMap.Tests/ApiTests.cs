namespace SyncMapRegistry.Tests.SyncMap;

/// <summary>The public surface: argument checks, null values, value types and the dictionary conveniences.</summary>
public class ApiTests
{
    public static TheoryData<string> Methods => new()
    {
        "TryGetValue", "ContainsKey", "IndexerGet", "IndexerSet", "Store", "LoadOrStore", "GetOrAdd",
        "LoadAndDelete", "Delete", "Swap", "CompareAndSwap", "CompareAndDelete",
    };

    [Theory]
    [MemberData(nameof(Methods))]
    public void ANullKeyThrowsArgumentNullException(string method)
    {
        var map = new SyncMap<string, string>();
        map.Store("a", "x");
        string key = null!;
        Action call = method switch
        {
            "TryGetValue" => () => map.TryGetValue(key, out _),
            "ContainsKey" => () => map.ContainsKey(key),
            "IndexerGet" => () => _ = map[key],
            "IndexerSet" => () => map[key] = "x",
            "Store" => () => map.Store(key, "x"),
            "LoadOrStore" => () => map.LoadOrStore(key, "x", out _),
            "GetOrAdd" => () => map.GetOrAdd(key, _ => "x"),
            "LoadAndDelete" => () => map.LoadAndDelete(key, out _),
            "Delete" => () => map.Delete(key),
            "Swap" => () => map.Swap(key, "x", out _),
            "CompareAndSwap" => () => map.CompareAndSwap(key, "x", "y"),
            "CompareAndDelete" => () => map.CompareAndDelete(key, "x"),
            _ => throw new ArgumentOutOfRangeException(nameof(method)),
        };

        ArgumentNullException error = Assert.Throws<ArgumentNullException>(call);
        Assert.Equal("key", error.ParamName);
        Assert.Equal("x", map["a"]); // nothing was lost
    }

    [Fact]
    public void NullDelegatesThrowArgumentNullException()
    {
        var map = new SyncMap<string, string>();
        Assert.Throws<ArgumentNullException>(() => map.Range(null!));
        Assert.Throws<ArgumentNullException>(() => map.GetOrAdd("a", null!));
    }

    [Fact]
    public void AStoredNullIsAValueNotADeletion()
    {
        var map = new SyncMap<string, string?>();
        map.Store("a", null);
        Assert.True(map.TryGetValue("a", out string? value));
        Assert.Null(value);
        Assert.Equal(1, map.Count);
        Assert.True(map.CompareAndSwap("a", null, "x"));
        Assert.Equal("x", map["a"]);
        Assert.True(map.Swap("a", null, out string? previous));
        Assert.Equal("x", previous);
        Assert.True(map.CompareAndDelete("a", null));
        Assert.False(map.ContainsKey("a"));
    }

    [Fact]
    public void NullableValueTypesStoreNull()
    {
        var map = new SyncMap<int, int?>();
        map.Store(1, null);
        map.Store(2, 2);
        Assert.True(map.TryGetValue(1, out int? one));
        Assert.Null(one);
        Assert.Equal(2, map[2]);
        Assert.Null(map.LoadOrStore(1, 5, out bool loaded));
        Assert.True(loaded);
    }

    [Fact]
    public void TheIndexerThrowsKeyNotFoundExceptionForAnAbsentKey()
    {
        var map = new SyncMap<string, int>();
        KeyNotFoundException error = Assert.Throws<KeyNotFoundException>(() => map["missing"]);
        Assert.Contains("missing", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GetOrAddCallsTheFactoryOnlyForAnAbsentKey()
    {
        var map = new SyncMap<string, int>();
        int calls = 0;
        Assert.Equal(1, map.GetOrAdd("a", _ => ++calls));
        Assert.Equal(1, map.GetOrAdd("a", _ => ++calls));
        Assert.Equal(1, calls);
    }

    [Fact]
    public void ItIsAReadOnlyDictionary()
    {
        IReadOnlyDictionary<string, int> map = new SyncMap<string, int>(StringComparer.OrdinalIgnoreCase, null) { ["a"] = 1, ["B"] = 2 };
        Assert.Equal(2, map.Count);
        Assert.Equal(2, map["b"]);
        Assert.True(map.ContainsKey("A"));
        Assert.Equal(["B", "a"], map.Keys.Order(StringComparer.Ordinal));
        Assert.Equal([1, 2], map.Values.Order());
        Assert.Equal(2, map.Count());
    }

    [Fact]
    public void ANullArgumentMakesAMapWithoutOptionsAndWithTheDefaultComparers()
    {
        var map = new SyncMap<string, string>(null);
        var withComparers = new SyncMap<string, string>(null, null);
        map.Store("a", "b");
        withComparers.Store("a", "b");
        Assert.Null(map.Name);
        Assert.Same(EqualityComparer<string>.Default, map.KeyComparer);
        Assert.Same(EqualityComparer<string>.Default, withComparers.KeyComparer);
        Assert.Equal("b", map["a"]);
    }

    [Fact]
    public void ValueComparerDecidesCompareAndSwap()
    {
        var map = new SyncMap<int, string>(null, StringComparer.OrdinalIgnoreCase);
        map.Store(1, "Hello");
        Assert.True(map.CompareAndSwap(1, "HELLO", "world"));
        Assert.False(map.CompareAndDelete(1, "hello"));
        Assert.True(map.CompareAndDelete(1, "WORLD"));
    }

    [Fact]
    public void EnumerationPromotesPendingKeysAndSeesThem()
    {
        var map = new SyncMap<int, int>();
        map.Store(1, 1);
        map.Store(2, 2);
        var seen = new List<int>();
        foreach (KeyValuePair<int, int> pair in map)
        {
            seen.Add(pair.Key);
        }

        Assert.Equal([1, 2], seen.Order());
        Assert.Equal(1, map.GetStatistics().Promotions);
    }
}
