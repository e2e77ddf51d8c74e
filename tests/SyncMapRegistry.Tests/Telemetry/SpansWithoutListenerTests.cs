using System.Diagnostics;
using SyncMapRegistry.Telemetry;

namespace SyncMapRegistry.Tests.Telemetry;

/// <summary>
/// Tests that need no telemetry listener anywhere in the process. xunit runs a collection that disables
/// parallelization alone, after the parallel ones, when no other test's provider is alive.
/// </summary>
[CollectionDefinition(nameof(NoListenerTests), DisableParallelization = true)]
public sealed class NoListenerTests;

[Collection(nameof(NoListenerTests))]
public sealed class SpansWithoutListenerTests
{
    [Fact]
    public void SpansAreCreatedOnlyWhileSomethingListens()
    {
        var telemetry = new SyncMapTelemetry($"{nameof(SpansAreCreatedOnlyWhileSomethingListens)}-{Guid.NewGuid():N}");
        Assert.False(SyncMapInstrumentation.ActivitySource.HasListeners(), "Precondition: a listener from another test is still alive.");

        Assert.Null(telemetry.StartPromotion());
        Assert.Null(telemetry.StartRebuild());

        using (new SpansProbe())
        {
            using Activity? promotion = telemetry.StartPromotion();
            using Activity? rebuild = telemetry.StartRebuild();
            Assert.NotNull(promotion);
            Assert.NotNull(rebuild);
        }

        Assert.Null(telemetry.StartPromotion());
    }

    [Fact]
    public void AMapPromotesAndRebuildsWithoutAListenerAndLeavesTheCurrentActivityAlone()
    {
        Assert.False(SyncMapInstrumentation.ActivitySource.HasListeners(), "Precondition: a listener from another test is still alive.");
        using var call = new Activity("grain call");
        call.Start();

        SyncMap<int, string> map = ScriptedScenario.Run($"{nameof(AMapPromotesAndRebuildsWithoutAListenerAndLeavesTheCurrentActivityAlone)}-{Guid.NewGuid():N}");

        Assert.Same(call, Activity.Current);
        Assert.Equal(ScriptedScenario.Promotions, map.GetStatistics().Promotions);
    }
}
