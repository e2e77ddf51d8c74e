using System.Collections.Concurrent;
using CsCheck;

namespace SyncMapRegistry.Tests.SyncMap;

/// <summary>
/// Linearizability: CsCheck runs a random prefix sequentially, then several operations in parallel, and
/// requires that some sequential order of those operations on the model gives the same final map and the
/// same result for every operation. Each operation records "operation = result", and the records are
/// compared as multisets (operations with the same arguments are interchangeable), so return values are
/// checked as well as the final state.
/// </summary>
public class LinearizabilityTests
{
    private sealed class Actual(SyncMap<string, string?> map)
    {
        internal readonly SyncMap<string, string?> Map = map;
        internal readonly ConcurrentQueue<string> Results = new();

        public override string ToString() => $"{MapOp.Describe(Map, StringComparer.Ordinal)} {Canonical(Results)}";
    }

    private sealed class Model(ReferenceMap map)
    {
        internal readonly ReferenceMap Map = map;
        internal readonly List<string> Results = [];

        public override string ToString() => $"{MapOp.Describe(Map.Entries, StringComparer.Ordinal)} {Canonical(Results)}";
    }

    /// <summary>The records in a canonical order, so that two multisets compare as strings.</summary>
    private static string Canonical(IEnumerable<string> results) => string.Join("; ", results.Order(StringComparer.Ordinal));

    // Range, enumeration and Count are not snapshots, so their results are not linearizable by design;
    // they run here for their side effect (Range and enumeration promote dirty) and record nothing.
    private static readonly OpKind[] Linearizable =
    [
        OpKind.TryGetValue, OpKind.Store, OpKind.LoadOrStore, OpKind.GetOrAdd, OpKind.LoadAndDelete, OpKind.Delete,
        OpKind.Swap, OpKind.CompareAndSwap, OpKind.CompareAndDelete, OpKind.Clear, OpKind.GetOrAddWithArgument,
        OpKind.AddOrUpdate, OpKind.AddOrUpdateWithFactory,
    ];

    [Fact]
    public void EveryOperationIsLinearizableAgainstTheSequentialModel() =>
        CheckLinearizable(Gen.OneOf("a", "b", "c"), StringComparer.Ordinal, prefilled: 0, pending: [], iterations: 2_000);

    [Fact]
    public void EveryOperationIsLinearizableWhileNewKeysSplitAFullShard()
    {
        // 1,020 keys fill the one shard almost to its bound: the operations' new keys split it while they run.
        string[] keys = ["a", "b", "c", .. Enumerable.Range(0, 8).Select(i => $"f{i}")];
        CheckLinearizable(Gen.OneOf(keys), StringComparer.Ordinal, prefilled: SyncTable<string>.MaximumShardEntries - 4, pending: [], iterations: 300);
    }

    [Fact]
    public void EveryOperationIsLinearizableWhileACollidingKeySwitchesTheMapToRandomizedHashing()
    {
        // The default comparer, so string keys hash non-randomized. 65 keys of one hash code wait in the dirty map,
        // one short of the probe that switches the map to randomized hashing: the operations' first new colliding key
        // switches it (rehashing every entry, the snapshot's too) while the other operations run.
        string[] colliding = DesignTests.CollidingKeys(70);
        string[] keys = ["a", "b", "c", colliding[0], .. colliding[65..]];
        int switched = CheckLinearizable(Gen.OneOf(keys), comparer: null, prefilled: 0, pending: colliding[..65], iterations: 300);
        Assert.True(switched > 0, "No run switched the map to randomized hashing.");
    }

    /// <returns>How many of the final maps compared with the model hashed strings randomized.</returns>
    private static int CheckLinearizable(Gen<string> keys, IEqualityComparer<string>? comparer, int prefilled, string[] pending, int iterations)
    {
        int switched = 0;
        Gen<MapOp> keyed = MapOp.Generate(keys, Linearizable);
        GenOperation<Actual, Model> recorded = keyed.Operation<Actual, Model>(
            op => op.ToString(),
            (actual, op) => actual.Results.Enqueue($"{op} = {op.Apply(actual.Map)}"),
            (model, op) => model.Results.Add($"{op} = {op.Apply(model.Map)}"));
        GenOperation<Actual, Model> promote = Gen.Const(0).Operation<Actual, Model>(
            _ => "Range",
            (actual, _) => actual.Map.Range(static (_, _) => true),
            (_, _) => { });

        // Initial states: a few entries stored, then optionally promoted, so operations start from
        // read-only, dirty and mixed states; then the pending keys, which stay in the dirty map.
        Gen<(Actual, Model)> initial = Gen.Select(
            Gen.Select(Gen.OneOf("a", "b", "c"), MapOp.Values).Array[0, 3], Gen.Bool,
            (entries, promoted) =>
            {
                var map = new SyncMap<string, string?>(comparer, null);
                var model = new ReferenceMap(StringComparer.Ordinal);
                for (int i = 0; i < prefilled; i++)
                {
                    map.Store($"p{i}", "p");
                    model.Entries[$"p{i}"] = "p";
                }

                foreach ((string key, string? value) in entries)
                {
                    map.Store(key, value);
                    model.Entries[key] = value;
                }

                if (promoted)
                {
                    map.Range(static (_, _) => true);
                }

                foreach (string key in pending)
                {
                    map.Store(key, "p");
                    model.Entries[key] = "p";
                }

                return (new Actual(map), new Model(model));
            });

        Check.SampleParallel(
            initial,
            recorded,
            promote,
            equal: (actual, model) =>
            {
                if (actual.Map.HashesStringsRandomized)
                {
                    Interlocked.Increment(ref switched);
                }

                return MapOp.Describe(actual.Map, StringComparer.Ordinal) == MapOp.Describe(model.Map.Entries, StringComparer.Ordinal)
                    && Canonical(actual.Results) == Canonical(model.Results);
            },
            iter: iterations,
            threads: Math.Max(2, Environment.ProcessorCount));
        return switched;
    }
}
