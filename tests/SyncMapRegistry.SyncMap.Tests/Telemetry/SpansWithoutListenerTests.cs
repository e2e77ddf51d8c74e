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
    public void SpanTimesAreTakenOnlyWhileSomethingListens()
    {
        Assert.False(SyncMapInstrumentation.ActivitySource.HasListeners(), "Precondition: a listener from another test is still alive.");
        Assert.False(SyncMapTelemetry.TracesSpans);

        using (new SpansProbe())
        {
            Assert.True(SyncMapTelemetry.TracesSpans);
        }

        Assert.False(SyncMapTelemetry.TracesSpans);
    }

    [Fact]
    public void AMapPromotesWithoutAListenerAndLeavesTheCurrentActivityAlone()
    {
        Assert.False(SyncMapInstrumentation.ActivitySource.HasListeners(), "Precondition: a listener from another test is still alive.");
        using var call = new Activity("grain call");
        call.Start();

        SyncMap<int, string> map = ScriptedScenario.Run($"{nameof(AMapPromotesWithoutAListenerAndLeavesTheCurrentActivityAlone)}-{Guid.NewGuid():N}");

        Assert.Same(call, Activity.Current);
        Assert.Equal(ScriptedScenario.Promotions, map.GetStatistics().Promotions);
    }
}
