using CsCheck;

namespace SyncMapRegistry.Tests.SyncMap;

/// <summary>
/// Go's TestMapMatchesRWMutex, carried over: random sequences of every operation give the same result, one
/// by one, on the SyncMap and on a lock+Dictionary model. CsCheck prints the seed of any failure, shrunk.
/// </summary>
public class ReferenceModelTests
{
    private const int Sequences = 1_000;

    public static TheoryData<string, string> Cases => new()
    {
        // Keys of 0-3 lowercase letters: the small alphabet makes collisions frequent, the full one grows the table.
        { "ordinal", "abc" },
        { "ordinal", "abcdefghijklmnopqrstuvwxyz" },
        // Mixed case under a case-insensitive comparer: "aB" and "Ab" are the same key.
        { "ignore-case", "abcABC" },
        // The default comparer, which users get: string keys hash non-randomized.
        { "default", "abcdefghijklmnopqrstuvwxyz" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void RandomOperationSequencesMatchALockedDictionary(string comparison, string alphabet)
    {
        IEqualityComparer<string>? comparer = comparison switch
        {
            "ordinal" => StringComparer.Ordinal,
            "ignore-case" => StringComparer.OrdinalIgnoreCase,
            _ => null,
        };
        Gen<MapOp> ops = MapOp.Generate(MapOp.Keys(alphabet), MapOp.AllKinds);
        ops.Array[0, 300].Sample(sequence => MatchesTheModel(comparer, [], sequence), iter: Sequences);
    }

    [Fact]
    public void RandomOperationSequencesMatchALockedDictionaryAcrossTheSwitchToRandomizedHashing()
    {
        // The default comparer with 65 keys of one non-randomized hash code pending, one short of the probe that
        // switches the map to randomized hashing: a sequence's first new colliding key switches it, unless a promotion
        // has emptied the dirty map before.
        string[] colliding = DesignTests.CollidingKeys(90);
        Gen<MapOp> ops = MapOp.Generate(Gen.OneOf(Gen.OneOf(colliding[60..]), MapOp.Keys("abc")), MapOp.AllKinds);
        int switched = 0;
        ops.Array[0, 300].Sample(sequence => MatchesTheModel(null, colliding[..65], sequence, () => Interlocked.Increment(ref switched)), iter: 300);
        Assert.True(switched > 0, "No sequence switched the map to randomized hashing.");
    }

    /// <summary>
    /// Applies the operations one by one to a map with <paramref name="comparer"/> (<c>null</c>: the default) and to the
    /// model, after storing <paramref name="pending"/> in both; <paramref name="onSwitched"/> runs when the map ends up
    /// hashing strings randomized.
    /// </summary>
    private static bool MatchesTheModel(IEqualityComparer<string>? comparer, string[] pending, MapOp[] sequence, Action? onSwitched = null)
    {
        var map = new SyncMap<string, string?>(comparer, null);
        var model = new ReferenceMap(comparer ?? StringComparer.Ordinal);
        foreach (string key in pending)
        {
            map.Store(key, "p");
            model.Entries[key] = "p";
        }

        foreach (MapOp op in sequence)
        {
            string expected = op.Apply(model);
            string actual = op.Apply(map);
            if (expected != actual)
            {
                return false;
            }
        }

        if (comparer is null && map.HashesStringsRandomized)
        {
            onSwitched?.Invoke();
        }

        IEqualityComparer<string> keys = comparer ?? StringComparer.Ordinal;
        return MapOp.Describe(map, keys) == MapOp.Describe(model.Entries, keys) && map.Count == model.Entries.Count;
    }

    [Fact]
    public void IntKeysWithHeavyDeletesMatchALockedDictionary()
    {
        // Many keys with many deletes: exercises table growth and backward-shift deletion in the dirty map.
        var ops = Gen.Select(Gen.Int[0, 5], Gen.Int[0, 400], Gen.Int[0, 3]);
        ops.Array[100, 2_000].Sample(sequence =>
        {
            var map = new SyncMap<int, int>();
            var model = new Dictionary<int, int>();
            foreach ((int kind, int key, int value) in sequence)
            {
                switch (kind)
                {
                    case 0 or 1:
                        map.Store(key, value);
                        model[key] = value;
                        break;
                    case 2:
                        Assert.Equal(model.Remove(key), map.Delete(key));
                        break;
                    case 3:
                        Assert.Equal(model.TryGetValue(key, out int expected), map.TryGetValue(key, out int actual));
                        Assert.Equal(expected, actual);
                        break;
                    case 4:
                        map.Range(static (_, _) => true);
                        break;
                    default:
                        Assert.Equal(model.TryGetValue(key, out int old) && old == value && model.Remove(key), map.CompareAndDelete(key, value));
                        break;
                }
            }

            Assert.Equal(model.OrderBy(p => p.Key), map.OrderBy(p => p.Key));
        }, iter: 200);
    }

    [Fact]
    public void IntKeysAcrossManyShardsMatchALockedDictionary()
    {
        // Up to 6,000 keys: shards split (at 1,024 keys) while the sequence runs, between promotions, rebuilds and deletes.
        var ops = Gen.Select(Gen.Int[0, 7], Gen.Int[0, 6_000], Gen.Int[0, 3]);
        ops.Array[4_000, 12_000].Sample(sequence =>
        {
            var map = new SyncMap<int, int>();
            var model = new Dictionary<int, int>();
            foreach ((int kind, int key, int value) in sequence)
            {
                switch (kind)
                {
                    case 0 or 1 or 2:
                        map.Store(key, value);
                        model[key] = value;
                        break;
                    case 3:
                        Assert.Equal(model.Remove(key, out int removed), map.LoadAndDelete(key, out int deleted));
                        Assert.Equal(removed, deleted);
                        break;
                    case 4:
                        Assert.Equal(model.TryGetValue(key, out int expected), map.TryGetValue(key, out int actual));
                        Assert.Equal(expected, actual);
                        break;
                    case 5:
                        Assert.Equal(model.TryAdd(key, value) ? value : model[key], map.LoadOrStore(key, value, out _));
                        break;
                    case 6:
                        bool swapped = model.TryGetValue(key, out int old) && old == value;
                        if (swapped)
                        {
                            model[key] = value + 1;
                        }

                        Assert.Equal(swapped, map.CompareAndSwap(key, value, value + 1));
                        break;
                    default:
                        if (key % 64 == 0)
                        {
                            map.Range(static (_, _) => true);
                        }

                        break;
                }
            }

            var walked = new List<KeyValuePair<int, int>>();
            map.ForEachWithoutPromoting((key, value) =>
            {
                walked.Add(new(key, value));
                return true;
            });
            Assert.Equal(model.OrderBy(p => p.Key), walked.OrderBy(p => p.Key));
            Assert.Equal(model.OrderBy(p => p.Key), map.OrderBy(p => p.Key));
            Assert.True(map.ShardCount > 1, $"{model.Count} keys stayed in one shard.");
        }, iter: 12);
    }
}
