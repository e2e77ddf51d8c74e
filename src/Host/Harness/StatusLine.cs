using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Serialization;
using SyncMapRegistry.Host.Reporting;

namespace SyncMapRegistry.Host.Harness;

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
public sealed record StatusLine(
    long T,
    int Pid,
    string Role,
    string ClusterId,
    string Phase,
    IReadOnlyList<SiloStatusLine> Silos,
    MembershipStatusLine? Membership,
    WorkloadStatusLine? Workload)
{
    /// <summary>What every status line starts with.</summary>
    public const string Prefix = "STATUS ";

    /// <summary>The line as the host writes it: <see cref="Prefix"/>, then the JSON object on one line.</summary>
    public string ToLine() => Prefix + JsonSerializer.Serialize(this, StatusJsonContext.Default.StatusLine);

    /// <summary>Reads a line the host wrote; <c>false</c> for any other line.</summary>
    public static bool TryParse(string line, [NotNullWhen(true)] out StatusLine? status)
    {
        status = null;
        if (line is null || !line.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return false;
        }

        try
        {
            status = JsonSerializer.Deserialize(line.AsSpan(Prefix.Length), StatusJsonContext.Default.StatusLine);
        }
        catch (JsonException)
        {
            return false;
        }

        return status is not null;
    }
}

/// <summary>One silo of this process.</summary>
/// <param name="Name">The silo's name.</param>
/// <param name="Address">The silo's address.</param>
/// <param name="Directory">
/// Orleans' own directory counters of the silo, whichever cache it runs, by the keys of the Orleans columns of
/// <see cref="StatisticColumns"/> (<c>dir_lookups</c>, ...), cumulative.
/// </param>
/// <param name="Registry">Its SyncMapRegistry, or <c>null</c> when it runs none.</param>
public sealed record SiloStatusLine(string Name, string Address, IReadOnlyDictionary<string, long> Directory, RegistryStatusLine? Registry);

/// <summary>
/// A silo's registry: its statistics, by the keys of the registry columns of <see cref="StatisticColumns"/> (the
/// live table and the progress lines show the same), and the directory cache's entries grouped by the silo they
/// point at. The typed properties read the statistics the fault tests use.
/// </summary>
/// <param name="Statistics">The registry's statistics by column key (<c>entries</c>, <c>hits</c>, <c>purged</c>, ...), cumulative.</param>
/// <param name="EntriesBySilo">Entries held, by the silo address they point at.</param>
public sealed record RegistryStatusLine(IReadOnlyDictionary<string, long> Statistics, IReadOnlyDictionary<string, int> EntriesBySilo)
{
    /// <summary>Entries held.</summary>
    [JsonIgnore]
    public int Entries => (int)Statistic(StatisticColumns.Entries);

    /// <summary>Entries removed because their silo is dead.</summary>
    [JsonIgnore]
    public long Purged => Statistic(StatisticColumns.Purged);

    /// <summary>Entries removed by Orleans (an invalidated address, for example after a failed call).</summary>
    [JsonIgnore]
    public long Removals => Statistic(StatisticColumns.Removals);

    /// <summary>Entries removed by the entry cap.</summary>
    [JsonIgnore]
    public long Evicted => Statistic(StatisticColumns.Evicted);

    /// <summary>Lookups the registry answered.</summary>
    [JsonIgnore]
    public long Hits => Statistic(StatisticColumns.Hits);

    /// <summary>Lookups it could not answer.</summary>
    [JsonIgnore]
    public long Misses => Statistic(StatisticColumns.Misses);

    /// <summary>Activations on the silo.</summary>
    [JsonIgnore]
    public int LocalActivations => (int)Statistic(StatisticColumns.Activations);

    private long Statistic(string key) => Statistics.TryGetValue(key, out long value) ? value : throw new KeyNotFoundException($"The STATUS line holds no registry statistic '{key}'.");
}

/// <summary>Membership as one silo sees it.</summary>
/// <param name="Version">The membership version.</param>
/// <param name="Members">Each silo's status (<c>Active</c>, <c>Dead</c>, ...).</param>
/// <param name="DeadSince">When this process first saw each silo declared dead.</param>
/// <param name="PurgedAt">When, after that, none of this process's registries held an entry pointing at the dead silo.</param>
public sealed record MembershipStatusLine(long Version, IReadOnlyDictionary<string, string> Members, IReadOnlyDictionary<string, long> DeadSince, IReadOnlyDictionary<string, long> PurgedAt);

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
public sealed record WorkloadStatusLine(
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
/// The outcome of the calls made to the grains whose first activation the workload saw on one silo (the grains'
/// <em>home</em> silo), cumulative.
/// </summary>
/// <param name="Succeeded">Calls that completed.</param>
/// <param name="Failed">Calls that threw.</param>
/// <param name="DirectoryFailed">
/// Of <paramref name="Failed"/>, calls that failed while Orleans looked the grain up in its grain directory (the
/// exception comes from <c>Orleans.Runtime.GrainDirectory</c>).
/// </param>
/// <param name="Moved">Completed calls answered by another silo than the home silo: the grain was activated again elsewhere.</param>
/// <param name="FirstFailedStartMs">When the first failed call started (Unix ms), or <c>null</c>.</param>
/// <param name="LastFailedStartMs">When the last failed call started (Unix ms), or <c>null</c>.</param>
/// <param name="LastFailedEndMs">When the last failed call failed (Unix ms), or <c>null</c>.</param>
/// <param name="FirstMovedMs">When the first moved call completed (Unix ms), or <c>null</c>.</param>
public readonly record struct TargetOutcome(long Succeeded, long Failed, long DirectoryFailed, long Moved, long? FirstFailedStartMs, long? LastFailedStartMs, long? LastFailedEndMs, long? FirstMovedMs);
