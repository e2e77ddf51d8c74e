using System.Collections.Concurrent;
using CsCheck;

namespace SyncMapRegistry.Tests.SyncMap;

/// <summary>
/// Linearizability: CsCheck runs a random prefix sequentially, then several operations in parallel, and
/// requires that some sequential order of those operations on the model gives the same final map and the
/// same result for every operation. Each operation records its result under its own id, so return values
/// are checked as well as the final state.
/// </summary>
public class LinearizabilityTests
{
    private sealed class Actual(SyncMap<string, string?> map)
    {
        internal readonly SyncMap<string, string?> Map = map;
        internal readonly ConcurrentDictionary<long, string> Results = new();

        public override string ToString() => $"{MapOp.Describe(Map, StringComparer.Ordinal)} {string.Join(";", Results.OrderBy(r => r.Key))}";
    }

    private sealed class Model(ReferenceMap map)
    {
        internal readonly ReferenceMap Map = map;
        internal readonly Dictionary<long, string> Results = [];

        public override string ToString() => $"{MapOp.Describe(Map.Entries, StringComparer.Ordinal)} {string.Join(";", Results.OrderBy(r => r.Key))}";
    }

    // Range, enumeration and Count are not snapshots, so their results are not linearizable by design;
    // they run here for their side effect (Range and enumeration promote dirty) and record nothing.
    private static readonly OpKind[] Linearizable =
    [
        OpKind.TryGetValue, OpKind.Store, OpKind.LoadOrStore, OpKind.GetOrAdd, OpKind.LoadAndDelete, OpKind.Delete,
        OpKind.Swap, OpKind.CompareAndSwap, OpKind.CompareAndDelete, OpKind.Clear,
    ];

    [Fact]
    public void Every_operation_is_linearizable_against_the_sequential_model()
    {
        Gen<MapOp> keyed = MapOp.Generate(Gen.OneOf("a", "b", "c"), Linearizable);
        GenOperation<Actual, Model> recorded = Gen.Select(keyed, Gen.Long).Operation<Actual, Model>(
            t => t.Item1.ToString(),
            (actual, t) => actual.Results[t.Item2] = t.Item1.Apply(actual.Map),
            (model, t) => model.Results[t.Item2] = t.Item1.Apply(model.Map));
        GenOperation<Actual, Model> promote = Gen.Const(0).Operation<Actual, Model>(
            _ => "Range",
            (actual, _) => actual.Map.Range(static (_, _) => true),
            (_, _) => { });

        // Initial states: a few entries stored, then optionally promoted, so operations start from
        // read-only, dirty and mixed states.
        Gen<(Actual, Model)> initial = Gen.Select(
            Gen.Select(Gen.OneOf("a", "b", "c"), MapOp.Values).Array[0, 3], Gen.Bool,
            (entries, promoted) =>
            {
                var map = new SyncMap<string, string?>(StringComparer.Ordinal);
                var model = new ReferenceMap(StringComparer.Ordinal);
                foreach ((string key, string? value) in entries)
                {
                    map.Store(key, value);
                    model.Entries[key] = value;
                }

                if (promoted)
                {
                    map.Range(static (_, _) => true);
                }

                return (new Actual(map), new Model(model));
            });

        Check.SampleParallel(
            initial,
            recorded,
            promote,
            equal: (actual, model) =>
                MapOp.Describe(actual.Map, StringComparer.Ordinal) == MapOp.Describe(model.Map.Entries, StringComparer.Ordinal)
                && actual.Results.Count == model.Results.Count
                && actual.Results.All(r => model.Results.TryGetValue(r.Key, out string? expected) && expected == r.Value),
            iter: 2_000,
            threads: Math.Max(2, Environment.ProcessorCount));
    }
}
