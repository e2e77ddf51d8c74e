using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;

namespace SyncMapRegistry.Host.Reporting;

/// <summary>
/// Orleans' own directory counters of one silo (or a sum), cumulative: what the silo asked its grain directory cache,
/// and the directory lookups its misses cost. Orleans counts them the same whichever cache the silo runs.
/// </summary>
/// <param name="CacheLookups">Lookups in the directory cache (<c>orleans-directory-lookups-cache-issued</c>).</param>
/// <param name="CacheHits">Of those, the ones the cache answered (<c>orleans-directory-lookups-cache-successes</c>).</param>
/// <param name="FullLookups">
/// Directory lookups the silo issued for a grain its cache (and its own directory partition) could not place
/// (<c>orleans-directory-lookups-full-issued</c>).
/// </param>
/// <param name="RemoteLookups">Of those, the ones sent to the silo that owns the grain's directory partition (<c>orleans-directory-lookups-remote-sent</c>).</param>
public readonly record struct DirectoryLookups(long CacheLookups, long CacheHits, long FullLookups, long RemoteLookups)
{
    /// <summary>The share of cache lookups the cache answered, or <c>null</c> without a lookup.</summary>
    public double? CacheHitRatio => CacheLookups == 0 ? null : (double)CacheHits / CacheLookups;

    /// <summary>Adds two silos' counters.</summary>
    public static DirectoryLookups operator +(DirectoryLookups a, DirectoryLookups b) =>
        new(a.CacheLookups + b.CacheLookups, a.CacheHits + b.CacheHits, a.FullLookups + b.FullLookups, a.RemoteLookups + b.RemoteLookups);

    /// <summary>What was counted from <paramref name="start"/> to <paramref name="end"/>.</summary>
    public static DirectoryLookups operator -(DirectoryLookups end, DirectoryLookups start) =>
        new(end.CacheLookups - start.CacheLookups, end.CacheHits - start.CacheHits, end.FullLookups - start.FullLookups, end.RemoteLookups - start.RemoteLookups);
}

/// <summary>
/// Listens to Orleans' directory instruments (meter <c>Microsoft.Orleans</c>) and keeps their sums per silo of this
/// process. Orleans creates its meter through each silo's own <see cref="IMeterFactory"/>, so a measurement's silo
/// is known from its meter's <see cref="Meter.Scope"/>: the silo's factory.
/// </summary>
/// <remarks>
/// The cache-lookup counters are recorded on every grain call, on Orleans' message path, from every thread; the
/// callback adds to one of a few cells striped by processor (a cell is a cache line of its own), so callers on
/// different cores do not contend, and takes no lock. The counters start at zero when the listener starts: start it
/// before the silos.
/// </remarks>
internal sealed class DirectoryCounters : IDisposable
{
    /// <summary>Orleans' meter.</summary>
    public const string OrleansMeter = "Microsoft.Orleans";

    /// <summary>Orleans' instrument names (Orleans' <c>InstrumentNames</c>, internal there), in <see cref="DirectoryLookups"/>' order.</summary>
    public static IReadOnlyList<string> Instruments => s_instruments;

    private static readonly string[] s_instruments =
    [
        "orleans-directory-lookups-cache-issued",
        "orleans-directory-lookups-cache-successes",
        "orleans-directory-lookups-full-issued",
        "orleans-directory-lookups-remote-sent",
    ];

    private readonly MeterListener _listener = new();

    // One set of cells per silo, keyed by the silo's meter factory. Added when the silo's first instrument appears.
    private readonly ConcurrentDictionary<object, Cells[]> _bySilo = new();

    public DirectoryCounters()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            int index = Array.IndexOf(s_instruments, instrument.Name);
            if (index >= 0 && instrument.Meter.Name == OrleansMeter && instrument.Meter.Scope is { } silo)
            {
                listener.EnableMeasurementEvents(instrument, _bySilo.GetOrAdd(silo, static _ => [new(), new(), new(), new()])[index]);
            }
        };
        _listener.SetMeasurementEventCallback<int>(static (_, value, _, state) => ((Cells)state!).Add(value));
        _listener.Start();
    }

    /// <summary>The counters of the silo whose services are <paramref name="services"/>; zero before its first measurement.</summary>
    public DirectoryLookups Read(IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (services.GetService<IMeterFactory>() is not { } factory || !_bySilo.TryGetValue(factory, out Cells[]? cells))
        {
            return default;
        }

        return new DirectoryLookups(cells[0].Sum(), cells[1].Sum(), cells[2].Sum(), cells[3].Sum());
    }

    public void Dispose() => _listener.Dispose();

    /// <summary>One counter, striped over cells by processor; each cell written only with <see cref="Interlocked"/>.</summary>
    private sealed class Cells
    {
        // A cell every 8 longs (64 bytes): cells of different processors never share a cache line.
        private const int Stride = 8;
        private static readonly int s_mask = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Min(Environment.ProcessorCount, 64)) - 1;
        private readonly long[] _cells = new long[(s_mask + 1) * Stride];

        public void Add(int value) => Interlocked.Add(ref _cells[(Thread.GetCurrentProcessorId() & s_mask) * Stride], value);

        public long Sum()
        {
            long sum = 0;
            for (int i = 0; i < _cells.Length; i += Stride)
            {
                sum += Volatile.Read(ref _cells[i]);
            }

            return sum;
        }
    }
}
