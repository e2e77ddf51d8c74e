using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using SyncMapRegistry.Host.Cluster;
using SyncMapRegistry.Host.Reporting;
using SyncMapRegistry.Host.Workload;

namespace SyncMapRegistry.Host.Harness;

/// <summary>
/// Writes <c>STATUS {json}</c> lines for tests and scripts, and keeps the times they need: when this process
/// first saw each silo declared dead (it follows the membership updates itself), and when its registries then
/// no longer held an entry pointing at that silo (it polls every 10 ms from that moment).
/// </summary>
/// <remarks>
/// Watching must not change the run: the entries by silo are counted with <see cref="RegistryWiring.EntriesBySilo"/>,
/// and the statistics are the counters the registry and Orleans keep anyway.
/// </remarks>
internal sealed class StatusWriter(HostOptions options, TextWriter output, TimeProvider time, IReadOnlyList<SiloNode> silos, DirectoryCounters directory, Func<GrainWorkload?> workload)
    : IAsyncDisposable
{
    private static readonly TimeSpan PurgePoll = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan PurgeWatchLimit = TimeSpan.FromMinutes(2);

    private readonly HostOptions _options = options;
    private readonly TextWriter _output = output;
    private readonly TimeProvider _time = time;
    private readonly IReadOnlyList<SiloNode> _silos = silos;
    private readonly DirectoryCounters _directory = directory;
    private readonly Func<GrainWorkload?> _workload = workload;
    private readonly ConcurrentDictionary<SiloAddress, long> _deadSince = new();
    private readonly ConcurrentDictionary<SiloAddress, long> _purgedAt = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _tasks = [];
    private readonly Lock _writeLock = new();

    /// <summary>What the process is doing; shown in each line.</summary>
    public string Phase { get; set; } = "starting";

    /// <summary>When <see cref="HostOptions.StatusInterval"/> is set, starts writing lines and following membership for them.</summary>
    public void Start()
    {
        if (_options.StatusInterval <= TimeSpan.Zero)
        {
            return;
        }

        lock (_tasks)
        {
            _tasks.Add(Task.Run(() => WriteLinesAsync(_stop.Token)));
            if (_silos.Count > 0)
            {
                IClusterMembershipService membership = _silos[0].Services.GetRequiredService<IClusterMembershipService>();
                _tasks.Add(Task.Run(() => FollowMembershipAsync(membership, _stop.Token)));
            }
        }
    }

    /// <summary>Writes one line now (when status lines are on).</summary>
    public void WriteNow()
    {
        if (_options.StatusInterval <= TimeSpan.Zero)
        {
            return;
        }

        string line = Read().ToLine();
        lock (_writeLock)
        {
            _output.WriteLine(line);
            _output.Flush();
        }
    }

    /// <summary>The status now.</summary>
    public StatusLine Read()
    {
        var silos = _silos.Select(ReadSilo).ToList();
        MembershipStatusLine? membership = null;
        if (_silos.Count > 0)
        {
            ClusterMembershipSnapshot snapshot = _silos[0].Services.GetRequiredService<IClusterMembershipService>().CurrentSnapshot;
            membership = new MembershipStatusLine(
                snapshot.Version.Value,
                snapshot.Members.ToDictionary(m => m.Key.ToParsableString(), m => m.Value.Status.ToString(), StringComparer.Ordinal),
                _deadSince.ToDictionary(kv => kv.Key.ToParsableString(), kv => kv.Value, StringComparer.Ordinal),
                _purgedAt.ToDictionary(kv => kv.Key.ToParsableString(), kv => kv.Value, StringComparer.Ordinal));
        }

        WorkloadStatusLine? workload = null;
        if (_workload() is { } w)
        {
            WorkloadSnapshot snapshot = w.Snapshot();
            workload = new WorkloadStatusLine(
                snapshot.Calls,
                snapshot.Failed,
                snapshot.CrossSilo,
                snapshot.Activated,
                w.GrainsBySilo().ToDictionary(kv => kv.Key.ToParsableString(), kv => kv.Value, StringComparer.Ordinal),
                w.Outcomes.Targets().ToDictionary(kv => kv.Key.ToParsableString(), kv => kv.Value, StringComparer.Ordinal),
                w.Outcomes.Unknown,
                w.Outcomes.Errors(),
                w.InFlight,
                w.Skipped);
        }

        return new StatusLine(
            _time.GetUtcNow().ToUnixTimeMilliseconds(),
            Environment.ProcessId,
            _options.Role.ToString().ToLowerInvariant(),
            _options.ClusterId,
            Phase,
            silos,
            membership,
            workload);
    }

    private SiloStatusLine ReadSilo(SiloNode silo)
    {
        SiloStatistics statistics = SiloStatistics.Read(silo.Services, silo.Name, _directory);
        RegistryStatusLine? registry = statistics.Available
            ? new(StatisticColumns.Values(statistics, StatisticSource.Registry), RegistryWiring.EntriesBySilo(silo.Services))
            : null;
        return new SiloStatusLine(silo.Name, silo.Address.ToParsableString(), StatisticColumns.Values(statistics, StatisticSource.Orleans), registry);
    }

    /// <summary>Entries pointing at <paramref name="dead"/> in all of this process's registries.</summary>
    private int EntriesPointingAt(SiloAddress dead) =>
        _silos.Sum(s => RegistryWiring.EntriesBySilo(s.Services).GetValueOrDefault(dead.ToParsableString()));

    private async Task FollowMembershipAsync(IClusterMembershipService membership, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (ClusterMembershipSnapshot snapshot in membership.MembershipUpdates.WithCancellation(cancellationToken))
            {
                long now = _time.GetUtcNow().ToUnixTimeMilliseconds();
                foreach ((SiloAddress silo, ClusterMember member) in snapshot.Members)
                {
                    if (member.Status == SiloStatus.Dead && _deadSince.TryAdd(silo, now))
                    {
                        lock (_tasks)
                        {
                            _tasks.Add(Task.Run(() => WatchPurgeAsync(silo, cancellationToken), CancellationToken.None));
                        }
                    }
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    private async Task WatchPurgeAsync(SiloAddress dead, CancellationToken cancellationToken)
    {
        long started = _time.GetTimestamp();
        try
        {
            while (_time.GetElapsedTime(started) < PurgeWatchLimit)
            {
                if (EntriesPointingAt(dead) == 0)
                {
                    _purgedAt.TryAdd(dead, _time.GetUtcNow().ToUnixTimeMilliseconds());
                    return;
                }

                await Task.Delay(PurgePoll, _time, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    private async Task WriteLinesAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(_options.StatusInterval, _time);
        try
        {
            do
            {
                WriteNow();
            }
            while (await timer.WaitForNextTickAsync(cancellationToken));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        Task[] tasks;
        lock (_tasks)
        {
            tasks = [.. _tasks];
        }

        try
        {
            await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (TimeoutException)
        {
            // A membership stream that ignores cancellation is left behind; the process is stopping anyway.
        }

        _stop.Dispose();
    }
}
