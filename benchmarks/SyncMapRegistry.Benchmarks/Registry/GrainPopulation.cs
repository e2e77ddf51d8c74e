using System.Globalization;
using System.Net;

namespace SyncMapRegistry.Benchmarks.Registry;

/// <summary>
/// The registry workload's data, built once with Orleans' public APIs: 10,000 grains activated across 3 silos,
/// a second activation of each (on the next silo) for updates, grains not yet activated for new activations,
/// and a random lookup order.
/// </summary>
internal sealed class GrainPopulation
{
    internal const int GrainCount = 10_000;
    internal const int SiloCount = 3;

    /// <summary>Random grain indexes; workers read it from different offsets.</summary>
    internal const int LookupOrderLength = 1 << 16;

    private GrainPopulation()
    {
        Activations = Activate(0, GrainCount, 0);
        Grains = [.. Activations.Select(address => address.GrainId)];
        Reactivations = [.. Grains.Select((grain, i) => Activate(grain, i + 1))];
        NewActivations = Activate(GrainCount, GrainCount, 0);
        var random = new Random(42);
        LookupOrder = [.. Enumerable.Range(0, LookupOrderLength).Select(_ => random.Next(GrainCount))];
    }

    private static SiloAddress[] Silos { get; } =
        [.. Enumerable.Range(0, SiloCount).Select(i => SiloAddress.New(new IPEndPoint(IPAddress.Loopback, 11111 + i), 1))];

    /// <summary>
    /// Activations of the grains numbered [<paramref name="first"/>, <paramref name="first"/> + <paramref name="count"/>),
    /// grain <c>i</c> on silo <c>(i + <paramref name="siloOffset"/>) % 3</c>.
    /// </summary>
    internal static GrainAddress[] Activate(int first, int count, int siloOffset) =>
        [.. Enumerable.Range(first, count).Select(i => Activate(GrainId.Create("bench-grain", i.ToString(CultureInfo.InvariantCulture)), i + siloOffset))];

    internal static GrainPopulation Instance { get; } = new();

    internal GrainId[] Grains { get; }

    /// <summary>The address each grain is cached with at the start of a run.</summary>
    internal GrainAddress[] Activations { get; }

    /// <summary>Another activation of each grain, on the next silo: an update of a cached key.</summary>
    internal GrainAddress[] Reactivations { get; }

    /// <summary>Activations of grains not cached at the start: each adds a key.</summary>
    internal GrainAddress[] NewActivations { get; }

    internal int[] LookupOrder { get; }

    private static GrainAddress Activate(GrainId grain, int silo) => new()
    {
        GrainId = grain,
        SiloAddress = Silos[silo % SiloCount],
        ActivationId = ActivationId.NewId(),
        MembershipVersion = new MembershipVersion(1),
    };
}
