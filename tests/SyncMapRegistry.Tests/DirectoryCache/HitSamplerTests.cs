namespace SyncMapRegistry.OrleansTests;

/// <summary>The per-thread rings of read hits behind the directory cache's hit count and its evictor.</summary>
public sealed class HitSamplerTests
{
    [Fact]
    public void RingsOfExitedThreadsAreDroppedOnceTheirHitsAreCounted()
    {
        // A silo's thread pool starts and retires threads: the sampler must not keep a ring (2 KB) for every thread
        // it ever had, nor lose the hits those threads recorded.
        var sampler = new HitSampler();
        for (int round = 0; round < 5; round++)
        {
            var threads = Enumerable.Range(0, 20).Select(t => new Thread(() =>
            {
                for (int i = 1; i <= 10 * HitSampler.SampleEvery; i++)
                {
                    sampler.Record(i);
                }
            })).ToList();
            threads.ForEach(thread => thread.Start());
            threads.ForEach(thread => thread.Join());
        }

        Assert.Equal(100 * 10 * HitSampler.SampleEvery, sampler.Hits());
        Assert.Equal(0, sampler.RingCount);
        var recent = new List<long>();
        sampler.Drain(samples => recent.AddRange(samples.ToArray()));
        Assert.Empty(recent);

        // Of every SampleEvery hits of a thread, the last is sampled.
        for (int i = 1; i < HitSampler.SampleEvery; i++)
        {
            sampler.Record(7);
        }

        sampler.Record(42);

        sampler.Drain(samples => recent.AddRange(samples.ToArray()));
        Assert.Equal((100 * 10 * HitSampler.SampleEvery) + HitSampler.SampleEvery, sampler.Hits());
        Assert.Equal(1, sampler.RingCount);
        Assert.Equal([42], recent);
    }

    [Fact]
    public void ADrainHandsOverOnlyTheSamplesRecordedSinceTheLastAndAtMostARingsWorth()
    {
        var sampler = new HitSampler();
        var drained = new List<long>();
        void Drain() => sampler.Drain(samples => drained.AddRange(samples.ToArray()));
        for (long i = 1; i <= 10 * HitSampler.SampleEvery; i++)
        {
            sampler.Record(i);
        }

        Drain();
        Assert.Equal(Enumerable.Range(1, 10).Select(k => (long)k * HitSampler.SampleEvery), drained);
        drained.Clear();
        Drain();
        Assert.Empty(drained);

        // More hits than a ring holds: only the newest ring's worth comes out, oldest first.
        long start = (10 * HitSampler.SampleEvery) + 1;
        long end = start + (3 * HitSampler.RingSize * HitSampler.SampleEvery);
        for (long i = start; i < end; i++)
        {
            sampler.Record(i);
        }

        Drain();
        Assert.Equal(HitSampler.RingSize, drained.Count);
        Assert.Equal(drained.Order(), drained);
        Assert.Equal(end - 1, drained[^1]);
    }
}
