using System.Diagnostics;
using static SyncMapRegistry.SyncMapRegistryTelemetry;

namespace SyncMapRegistry.Tests.Telemetry;

public sealed class SyncMapSpanTests
{
    private static string UniqueName(string test) => $"{test}-{Guid.NewGuid():N}";

    [Fact]
    public void EachPromotionIsOneSpanWithItsOwnTagsUnderTheEnclosingActivity()
    {
        using var probe = new SpansProbe();
        string name = UniqueName(nameof(EachPromotionIsOneSpanWithItsOwnTagsUnderTheEnclosingActivity));

        ActivityTraceId traceId;
        ActivitySpanId parentId;
        using (Activity? call = probe.Source.StartActivity("grain call"))
        {
            Assert.NotNull(call);
            (traceId, parentId) = (call.TraceId, call.SpanId);
            ScriptedScenario.Run(name);

            // Each span was raised after the map released its lock, and put the grain call back as the current activity.
            Assert.Same(call, Activity.Current);
        }

        // One span per promotion, whose copy and expunge it covers: no second span for the copy.
        List<Activity> spans = probe.SpansOf(name);
        Assert.Equal(ScriptedScenario.Promotes.Length, spans.Count);
        for (int i = 0; i < spans.Count; i++)
        {
            (int entries, int misses, int expunged) = ScriptedScenario.Promotes[i];
            Activity span = spans[i];
            Assert.Equal(Spans.Promote, span.DisplayName);
            Assert.Equal(ActivityKind.Internal, span.Kind);
            Assert.Equal(traceId, span.TraceId);
            Assert.Equal(parentId, span.ParentSpanId);
            Assert.True(span.Duration >= TimeSpan.Zero, "The span ends before it starts.");
            Assert.Equal(entries, span.GetTagItem(Tags.PromotionEntries));
            Assert.Equal(misses, span.GetTagItem(Tags.PromotionMisses));
            Assert.Equal(expunged, span.GetTagItem(Tags.PromotionExpunged));
            Assert.Equal(
                new[] { Tags.Name, Tags.PromotionEntries, Tags.PromotionMisses, Tags.PromotionExpunged }.Order(),
                span.TagObjects.Select(tag => tag.Key).Order());
        }
    }

    [Fact]
    public void ATracerProviderWithoutTheInstrumentationExportsNoMapSpans()
    {
        using var probe = new SpansProbe(withInstrumentation: false);
        string name = UniqueName(nameof(ATracerProviderWithoutTheInstrumentationExportsNoMapSpans));

        using (probe.Source.StartActivity("grain call"))
        {
            ScriptedScenario.Run(name);
        }

        Activity only = Assert.Single(probe.All(), span => span.Source.Name == SpansProbe.TestSourceName);
        Assert.Equal("grain call", only.DisplayName);
        Assert.DoesNotContain(probe.All(), span => span.Source.Name == ActivitySourceName);
    }
}
