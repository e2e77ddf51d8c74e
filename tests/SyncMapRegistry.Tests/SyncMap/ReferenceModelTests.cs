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
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Random_operation_sequences_match_a_locked_dictionary(string comparison, string alphabet)
    {
        IEqualityComparer<string> comparer = comparison == "ordinal" ? StringComparer.Ordinal : StringComparer.OrdinalIgnoreCase;
        Gen<MapOp> ops = MapOp.Generate(MapOp.Keys(alphabet), MapOp.AllKinds);

        ops.Array[0, 300].Sample(sequence =>
        {
            var map = new SyncMap<string, string?>(comparer, null);
            var model = new ReferenceMap(comparer);
            foreach (MapOp op in sequence)
            {
                string expected = op.Apply(model);
                string actual = op.Apply(map);
                if (expected != actual)
                {
                    return false;
                }
            }

            return MapOp.Describe(map, comparer) == MapOp.Describe(model.Entries, comparer) && map.Count == model.Entries.Count;
        }, iter: Sequences);
    }

    [Fact]
    public void Int_keys_with_heavy_deletes_match_a_locked_dictionary()
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
}
