using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.DependencyInjection;
using SyncMapRegistry.Host.Registry;
using SyncMapRegistry.Host.Workload;

namespace SyncMapRegistry.Host.Cluster;

/// <summary>
/// One <c>STATUS {json}</c> line: what this process sees at one moment. Silo addresses are written as
/// <see cref="SiloAddress.ToParsableString"/> (<c>127.0.0.1:11111@493826163</c>); times are Unix milliseconds.
/// </summary>
/// <param name="T">When the line was written.</param>
/// <param name="Pid">This process's id.</param>
/// <param name="Role">This process's role (<c>all</c>, <c>silo</c>, <c>client</c>).</param>
/// <param name="ClusterId">The cluster id.</param>
/// <param name="Phase">What the process is doing: <c>starting</c>, <c>waiting</c>, <c>warm-up</c>, <c>running</c>, <c>hosting</c>, <c>stopping</c>.</param>
/// <param name="Silos">This process's silos and their registries.</param>
/// <param name="Membership">The membership as the first silo of this process sees it; <c>null</c> for a client.</param>
/// <param name="Workload">The workload's outcome; <c>null</c> when this process drives none.</param>
internal sealed record StatusLine(
    long T,
    int Pid,
    string Role,
    string ClusterId,
    string Phase,
    IReadOnlyList<SiloStatusLine> Silos,
    MembershipStatusLine? Membership,
    WorkloadStatusLine? Workload);

/// <summary>One silo of this process.</summary>
/// <param name="Name">The silo's name.</param>
/// <param name="Address">The silo's address.</param>
/// <param name="Registry">Its SyncMapRegistry, or <c>null</c> when it runs none.</param>
internal sealed record SiloStatusLine(string Name, string Address, RegistryStatusLine? Registry);

/// <summary>A silo's registry: the directory cache's entries grouped by the silo they point at, and its counters.</summary>
/// <param name="Entries">Entries held.</param>
/// <param name="EntriesBySilo">Entries held, by the silo address they point at.</param>
/// <param name="Purged">Entries removed because their silo is dead, cumulative.</param>
/// <param name="Removals">Entries removed by Orleans (an invalidated address, for example after a failed call), cumulative.</param>
/// <param name="Evicted">Entries removed by the entry cap, cumulative.</param>
/// <param name="Hits">Lookups the registry answered.</param>
/// <param name="Misses">Lookups it could not answer.</param>
/// <param name="LocalActivations">Activations on the silo.</param>
internal sealed record RegistryStatusLine(int Entries, IReadOnlyDictionary<string, int> EntriesBySilo, long Purged, long Removals, long Evicted, long Hits, long Misses, int LocalActivations);

/// <summary>Membership as one silo sees it.</summary>
/// <param name="Version">The membership version.</param>
/// <param name="Members">Each silo's status (<c>Active</c>, <c>Dead</c>, ...).</param>
/// <param name="DeadSince">When this process first saw each silo declared dead.</param>
/// <param name="PurgedAt">When, after that, none of this process's registries held an entry pointing at the dead silo.</param>
internal sealed record MembershipStatusLine(long Version, IReadOnlyDictionary<string, string> Members, IReadOnlyDictionary<string, long> DeadSince, IReadOnlyDictionary<string, long> PurgedAt);

/// <summary>The workload's outcome.</summary>
/// <param name="Calls">Calls completed.</param>
/// <param name="Failed">Calls failed.</param>
/// <param name="CrossSilo">Completed calls answered by a silo other than the calling one.</param>
/// <param name="Activated">Grains the warm-up reached.</param>
/// <param name="GrainsBySilo">How many grains last answered from each silo.</param>
/// <param name="Targets">Call outcomes by each grain's home silo (where its first activation answered from).</param>
/// <param name="Unknown">Outcomes of calls to grains that had not answered yet.</param>
/// <param name="Errors">Failed calls by exception type.</param>
/// <param name="InFlight">Calls in flight now.</param>
/// <param name="Skipped">Open loop: calls not started because too many were in flight.</param>
internal sealed record WorkloadStatusLine(
    long Calls,
    long Failed,
    long CrossSilo,
    long Activated,
    IReadOnlyDictionary<string, int> GrainsBySilo,
    IReadOnlyDictionary<string, TargetOutcome> Targets,
    TargetOutcome Unknown,
    IReadOnlyDictionary<string, long> Errors,
    long InFlight,
    long Skipped);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(StatusLine))]
internal sealed partial class StatusJsonContext : JsonSerializerContext;

/// <summary>
/// Writes <c>STATUS {json}</c> lines for tests and scripts, and keeps the times they need: when this process
/// first saw each silo declared dead (it follows the membership updates itself), and when its registries then
/// no longer held an entry pointing at that silo (it polls every 10 ms from that moment).
/// </summary>
internal sealed class ClusterStatus : IAsyncDisposable
{
    /// <summary>What every status line starts with.</summary>
    public const string Prefix = "STATUS ";

    private static readonly TimeSpan PurgePoll = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan PurgeWatchLimit = TimeSpan.FromMinutes(2);

    private readonly HostOptions _options;
    private readonly TextWriter _output;
    private readonly TimeProvider _time;
    private readonly IReadOnlyList<SiloNode> _silos;
    private readonly Func<ClusterWorkload?> _workload;
    private readonly ConcurrentDictionary<SiloAddress, long> _deadSince = new();
    private readonly ConcurrentDictionary<SiloAddress, long> _purgedAt = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _tasks = [];
    private readonly Lock _writeLock = new();

    public ClusterStatus(HostOptions options, TextWriter output, TimeProvider time, IReadOnlyList<SiloNode> silos, Func<ClusterWorkload?> workload)
    {
        _options = options;
        _output = output;
        _time = time;
        _silos = silos;
        _workload = workload;
    }

    /// <summary>What the process is doing; shown in each line.</summary>
    public string Phase { get; set; } = "starting";

    /// <summary>Starts following membership and, when <see cref="HostOptions.StatusInterval"/> is set, writing lines.</summary>
    public void Start()
    {
        lock (_tasks)
        {
            if (_silos.Count > 0)
            {
                IClusterMembershipService membership = _silos[0].Services.GetRequiredService<IClusterMembershipService>();
                _tasks.Add(Task.Run(() => FollowMembershipAsync(membership, _stop.Token)));
            }

            if (_options.StatusInterval > TimeSpan.Zero)
            {
                _tasks.Add(Task.Run(() => WriteLinesAsync(_stop.Token)));
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

        string json = JsonSerializer.Serialize(Read(), StatusJsonContext.Default.StatusLine);
        lock (_writeLock)
        {
            _output.WriteLine(Prefix + json);
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
                w.Targets().ToDictionary(kv => kv.Key.ToParsableString(), kv => kv.Value, StringComparer.Ordinal),
                w.UnknownTarget,
                w.Errors(),
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

    /// <summary>This process's silos' registry statistics, in the single-process host's shape.</summary>
    public IReadOnlyList<SiloRegistrySnapshot> ReadRegistries() => [.. _silos.Select(s => RegistryWiring.Read(s.Services, s.Name))];

    private static SiloStatusLine ReadSilo(SiloNode silo)
    {
        RegistryStatusLine? registry = null;
        if (silo.Services.GetService<ISyncMapRegistry>() is { } r)
        {
            var bySilo = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (KeyValuePair<GrainId, GrainAddress> entry in r.DirectoryCache)
            {
                string key = entry.Value.SiloAddress?.ToParsableString() ?? "none";
                bySilo[key] = bySilo.GetValueOrDefault(key) + 1;
            }

            SyncMapRegistryStatistics statistics = r.GetStatistics();
            GrainRegistryStatistics cache = statistics.DirectoryCache;
            registry = new RegistryStatusLine(cache.Count, bySilo, cache.Purged, cache.Removals, cache.Evicted, cache.LookupHits, cache.LookupMisses, statistics.LocalActivations.Count);
        }

        return new SiloStatusLine(silo.Name, silo.Address.ToParsableString(), registry);
    }

    /// <summary>Entries pointing at <paramref name="dead"/> in all of this process's registries.</summary>
    private int EntriesPointingAt(SiloAddress dead)
    {
        int count = 0;
        foreach (SiloNode silo in _silos)
        {
            if (silo.Services.GetService<ISyncMapRegistry>() is { } registry)
            {
                foreach (KeyValuePair<GrainId, GrainAddress> entry in registry.DirectoryCache)
                {
                    if (dead.Equals(entry.Value.SiloAddress))
                    {
                        count++;
                    }
                }
            }
        }

        return count;
    }

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
