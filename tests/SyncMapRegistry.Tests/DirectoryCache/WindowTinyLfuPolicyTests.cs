using static SyncMapRegistry.OrleansTests.TestSupport;

namespace SyncMapRegistry.OrleansTests;

/// <summary>The policy's regions on their own, without a map.</summary>
public sealed class WindowTinyLfuPolicyTests
{
    [Fact]
    public void AProtectedRegionTheWindowGrewIntoDemotesItsExcessInMaintenance()
    {
        // When the tuner grows the window (a recency-heavy workload), protected must give up its room then, not a
        // couple of keys per promotion: left oversized, it keeps a shifted workload's stale keys and starves probation.
        const int cap = 100;
        var policy = new WindowTinyLfuPolicy(cap, TimeSpan.Zero, TimeProvider.System);
        PolicyNode[] nodes = [.. Enumerable.Range(0, cap).Select(i => policy.NewNode(new GrainAddress { GrainId = Grain(i) }, version: 0, SyncMapGrainDirectoryCache.NeverRead))];
        foreach (PolicyNode node in nodes)
        {
            policy.Link(node);
        }

        policy.OnSampledHits([.. nodes.Select(node => node.Sample)]);
        (int before, int maximumBefore) = policy.Protected;
        Assert.Equal(maximumBefore, before); // full: every key in main was read

        policy.ResizeForTests = cap / 2;

        // Bounded, so that a policy whose maintenance never settles fails here instead of hanging the run.
        int passes = 0;
        while (policy.Maintain() && ++passes < 1_000)
        {
        }

        Assert.True(passes < 1_000, "Maintenance never settled after the resize.");

        (int count, int maximum) = policy.Protected;
        Assert.True(maximum < before, $"The resize did not shrink protected ({maximum} of {before}).");
        Assert.InRange(count, 0, maximum);
        Assert.Equal(cap, policy.Linked);
    }
}
