using static SyncMapRegistry.SyncMapRegistryTelemetry;

namespace SyncMapRegistry.Tests.Telemetry;

public sealed class ReadHitAllocationTests
{
    private const int Keys = 64;
    private const int WarmUpLookups = 20_000;
    private const int MeasuredLookups = 100_000;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AReadHitAllocatesNothingWhileMetricsAndSpansAreListenedTo(bool countReadHits)
    {
        using var metrics = new MetricsProbe();
        using var spans = new SpansProbe();
        string name = $"{nameof(AReadHitAllocatesNothingWhileMetricsAndSpansAreListenedTo)}-{countReadHits}-{Guid.NewGuid():N}";
        var map = new SyncMap<int, string>(new SyncMapOptions { Name = name, CountReadHits = countReadHits });
        for (int key = 0; key < Keys; key++)
        {
            map.Store(key, $"v{key}");
        }

        // Range promotes dirty, so every key below is a read hit. The spans prove the listeners are live.
        map.Range(static (_, _) => true);
        Assert.Contains(spans.SpansOf(name), span => span.DisplayName == Spans.Promote);
        Assert.True(ReadHits(map, WarmUpLookups), "Warm-up lookups must all hit.");

        // Up to three measured runs, until one allocates nothing. The runtime itself may allocate a few hundred bytes
        // on this thread once, while it moves the loop to optimized code (tiering, on-stack replacement), and a busy
        // machine (other tests run in parallel) can delay that into a measured run. A read path that allocated on its
        // hits would allocate in every run: 100,000 hits of at least 24 bytes each.
        var allocatedByRun = new List<long>();
        while (allocatedByRun.Count < 3 && (allocatedByRun.Count == 0 || allocatedByRun[^1] != 0))
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            bool allHit = ReadHits(map, MeasuredLookups);
            allocatedByRun.Add(GC.GetAllocatedBytesForCurrentThread() - before);
            Assert.True(allHit);
        }

        Assert.True(allocatedByRun[^1] == 0, $"Bytes allocated by each run of {MeasuredLookups:N0} read hits: {string.Join(", ", allocatedByRun)}.");
        MapMetrics collected = metrics.Collect(name);
        if (countReadHits)
        {
            Assert.Equal(WarmUpLookups + (allocatedByRun.Count * MeasuredLookups), collected.Sum(Instruments.Lookups, (Tags.LookupResult, Tags.ReadHit)));
        }
        else
        {
            Assert.False(collected.Has(Instruments.Lookups, (Tags.LookupResult, Tags.ReadHit)));
        }
    }

    private static bool ReadHits(SyncMap<int, string> map, int lookups)
    {
        bool allHit = true;
        for (int i = 0; i < lookups; i++)
        {
            allHit &= map.TryGetValue(i & (Keys - 1), out _);
        }

        return allHit;
    }
}
