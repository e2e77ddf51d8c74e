namespace SyncMapRegistry.OrleansTests;

/// <summary>The admission policy's count-min sketch: counts, saturation, ageing.</summary>
public sealed class FrequencySketchTests
{
    private static FrequencySketch NewSketch(int keys)
    {
        var sketch = new FrequencySketch();
        sketch.Install(new long[FrequencySketch.TableLength(keys)], keys);
        return sketch;
    }

    [Fact]
    public void AnUnsizedSketchCountsNothing()
    {
        var sketch = new FrequencySketch();
        sketch.Increment(42);
        Assert.Equal(0, sketch.Frequency(42));
        Assert.True(sketch.HalveChunk());
    }

    [Fact]
    public void FrequenciesRiseWithIncrementsAndSaturateAtFifteen()
    {
        FrequencySketch sketch = NewSketch(1_024);
        for (int i = 1; i <= 20; i++)
        {
            sketch.Increment(7);
            Assert.Equal(Math.Min(i, 15), sketch.Frequency(7));
        }

        // A count-min sketch may overestimate a key it never saw, never underestimate one it did.
        int neverSeen = Enumerable.Range(1_000, 100).Count(hash => sketch.Frequency(hash) == 0);
        Assert.True(neverSeen >= 95, $"{100 - neverSeen} of 100 unseen keys read as seen");
    }

    [Fact]
    public void AfterItsSampleSizeEveryCounterIsHalvedInChunks()
    {
        FrequencySketch sketch = NewSketch(FrequencySketch.WordsPerHalvingChunk * 2);
        for (int i = 0; i < 12; i++)
        {
            sketch.Increment(7);
        }

        // Fill the sample with other keys until a halving falls due: it only gets flagged.
        int key = 1;
        while (!sketch.ResetDue)
        {
            sketch.Increment(key++);
        }

        int before = sketch.Frequency(7);
        Assert.InRange(before, 12, 15);
        Assert.False(sketch.HalveChunk(), "A table of two chunks was halved in one call.");
        Assert.True(sketch.HalveChunk());
        Assert.InRange(sketch.Frequency(7), before / 2, (before / 2) + 1);
        Assert.False(sketch.ResetDue);
    }
}
