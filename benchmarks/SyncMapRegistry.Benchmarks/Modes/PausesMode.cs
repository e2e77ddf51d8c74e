using System.Diagnostics;
using HdrHistogram;
using SyncMapRegistry.Benchmarks.Registry;

namespace SyncMapRegistry.Benchmarks.Modes;

/// <summary>
/// <c>pauses [--sizes 10000,100000,1000000] [--rounds 5] [--stores 1000] [--quick]</c>: the worst single operation
/// of each grain directory cache (see <see cref="CachePeer.All"/>) holding 10k, 100k and 1M grains. Each round
/// promotes the map (lookups of the keys stored since the last promotion, until the map reports a promotion; a
/// no-op for caches that do not promote), then times each of <c>--stores</c> new-key stores one by one
/// (<c>AddOrUpdate</c> of a grain not cached), deleting an old grain between two stores. The same loop then runs
/// again, on a new cache filled the same way, while a second thread times each of its lookups, alternately of a settled grain (cached before the rounds)
/// and of a grain stored in this loop (which a read/dirty map finds only in its dirty table). Latencies from
/// <see cref="Stopwatch.GetTimestamp"/> pairs, into HdrHistogram; the table gives p50, p99, p99.9 and max over all
/// rounds, and the median over rounds of each round's max. An operation during which a garbage collection ran
/// (<see cref="GC.CollectionCount"/> of generation 0, which every collection raises, moved) is counted, and the last
/// column gives the median of the rounds' max over the other operations: what the cache's own work costs at worst,
/// apart from the collections that its allocations bring on. For a cache that promotes, the lookups of each round's
/// promoting passes are timed too (without the reader): the misses that pay for the promotions, and the promotions
/// themselves (a read/dirty map copies a shard's snapshot when it promotes it). Every store and lookup must succeed,
/// or the run fails.
/// </summary>
internal static class PausesMode
{
    internal static int Run(ModeArguments arguments)
    {
        int[] sizes = arguments.Ints("sizes", [10_000, 100_000, 1_000_000], [2_000]);
        int rounds = arguments.Int("rounds", 5, 1);
        int stores = arguments.Int("stores", 1000, 50);
        ModeReport.PrintEnvironment("pauses");
        ModeReport.Line($"# per size and cache: {rounds} rounds of (promote; {stores} new-key stores, each timed, an old grain deleted between two); then the same rounds again while another thread times lookups");
        ModeReport.Line($"# capacity of the capped caches: twice the size (nothing is evicted); latencies in microseconds");
        ModeReport.Line($"");
        ModeReport.Line($"| Entries | Operation | Cache | p50 | p99 | p99.9 | max | median of the rounds' max | operations with a GC inside | median of the rounds' max, operations with no GC inside |");
        ModeReport.Line($"|---:|---|---|---:|---:|---:|---:|---:|---:|---:|");
        GrainAddress[] newGrains = GrainPopulation.Activate(sizes.Max(), rounds * stores, 0);
        List<string> notes = [];
        foreach (int size in sizes)
        {
            if (2 * rounds * stores > size)
            {
                throw new ArgumentException($"--rounds x --stores ({rounds * stores}) deletes more than half of {size} grains.", nameof(arguments));
            }

            GrainAddress[] oldGrains = GrainPopulation.Activate(0, size, 0);
            foreach (Func<CachePeer> create in CachePeer.All(2 * size))
            {
                var storesTimed = new Latencies();
                var promotingLookups = new Latencies();
                var loop = new StoreLoop(Filled(create(), oldGrains), oldGrains, newGrains, stores);
                for (int round = 0; round < rounds; round++)
                {
                    loop.Round(storesTimed, promotingLookups);
                }

                int dirtyLeft = loop.MaxDirtyLeft;
                Latencies settledReads = new(), newReads = new();
                loop = new StoreLoop(Filled(create(), oldGrains), oldGrains, newGrains, stores);
                using (var reader = new Reader(loop, settledReads, newReads))
                {
                    for (int round = 0; round < rounds; round++)
                    {
                        reader.StartRound();
                        loop.Round(new Latencies(), promoting: null);
                    }
                }

                if (loop.Peer.Promotes)
                {
                    notes.Add($"# {size:N0}, {loop.Peer.Name}: at most {Math.Max(dirtyLeft, loop.MaxDirtyLeft):N0} dirty entries left after a round's promoting lookups");
                }

                storesTimed.Print(size, "new-key store after a promotion", loop.Peer.Name);
                if (loop.Peer.Promotes)
                {
                    promotingLookups.Print(size, "lookup of the last round's grains until they are promoted", loop.Peer.Name);
                }

                settledReads.Print(size, "lookup of a settled grain, during the stores", loop.Peer.Name);
                newReads.Print(size, "lookup of a newly stored grain, during the stores", loop.Peer.Name);
            }
        }

        ModeReport.Line($"");
        notes.ForEach(note => ModeReport.Line($"{note}"));
        return 0;
    }

    private static CachePeer Filled(CachePeer peer, GrainAddress[] grains)
    {
        foreach (GrainAddress address in grains)
        {
            peer.Cache.AddOrUpdate(address, 1);
        }

        return peer;
    }

    /// <summary>
    /// The writer's loop over one cache: <see cref="Round"/> promotes, then stores new grains one by one, timing
    /// each, and deletes the next old grain after each store.
    /// </summary>
    private sealed class StoreLoop(CachePeer peer, GrainAddress[] oldGrains, GrainAddress[] newGrains, int stores)
    {
        private int _stored;
        private int _deleted;

        internal CachePeer Peer => peer;

        /// <summary>Grains stored so far; the reader looks up the latest ones.</summary>
        internal int Stored => Volatile.Read(ref _stored);

        internal GrainAddress[] OldGrains => oldGrains;

        internal GrainAddress[] NewGrains => newGrains;

        /// <summary>The most dirty entries that a round's promoting lookups left (see <see cref="Round"/>).</summary>
        internal int MaxDirtyLeft { get; private set; }

        /// <summary>Set while the stores of a round are being timed; the reader records only then.</summary>
        internal volatile bool Timing;

        /// <summary>Set while a reader runs: a round then starts its stores only once the reader has timed a lookup.</summary>
        internal volatile bool ReaderAttached;

        /// <summary>Set by the reader when it has timed a lookup in the current round.</summary>
        internal volatile bool ReaderTimed;

        /// <summary>One round; with <paramref name="promoting"/>, the lookups that promote the map are timed into it.</summary>
        internal void Round(Latencies latencies, Latencies? promoting)
        {
            ReadOnlySpan<GrainAddress> recent = _stored == 0 ? oldGrains : newGrains.AsSpan(_stored - stores, stores);
            // A shard (at most 1,024 entries) may hold a single recent key; it promotes after as many misses as its
            // dirty map has entries, so the lookups may take 1,024 passes over the recent keys, and more than one
            // pass over all the grains. A shard that split while it had a dirty map leaves a dirty map in each half;
            // a half that received none of the recent keys never misses, so lookups cannot promote it: such dirty
            // entries are counted (and printed under the table), not treated as a failure to promote.
            int dirtyBefore = peer.Statistics?.DirtyCount ?? 0;
            promoting?.StartRound();
            peer.Promote(recent, Math.Max(4L * (oldGrains.Length + newGrains.Length), 2_048L * recent.Length), promoting is null ? null : promoting.Record);
            int dirtyLeft = peer.Statistics?.DirtyCount ?? 0;
            if (dirtyLeft != 0 && dirtyLeft >= dirtyBefore)
            {
                throw new InvalidOperationException($"{peer.Name} did not promote: {dirtyLeft} dirty entries before and after the lookups.");
            }

            MaxDirtyLeft = Math.Max(MaxDirtyLeft, dirtyLeft);

            GC.Collect();
            ReaderTimed = false;
            Timing = true;
            var spin = default(SpinWait);
            while (ReaderAttached && !ReaderTimed)
            {
                spin.SpinOnce();
            }

            latencies.StartRound();
            for (int n = 0; n < stores; n++)
            {
                GrainAddress address = newGrains[_stored];
                int collections = GC.CollectionCount(0);
                long start = Stopwatch.GetTimestamp();
                peer.Cache.AddOrUpdate(address, 1);
                latencies.Record(Stopwatch.GetTimestamp() - start, GC.CollectionCount(0) != collections);
                Volatile.Write(ref _stored, _stored + 1);
                if (!peer.Cache.Remove(oldGrains[_deleted].GrainId))
                {
                    throw new InvalidOperationException($"{peer.Name} lost grain {_deleted}.");
                }

                _deleted++;
            }

            Timing = false;
        }
    }

    /// <summary>
    /// A thread that looks grains up for as long as it lives, alternately a settled one (from the half of the old
    /// grains that the writer never deletes) and one of the 64 latest stored, and times each lookup made while the writer is timing its stores.
    /// </summary>
    private sealed class Reader : IDisposable
    {
        private readonly StoreLoop _loop;
        private readonly Latencies _settled;
        private readonly Latencies _new;
        private readonly Thread _thread;
        private volatile bool _stopping;
        private Exception? _failure;

        internal Reader(StoreLoop loop, Latencies settled, Latencies fresh)
        {
            _loop = loop;
            _settled = settled;
            _new = fresh;
            _loop.ReaderAttached = true;
            _thread = new Thread(Run) { IsBackground = true, Name = "pauses-reader" };
            _thread.Start();
        }

        /// <summary>Starts a round of the histograms' per-round max; call while the writer is not timing.</summary>
        internal void StartRound()
        {
            _settled.StartRound();
            _new.StartRound();
        }

        public void Dispose()
        {
            _stopping = true;
            _thread.Join();
            _loop.ReaderAttached = false;
            if (_failure is not null)
            {
                throw new InvalidOperationException("The reader failed.", _failure);
            }
        }

        private void Run()
        {
            try
            {
                var random = new Random(5);
                GrainAddress[] oldGrains = _loop.OldGrains;
                GrainAddress[] newGrains = _loop.NewGrains;
                for (long n = 0; !_stopping; n++)
                {
                    bool settled = (n & 1) == 0;
                    int stored = _loop.Stored;
                    if (!settled && stored == 0)
                    {
                        continue;
                    }

                    GrainId grain = settled
                        ? oldGrains[(oldGrains.Length / 2) + random.Next(oldGrains.Length / 2)].GrainId
                        : newGrains[stored - 1 - random.Next(Math.Min(stored, 64))].GrainId;
                    bool timing = _loop.Timing;
                    int collections = GC.CollectionCount(0);
                    long start = Stopwatch.GetTimestamp();
                    bool found = _loop.Peer.Cache.LookUp(grain, out _, out _);
                    long elapsed = Stopwatch.GetTimestamp() - start;
                    bool collected = GC.CollectionCount(0) != collections;
                    if (!found)
                    {
                        throw new InvalidOperationException($"{_loop.Peer.Name}: a lookup of a cached grain missed.");
                    }

                    if (timing)
                    {
                        (settled ? _settled : _new).Record(elapsed, collected);
                        _loop.ReaderTimed = true;
                    }
                }
            }
            catch (InvalidOperationException exception)
            {
                _failure = exception;
                _loop.ReaderAttached = false;
            }
        }
    }

    /// <summary>A histogram of one operation's latencies (Stopwatch ticks) and each round's max.</summary>
    private sealed class Latencies
    {
        private readonly LongHistogram _histogram = new(Stopwatch.Frequency * 60, 3);
        private readonly List<long> _roundMax = [];
        private readonly List<long> _roundMaxWithoutGc = [];
        private long _withGc;

        internal void StartRound()
        {
            _roundMax.Add(0);
            _roundMaxWithoutGc.Add(0);
        }

        /// <summary>Records one operation; <paramref name="collected"/> when a garbage collection ran during it.</summary>
        internal void Record(long ticks, bool collected)
        {
            _histogram.RecordValue(ticks);
            _roundMax[^1] = Math.Max(_roundMax[^1], ticks);
            if (collected)
            {
                _withGc++;
            }
            else
            {
                _roundMaxWithoutGc[^1] = Math.Max(_roundMaxWithoutGc[^1], ticks);
            }
        }

        internal void Print(int size, string operation, string cache)
        {
            double Micros(long ticks) => ticks * 1e6 / Stopwatch.Frequency;
            if (_histogram.TotalCount == 0)
            {
                ModeReport.Line($"| {size:N0} | {operation} | {cache} | (no sample) | | | | | | |");
                return;
            }

            ModeReport.Line($"| {size:N0} | {operation} | {cache} | {Micros(_histogram.GetValueAtPercentile(50)):F2} | {Micros(_histogram.GetValueAtPercentile(99)):F2} | {Micros(_histogram.GetValueAtPercentile(99.9)):F2} | {Micros(_histogram.GetMaxValue()):F0} | {ModeReport.Median(_roundMax.Where(max => max > 0).Select(max => Micros(max))):F0} | {_withGc:N0} | {ModeReport.Median(_roundMaxWithoutGc.Where(max => max > 0).Select(max => Micros(max))):F0} |");
        }
    }
}
