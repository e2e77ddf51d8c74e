using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using static SyncMapRegistry.SyncMapRegistryTelemetry;

namespace SyncMapRegistry.Tests.Telemetry;

/// <summary>
/// A real OpenTelemetry SDK <see cref="MeterProvider"/> with an in-memory exporter. The meter is process-wide and
/// tests run in parallel, so every reading is narrowed to one map's <c>syncmap.name</c>.
/// </summary>
internal sealed class MetricsProbe : IDisposable
{
    private readonly List<MetricSnapshot> _exported = [];
    private readonly MeterProvider _provider;

    /// <param name="withInstrumentation"><c>false</c> builds a provider that does not call the extension.</param>
    internal MetricsProbe(bool withInstrumentation = true)
    {
        MeterProviderBuilder builder = Sdk.CreateMeterProviderBuilder();
        if (withInstrumentation)
        {
            builder.AddMeter(SyncMapRegistryTelemetry.MeterName);
        }

        _provider = builder.AddInMemoryExporter(_exported).Build();
    }

    /// <summary>Collects every instrument now (cumulative since the provider was built).</summary>
    internal MapMetrics Collect(string mapName)
    {
        _exported.Clear();
        Assert.True(_provider.ForceFlush(), "The meter provider failed to collect.");
        return new MapMetrics([.. _exported], mapName);
    }

    public void Dispose() => _provider.Dispose();
}

/// <summary>One collection, read through one map's name.</summary>
internal sealed class MapMetrics(IReadOnlyList<MetricSnapshot> exported, string mapName)
{
    internal IReadOnlyList<MetricSnapshot> All => exported;

    /// <summary>The points of an instrument that carry this map's name and every given tag.</summary>
    internal List<MetricPoint> Points(string instrument, params (string Key, string Value)[] tags)
    {
        var points = new List<MetricPoint>();
        foreach (MetricSnapshot metric in exported.Where(metric => metric.Name == instrument))
        {
            foreach (MetricPoint point in metric.MetricPoints)
            {
                Dictionary<string, object?> pointTags = TagsOf(point);
                if (Equals(pointTags.GetValueOrDefault(Tags.Name), mapName) &&
                    tags.All(tag => Equals(pointTags.GetValueOrDefault(tag.Key), tag.Value)))
                {
                    points.Add(point);
                }
            }
        }

        return points;
    }

    /// <summary>The value of the one sum point (counter, up-down counter, observable) that matches.</summary>
    internal long Sum(string instrument, params (string Key, string Value)[] tags)
    {
        MetricPoint point = Assert.Single(Points(instrument, tags));
        return point.GetSumLong();
    }

    internal bool Has(string instrument, params (string Key, string Value)[] tags) => Points(instrument, tags).Count > 0;

    internal static Dictionary<string, object?> TagsOf(MetricPoint point)
    {
        var tags = new Dictionary<string, object?>();
        foreach (KeyValuePair<string, object?> tag in point.Tags)
        {
            tags[tag.Key] = tag.Value;
        }

        return tags;
    }
}

/// <summary>
/// A real OpenTelemetry SDK <see cref="TracerProvider"/> with an in-memory exporter, plus a test activity source
/// for the enclosing span. Spans of every map in the process reach it; <see cref="SpansOf"/> narrows to one.
/// </summary>
internal sealed class SpansProbe : IDisposable
{
    internal const string TestSourceName = "SyncMapRegistry.Tests.Telemetry";

    private readonly LockedCollection<Activity> _exported = new();
    private readonly TracerProvider _provider;

    /// <param name="withInstrumentation"><c>false</c> builds a provider that listens to the test source only.</param>
    internal SpansProbe(bool withInstrumentation = true)
    {
        TracerProviderBuilder builder = Sdk.CreateTracerProviderBuilder().AddSource(TestSourceName);
        if (withInstrumentation)
        {
            builder.AddSource(SyncMapRegistryTelemetry.ActivitySourceName);
        }

        _provider = builder.AddInMemoryExporter(_exported).Build();
    }

    internal ActivitySource Source { get; } = new(TestSourceName);

    /// <summary>Exported spans of the SyncMapRegistry source that carry the map's name, in the order they ended.</summary>
    internal List<Activity> SpansOf(string mapName) =>
        [.. _exported.Snapshot().Where(span =>
            span.Source.Name == ActivitySourceName && Equals(span.GetTagItem(Tags.Name), mapName))];

    /// <summary>Every exported span, of any source.</summary>
    internal List<Activity> All() => _exported.Snapshot();

    public void Dispose()
    {
        _provider.Dispose();
        Source.Dispose();
    }

    /// <summary>
    /// The exporter adds from whatever thread ends a span, and maps of tests running in parallel end spans too,
    /// so the collection takes a lock.
    /// </summary>
    private sealed class LockedCollection<T> : ICollection<T>
    {
        private readonly Lock _lock = new();
        private readonly List<T> _items = [];

        public int Count
        {
            get
            {
                lock (_lock)
                {
                    return _items.Count;
                }
            }
        }

        public bool IsReadOnly => false;

        public List<T> Snapshot()
        {
            lock (_lock)
            {
                return [.. _items];
            }
        }

        public void Add(T item)
        {
            lock (_lock)
            {
                _items.Add(item);
            }
        }

        public void Clear()
        {
            lock (_lock)
            {
                _items.Clear();
            }
        }

        public bool Contains(T item) => Snapshot().Contains(item);

        public void CopyTo(T[] array, int arrayIndex) => Snapshot().CopyTo(array, arrayIndex);

        public bool Remove(T item)
        {
            lock (_lock)
            {
                return _items.Remove(item);
            }
        }

        public IEnumerator<T> GetEnumerator() => Snapshot().GetEnumerator();

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
