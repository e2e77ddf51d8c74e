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

    [Fact]
    public void ADrainBoundedToSomeRingsTakesTheThreadsInTurnAndTheOwnCollectOnlyTheCallersRing()
    {
        // The writers' bounded drains (a few rings each) must reach every thread's ring in turn, and a writer's own
        // collect only its own, with its backlog told before and after.
        var sampler = new HitSampler();
        const int readers = 5;
        using var recorded = new CountdownEvent(readers);
        using var release = new ManualResetEventSlim();
        var threads = Enumerable.Range(1, readers).Select(t => new Thread(() =>
        {
            sampler.Record(t);
            recorded.Signal();
            release.Wait(); // alive, so that its ring is kept
        })).ToList();
        threads.ForEach(thread => thread.Start());
        try
        {
            Assert.True(recorded.Wait(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken));
            Assert.Equal(0, sampler.Backlog()); // this thread has recorded nothing
            sampler.Record(100);
            sampler.Record(101);
            Assert.Equal(2, sampler.Backlog());
            Assert.Equal([100, 101], sampler.CollectOwn().ToArray());
            Assert.Equal(0, sampler.Backlog());

            var drained = new List<long>();
            for (int call = 0; call < 3; call++)
            {
                Assert.InRange(sampler.Drain(samples => drained.AddRange(samples.ToArray()), maxRings: 2), 0, 2);
            }

            // Six rings (five readers and this thread's, drained already): three calls of two take each once.
            Assert.Equal(Enumerable.Range(1, readers).Select(t => (long)t), drained.Order());
        }
        finally
        {
            release.Set();
            threads.ForEach(thread => thread.Join());
        }
    }
}
