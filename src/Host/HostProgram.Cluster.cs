using System.CommandLine;
using System.Net;
using Microsoft.Extensions.Configuration;
using SyncMapRegistry.Host.Cluster;
using SyncMapRegistry.Host.Output;
using SyncMapRegistry.Host.Telemetry;

namespace SyncMapRegistry.Host;

/// <summary>The cluster settings: clustering, role, advertised address, membership profile, status lines.</summary>
public static partial class HostProgram
{
    /// <summary>Runs the cluster runner when the settings ask for it, otherwise the single-process host.</summary>
    private static Task<RunSummary> RunHostAsync(HostOptions options, OtlpSettings? otlp, IRunReporter reporter, HostConsole console, CancellationToken cancellationToken) =>
        options.UsesClusterRunner
            ? new ClusterRunner(options, otlp, reporter, console.Out, TimeProvider.System).RunAsync(cancellationToken)
            : new HostRunner(options, otlp, reporter, TimeProvider.System).RunAsync(cancellationToken);

    /// <summary>Status lines and a live table do not mix: with status lines on, <c>auto</c> means plain.</summary>
    private static OutputMode EffectiveOutput(HostOptions options) =>
        options.Output == OutputMode.Auto && options.StatusInterval > TimeSpan.Zero ? OutputMode.Plain : options.Output;

    private static void ReadClusterSettings(IConfigurationSection section, HostOptions options, List<string> errors)
    {
        Read<ClusteringMode>(section, nameof(HostOptions.Clustering), TryEnum, v => options.Clustering = v, errors);
        Read<string>(section, nameof(HostOptions.Redis), TryText, v => options.Redis = v, errors);
        Read<HostRole>(section, nameof(HostOptions.Role), TryEnum, v => options.Role = v, errors);
        Read<IPAddress>(section, nameof(HostOptions.AdvertisedAddress), TryAddress, v => options.AdvertisedAddress = v, errors);
        Read<MembershipProfile>(section, nameof(HostOptions.Membership), TryEnum, v => options.Membership = v, errors);
        Read<int>(section, nameof(HostOptions.AwaitSilos), TryInt, v => options.AwaitSilos = v, errors);
        Read<int>(section, nameof(HostOptions.Rate), TryInt, v => options.Rate = v, errors);
        Read<TimeSpan>(section, nameof(HostOptions.StatusInterval), TryParseDuration, v => options.StatusInterval = v, errors);
    }

    private static bool TryText(string text, out string value)
    {
        value = text;
        return true;
    }

    private static bool TryAddress(string text, out IPAddress value) => IPAddress.TryParse(text, out value!);

    private static bool TryEnum<T>(string text, out T value)
        where T : struct, Enum =>
        Enum.TryParse(text, ignoreCase: true, out value) && Enum.IsDefined(value) && !int.TryParse(text, out _);

    private static string Names<T>()
        where T : struct, Enum => string.Join(", ", Enum.GetNames<T>().Select(n => n.ToLowerInvariant()));

    private sealed partial class CommandLine
    {
        private Option<ClusteringMode> _clustering = null!;
        private Option<string?> _redis = null!;
        private Option<HostRole> _role = null!;
        private Option<IPAddress> _advertisedAddress = null!;
        private Option<MembershipProfile> _membership = null!;
        private Option<int> _awaitSilos = null!;
        private Option<int> _rate = null!;
        private Option<TimeSpan> _statusInterval = null!;
        private Option<string> _clusterId = null!;

        private void AddClusterOptions(RootCommand root, HostOptions defaults)
        {
            _clustering = new("--clustering")
            {
                Description = "How silos find each other: localhost (every silo in this process) or redis (a membership table in Redis; each process, on any machine, joins the same cluster).",
                DefaultValueFactory = _ => defaults.Clustering,
                CustomParser = r => Parse<ClusteringMode>(r, TryEnum, Names<ClusteringMode>()),
                HelpName = "localhost|redis",
            };
            _redis = new("--redis")
            {
                Description = "The Redis connection string of the membership table, for example 127.0.0.1:6379 (with --clustering redis).",
                DefaultValueFactory = _ => defaults.Redis,
                HelpName = "connection string",
            };
            _role = new("--role")
            {
                Description = "What this process does: all (silos that also drive the workload), silo (silos that only host grains) or client (no silo: drives the workload through the gateways).",
                DefaultValueFactory = _ => defaults.Role,
                CustomParser = r => Parse<HostRole>(r, TryEnum, Names<HostRole>()),
                HelpName = "all|silo|client",
            };
            _advertisedAddress = new("--advertised-address")
            {
                Description = "The address other machines reach this one's silos at (default 127.0.0.1); other than loopback, the silos listen on every interface.",
                DefaultValueFactory = _ => defaults.AdvertisedAddress,
                CustomParser = r => Parse<IPAddress>(r, TryAddress, "an IP address"),
                HelpName = "ip",
            };
            _membership = new("--membership")
            {
                Description = "How fast a dead silo is declared dead: default (Orleans' timeouts) or fast (a few seconds; for tests and demos).",
                DefaultValueFactory = _ => defaults.Membership,
                CustomParser = r => Parse<MembershipProfile>(r, TryEnum, Names<MembershipProfile>()),
                HelpName = "default|fast",
            };
            _awaitSilos = new("--await-silos")
            {
                Description = "Wait until the cluster has this many active silos before the workload starts (0: do not wait).",
                DefaultValueFactory = _ => defaults.AwaitSilos,
                HelpName = "count",
            };
            _rate = new("--rate")
            {
                Description = "Start this many calls a second whether or not earlier ones returned (open loop); 0 runs --concurrency workers that each wait for their call.",
                DefaultValueFactory = _ => defaults.Rate,
                HelpName = "calls/s",
            };
            _statusInterval = new("--status-interval")
            {
                Description = "Write a machine-readable 'STATUS {json}' line this often (for example 250ms); 0 writes none.",
                DefaultValueFactory = _ => defaults.StatusInterval,
                CustomParser = r => Parse<TimeSpan>(r, TryParseDuration, "a duration such as 250ms or 1s"),
                HelpName = "duration",
            };
            _clusterId = new("--cluster-id")
            {
                Description = "Orleans' cluster id and service id; every process of one cluster uses the same.",
                DefaultValueFactory = _ => defaults.ClusterId,
                HelpName = "id",
            };

            foreach (Option option in (Option[])[_clustering, _redis, _role, _advertisedAddress, _membership, _awaitSilos, _rate, _statusInterval, _clusterId])
            {
                root.Options.Add(option);
            }
        }

        private void ApplyCluster(ParseResult parsed, HostOptions options)
        {
            options.Clustering = parsed.GetValue(_clustering);
            options.Redis = parsed.GetValue(_redis);
            options.Role = parsed.GetValue(_role);
            options.AdvertisedAddress = parsed.GetValue(_advertisedAddress)!;
            options.Membership = parsed.GetValue(_membership);
            options.AwaitSilos = parsed.GetValue(_awaitSilos);
            options.Rate = parsed.GetValue(_rate);
            options.StatusInterval = parsed.GetValue(_statusInterval);
            options.ClusterId = parsed.GetValue(_clusterId)!;
        }
    }
}
