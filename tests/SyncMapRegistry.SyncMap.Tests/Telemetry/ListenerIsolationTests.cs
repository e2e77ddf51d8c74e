using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Reflection;
using static SyncMapRegistry.SyncMapRegistryTelemetry;

namespace SyncMapRegistry.Tests.Telemetry;

/// <summary>
/// No listener callback runs while the map holds its lock, and a listener that throws fails nothing. Each
/// listener acts only on its own map's measurements and spans (by the unique name tag), so tests running in
/// parallel keep theirs.
/// </summary>
public sealed class ListenerIsolationTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private static string UniqueName(string test) => $"{test}-{Guid.NewGuid():N}";

    private static bool IsFor(ReadOnlySpan<KeyValuePair<string, object?>> tags, string name)
    {
        foreach (KeyValuePair<string, object?> tag in tags)
        {
            if (tag.Key == Tags.Name && Equals(tag.Value, name))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsFor(Activity span, string name) => Equals(span.GetTagItem(Tags.Name), name);

    /// <summary>
    /// From a listener callback, asks another thread to store a new key into the same map and waits for it.
    /// Under the map's lock that store would block until the callback returned: a deadlock, cut short here by a timeout.
    /// </summary>
    private sealed class StoreFromAnotherThread(SyncMap<int, string> map, int callingThread)
    {
        private int _nextKey = 1_000_000;

        internal int Completed;
        internal int TimedOut;

        internal void Run()
        {
            if (Environment.CurrentManagedThreadId != callingThread)
            {
                return;
            }

            int key = Interlocked.Increment(ref _nextKey);
            Task store = Task.Factory.StartNew(() => map.Store(key, "from a listener"), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            if (store.Wait(Patience))
            {
                Completed++;
            }
            else
            {
                TimedOut++;
            }
        }
    }

    [Fact]
    public void AMeterListenerThatNeedsTheMapFromAnotherThreadIsNeverBlockedByTheMap()
    {
        string name = UniqueName(nameof(AMeterListenerThatNeedsTheMapFromAnotherThreadIsNeverBlockedByTheMap));
        var map = new SyncMap<int, string>(new SyncMapOptions { Name = name });
        var probe = new StoreFromAnotherThread(map, Environment.CurrentManagedThreadId);
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            if (IsFor(tags, name))
            {
                probe.Run();
            }
        });
        listener.Start();

        Churn(map);

        Assert.Equal(0, probe.TimedOut);
        Assert.True(probe.Completed >= 2, $"Only {probe.Completed} callbacks ran.");
        Assert.Equal(20 - 1 + 3 + probe.Completed, map.Count);
    }

    [Fact]
    public void ASpanListenerThatNeedsTheMapFromAnotherThreadIsNeverBlockedByTheMap()
    {
        string name = UniqueName(nameof(ASpanListenerThatNeedsTheMapFromAnotherThreadIsNeverBlockedByTheMap));
        var map = new SyncMap<int, string>(new SyncMapOptions { Name = name });
        var probe = new StoreFromAnotherThread(map, Environment.CurrentManagedThreadId);
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStarted = span =>
            {
                if (IsFor(span, name))
                {
                    probe.Run();
                }
            },
        };
        ActivitySource.AddActivityListener(listener);

        Churn(map);

        Assert.Equal(0, probe.TimedOut);
        Assert.True(probe.Completed >= 2, $"Only {probe.Completed} spans started.");
        Assert.Equal(20 - 1 + 3 + probe.Completed, map.Count);
    }

    [Fact]
    public void ListenersThatThrowFailNoMapOperationAndLeaveTheCurrentActivityAsItWas()
    {
        string name = UniqueName(nameof(ListenersThatThrowFailNoMapOperationAndLeaveTheCurrentActivityAsItWas));
        int thrown = 0;
        using var meterListener = new MeterListener();
        meterListener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        meterListener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            if (IsFor(tags, name))
            {
                Interlocked.Increment(ref thrown);
                throw new InvalidOperationException("A failing metrics listener.");
            }
        });
        meterListener.Start();
        using var spanListener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStarted = span =>
            {
                if (IsFor(span, name))
                {
                    Interlocked.Increment(ref thrown);
                    throw new InvalidOperationException("A failing span listener.");
                }
            },
        };
        ActivitySource.AddActivityListener(spanListener);
        using var call = new Activity("grain call");
        call.Start();

        // The script asserts every operation's result as it goes.
        SyncMap<int, string> map = ScriptedScenario.Run(name);

        Assert.Same(call, Activity.Current);
        Assert.True(thrown >= ScriptedScenario.Promotes.Length, $"The listeners threw only {thrown} times.");
        Assert.Equal(ScriptedScenario.Promotions, map.GetStatistics().Promotions);
        Assert.Equal(ScriptedScenario.LiveKeys, map.Count);
    }

    [Fact]
    public void StatisticsAndObservableInstrumentsAreReadWhileTheMapLocksAreHeldElsewhere()
    {
        string name = UniqueName(nameof(StatisticsAndObservableInstrumentsAreReadWhileTheMapLocksAreHeldElsewhere));
        var map = new SyncMap<int, string>(new SyncMapOptions { Name = name });
        map.Store(1, "one");
        long observedDirty = -1;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == MeterName && instrument.Name == Instruments.EntryCount)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            if (IsFor(tags, name) && tags.ToArray().Contains(new(Tags.Tier, Tags.TierDirty)))
            {
                Interlocked.Exchange(ref observedDirty, value);
            }
        });
        listener.Start();

        // Hold every lock the map has (its directory lock and its one shard's lock), as a slow path would, while
        // another thread collects.
        var directoryLock = (Lock)typeof(SyncMap<int, string>).GetField("_directoryLock", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(map)!;
        var shards = (Shard<int>[])typeof(SyncMap<int, string>).GetField("_shards", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(map)!;
        SyncMapStatistics statistics = default;
        var reader = new Thread(() =>
        {
            listener.RecordObservableInstruments();
            statistics = map.GetStatistics();
        });
        using (Assert.Single(shards).Lock.EnterScope())
        using (directoryLock.EnterScope())
        {
            reader.Start();
            Assert.True(reader.Join(Patience), "Reading the statistics waited for a lock of the map.");
        }

        Assert.Equal(1, statistics.DirtyCount);
        Assert.Equal(1, Interlocked.Read(ref observedDirty));
    }

    /// <summary>Promotes and misses on a fresh map: each step raises counters or spans.</summary>
    private static void Churn(SyncMap<int, string> map)
    {
        for (int key = 0; key < 20; key++)
        {
            map.Store(key, "v");
        }

        for (int key = 0; key < 20; key++)
        {
            Assert.True(map.TryGetValue(key, out _));
        }

        Assert.True(map.Delete(3));
        for (int key = 100; key < 103; key++)
        {
            map.Store(key, "v");
        }

        map.Range((_, _) => true);
    }
}
