using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace SyncMapRegistry.Host.Telemetry;

/// <summary>
/// Re-publishes a process-wide meter once per silo, so that each silo's meter provider exports only its own
/// silo's series under its own resource. SyncMapRegistry's meter is process-wide (its instruments are static), and
/// every silo of this process records into the same instruments, told apart only by the <c>syncmap.name</c> tag;
/// this listener routes each measurement by that tag to the instrument of the same name, unit and description on
/// the silo's own meter (same meter name, so the instrumentation scope stays <c>SyncMapRegistry</c>).
/// </summary>
/// <remarks>
/// Counters and histograms are forwarded as they are recorded: the callback finds one tag and adds to one
/// instrument, and takes no lock. The observable instruments are read when a silo's provider collects: its mirror
/// asks the listener to observe the source instruments (under <see cref="_observing"/>, so that two silos'
/// collections do not mix) and keeps the measurements whose tag names its silo.
/// </remarks>
internal sealed class SiloMeterMirror : IDisposable
{
    private const string NameTag = SyncMapRegistryTelemetry.Tags.Name;

    private readonly string _meterName;
    private readonly Meter[] _silos;
    private readonly Func<string, int?> _siloOfMap;
    private readonly MeterListener _listener = new();

    // The mirrors of each source push instrument (counters, histograms): one record action per silo. Written when the
    // source instrument is published, before its measurements are enabled.
    private readonly ConcurrentDictionary<Instrument, Action<long, ReadOnlySpan<KeyValuePair<string, object?>>>[]> _push = new();

    // Serializes observations: RecordObservableInstruments reports every source observable to this thread's buffer.
    private readonly Lock _observing = new();

    [ThreadStatic]
    private static List<(Instrument Source, long Value, KeyValuePair<string, object?>[] Tags)>? t_observed;

    /// <param name="meterName">The process-wide meter to mirror.</param>
    /// <param name="siloScopes">Each silo's scope object: the mirror meters carry it as <see cref="Meter.Scope"/>.</param>
    /// <param name="siloOfMap">The silo index a <c>syncmap.name</c> belongs to, or <c>null</c> (the measurement is dropped).</param>
    public SiloMeterMirror(string meterName, IReadOnlyList<object> siloScopes, Func<string, int?> siloOfMap)
    {
        _meterName = meterName;
        _siloOfMap = siloOfMap;
        _silos = [.. siloScopes.Select(scope => new Meter(new MeterOptions(meterName) { Scope = scope }))];
        _listener.InstrumentPublished = OnPublished;
        _listener.SetMeasurementEventCallback<long>(OnMeasurement);
        _listener.Start();
    }

    /// <summary>Whether <paramref name="meter"/> is the process-wide meter this mirrors (its series go out per silo instead).</summary>
    public bool Mirrors(Meter meter) => meter.Scope is null && meter.Name == _meterName;

    private void OnPublished(Instrument instrument, MeterListener listener)
    {
        if (!Mirrors(instrument.Meter))
        {
            return;
        }

        switch (instrument)
        {
            case Counter<long>:
                _push[instrument] = [.. _silos.Select(m => Record(m.CreateCounter<long>(instrument.Name, instrument.Unit, instrument.Description)))];
                break;
            case Histogram<long> histogram:
                _push[instrument] = [.. _silos.Select(m => Record(m.CreateHistogram(instrument.Name, instrument.Unit, instrument.Description, tags: null, histogram.Advice)))];
                break;
            case ObservableCounter<long>:
                for (int silo = 0; silo < _silos.Length; silo++)
                {
                    int s = silo;
                    _silos[silo].CreateObservableCounter(instrument.Name, () => Observe(instrument, s), instrument.Unit, instrument.Description);
                }

                break;
            case ObservableUpDownCounter<long>:
                for (int silo = 0; silo < _silos.Length; silo++)
                {
                    int s = silo;
                    _silos[silo].CreateObservableUpDownCounter(instrument.Name, () => Observe(instrument, s), instrument.Unit, instrument.Description);
                }

                break;
            default:
                return;
        }

        listener.EnableMeasurementEvents(instrument);
    }

    private static Action<long, ReadOnlySpan<KeyValuePair<string, object?>>> Record(Counter<long> counter) => (value, tags) => counter.Add(value, tags);

    private static Action<long, ReadOnlySpan<KeyValuePair<string, object?>>> Record(Histogram<long> histogram) => (value, tags) => histogram.Record(value, tags);

    private void OnMeasurement(Instrument instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        if (instrument.IsObservable)
        {
            t_observed?.Add((instrument, value, tags.ToArray()));
        }
        else if (_push.TryGetValue(instrument, out var silos) && SiloOf(tags) is int silo)
        {
            silos[silo](value, tags);
        }
    }

    private List<Measurement<long>> Observe(Instrument source, int silo)
    {
        lock (_observing)
        {
            t_observed = [];
            try
            {
                _listener.RecordObservableInstruments();
                return [.. t_observed.Where(m => m.Source == source && SiloOf(m.Tags) == silo).Select(m => new Measurement<long>(m.Value, m.Tags))];
            }
            finally
            {
                t_observed = null;
            }
        }
    }

    private int? SiloOf(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        foreach (KeyValuePair<string, object?> tag in tags)
        {
            if (tag.Key == NameTag && tag.Value is string name)
            {
                return _siloOfMap(name) is int silo && silo < _silos.Length ? silo : null;
            }
        }

        return null;
    }

    public void Dispose()
    {
        _listener.Dispose();
        foreach (Meter meter in _silos)
        {
            meter.Dispose();
        }
    }
}
