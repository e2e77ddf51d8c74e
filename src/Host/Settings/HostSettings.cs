using System.CommandLine;
using System.ComponentModel;
using System.Globalization;
using System.Net;
using System.Reflection;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using SyncMapRegistry.Host.Dashboard;

namespace SyncMapRegistry.Host;

/// <summary>
/// Binds <see cref="HostOptions"/> once. Every public property of <see cref="HostOptions"/> is a setting: its command
/// line option is the property's name in kebab case, its help text the property's <see cref="DescriptionAttribute"/>.
/// appsettings.json, environment variables and the command line are layered into one configuration; each present
/// value is read with the same converter the binder uses, so a bad one is reported by name with the others; then
/// <c>Get&lt;HostOptions&gt;()</c> binds and <see cref="HostOptionsValidator"/> checks the result.
/// </summary>
internal static class HostSettings
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    private static readonly PropertyInfo[] Properties =
        typeof(HostOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite).ToArray();

    /// <summary>The command line, with one option per setting.</summary>
    public static RootCommand CreateCommand()
    {
        var root = new RootCommand(
            "Starts Orleans silos (SyncMapRegistry or Orleans' LRU as their grain directory cache), drives a read-mostly " +
            "workload of cross-silo grain calls and reports throughput, latency, CPU, allocations and the registry's " +
            $"statistics. Settings also come from appsettings.json (section {HostOptions.SectionName}) and environment " +
            $"variables ({HostOptions.SectionName}__Silos=5); OTEL_* variables configure OpenTelemetry's exporter.");
        var defaults = new HostOptions();
        foreach (PropertyInfo property in Properties)
        {
            string description = property.GetCustomAttribute<DescriptionAttribute>()?.Description ?? "";
            if (property.GetValue(defaults) is { } value and not false && Convert.ToString(value, Invariant) is { Length: > 0 } text)
            {
                description += $" Default: {(value is Enum ? text.ToLowerInvariant() : text)}.";
            }

            root.Options.Add(property.PropertyType == typeof(bool)
                ? new Option<bool>(Flag(property)) { Description = description }
                : new Option<string>(Flag(property)) { Description = description, HelpName = HelpName(property) });
        }

        return root;
    }

    /// <summary>
    /// Binds and validates the options from appsettings.json, <paramref name="environment"/> (the process's when
    /// <c>null</c>) and the parsed command line; returns <c>null</c> and fills <paramref name="errors"/> when a setting is bad.
    /// </summary>
    public static HostOptions? Bind(ParseResult parsed, IReadOnlyDictionary<string, string?>? environment, List<string> errors)
    {
        var builder = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true, reloadOnChange: false);
        if (environment is null)
        {
            builder.AddEnvironmentVariables();
        }
        else
        {
            builder.AddInMemoryCollection(environment.Select(kv => KeyValuePair.Create(kv.Key.Replace("__", ":", StringComparison.Ordinal), kv.Value)));
        }

        builder.AddInMemoryCollection(CommandLineValues(parsed));
        IConfigurationSection section;
        try
        {
            section = builder.Build().GetSection(HostOptions.SectionName);
        }
        catch (InvalidDataException exception)
        {
            errors.Add($"appsettings.json: {exception.Message}");
            return null;
        }

        foreach (PropertyInfo property in Properties)
        {
            if (section[property.Name] is { } text && !string.IsNullOrWhiteSpace(text))
            {
                if (TryConvert(property.PropertyType, text.Trim(), out string? normalized))
                {
                    section[property.Name] = normalized;
                }
                else
                {
                    errors.Add($"{Flag(property)} ({HostOptions.SectionName}:{property.Name}): cannot read '{text}' as {Expected(property.PropertyType)}.");
                }
            }
        }

        if (errors.Count > 0)
        {
            return null;
        }

        HostOptions options = section.Get<HostOptions>() ?? new HostOptions();
        ValidateOptionsResult result = new HostOptionsValidator().Validate(null, options);
        if (result.Failed)
        {
            errors.AddRange(result.Failures);
            return null;
        }

        return options;
    }

    /// <summary>The configuration keys the command line sets: only the options given on it.</summary>
    private static Dictionary<string, string?> CommandLineValues(ParseResult parsed)
    {
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (Option option in parsed.CommandResult.Command.Options)
        {
            if (parsed.GetResult(option) is { Implicit: false } result && Properties.FirstOrDefault(p => Flag(p) == option.Name) is { } property)
            {
                values[$"{HostOptions.SectionName}:{property.Name}"] = option is Option<bool> flag
                    ? parsed.GetValue(flag).ToString(Invariant)
                    : string.Join(' ', result.Tokens.Select(t => t.Value));
            }
        }

        return values;
    }

    /// <summary>Reads <paramref name="text"/> as the binder will, giving the text the binder should see.</summary>
    private static bool TryConvert(Type type, string text, out string? normalized)
    {
        normalized = text;
        Type target = Nullable.GetUnderlyingType(type) ?? type;
        if (target == typeof(TimeSpan))
        {
            bool ok = TryParseDuration(text, out TimeSpan duration);
            normalized = duration.ToString("c", Invariant);
            return ok;
        }

        if (target == typeof(string))
        {
            return true;
        }

        if (target.IsEnum)
        {
            return !int.TryParse(text, out _) && Enum.TryParse(target, text, ignoreCase: true, out object? value) && Enum.IsDefined(target, value!);
        }

        if (target == typeof(Uri))
        {
            return Uri.TryCreate(text, UriKind.Absolute, out _);
        }

        try
        {
            return TypeDescriptor.GetConverter(target).ConvertFromInvariantString(text) is not null;
        }
        catch (Exception exception) when (exception is FormatException or ArgumentException or NotSupportedException || exception.InnerException is FormatException or OverflowException)
        {
            return false;
        }
    }

    /// <summary>Reads <c>30</c> (seconds), <c>30s</c>, <c>500ms</c>, <c>2m</c>, <c>1h</c> or <c>00:00:30</c>.</summary>
    internal static bool TryParseDuration(string text, out TimeSpan value)
    {
        value = default;
        text = text.Trim();
        (string number, double scale) = text switch
        {
            _ when text.EndsWith("ms", StringComparison.OrdinalIgnoreCase) => (text[..^2], 0.001),
            _ when text.EndsWith('s') || text.EndsWith('S') => (text[..^1], 1.0),
            _ when text.EndsWith('m') || text.EndsWith('M') => (text[..^1], 60.0),
            _ when text.EndsWith('h') || text.EndsWith('H') => (text[..^1], 3600.0),
            _ => (text, 1.0),
        };
        if (double.TryParse(number, NumberStyles.Float, Invariant, out double amount) && double.IsFinite(amount) && Math.Abs(amount * scale) < TimeSpan.MaxValue.TotalSeconds)
        {
            value = TimeSpan.FromSeconds(amount * scale);
            return true;
        }

        return TimeSpan.TryParse(text, Invariant, out value);
    }

    /// <summary><c>ReadRatio</c> → <c>--read-ratio</c>.</summary>
    internal static string Flag(PropertyInfo property)
    {
        var flag = new StringBuilder("--");
        foreach (char c in property.Name)
        {
            if (char.IsUpper(c) && flag.Length > 2)
            {
                flag.Append('-');
            }

            flag.Append(char.ToLowerInvariant(c));
        }

        return flag.ToString();
    }

    /// <summary>The option named after <paramref name="property"/>, for messages.</summary>
    internal static string Flag(string property) => Flag(typeof(HostOptions).GetProperty(property)!);

    private static string HelpName(PropertyInfo property) => property.Name == nameof(HostOptions.Popularity)
        ? "uniform|zipf:S"
        : Expected(property.PropertyType).Replace(" or ", "|", StringComparison.Ordinal).Replace(", ", "|", StringComparison.Ordinal);

    private static string Expected(Type type)
    {
        Type target = Nullable.GetUnderlyingType(type) ?? type;
        return target switch
        {
            _ when target.IsEnum => string.Join(" or ", Enum.GetNames(target).Select(n => n.ToLowerInvariant())),
            _ when target == typeof(TimeSpan) => "duration",
            _ when target == typeof(int) => "integer",
            _ when target == typeof(double) => "number",
            _ when target == typeof(Uri) => "uri",
            _ => "text",
        };
    }
}

/// <summary>Checks every setting at once; each failure names its option.</summary>
internal sealed class HostOptionsValidator : IValidateOptions<HostOptions>
{
    public ValidateOptionsResult Validate(string? name, HostOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        void Check(bool ok, string property, string reason)
        {
            if (!ok)
            {
                errors.Add($"{HostSettings.Flag(property)}: {reason}");
            }
        }

        Check(options.Silos is >= 1 and <= 16, nameof(options.Silos), $"must be between 1 and 16 (got {options.Silos}).");
        Check(options.Grains is >= 1 and <= 10_000_000, nameof(options.Grains), $"must be between 1 and 10000000 (got {options.Grains}).");
        Check(options.Duration > TimeSpan.Zero && options.Duration <= TimeSpan.FromDays(1), nameof(options.Duration), $"must be more than 0 and at most one day (got {options.Duration}).");
        Check(options.WarmUp >= TimeSpan.Zero && options.WarmUp <= TimeSpan.FromHours(1), nameof(options.WarmUp), $"must be 0 (none) or at most one hour (got {options.WarmUp}).");
        Check(options.ReadRatio is >= 0 and <= 1, nameof(options.ReadRatio), $"must be between 0 and 1 (got {options.ReadRatio}).");
        Check(options.CrossSiloRatio is >= 0 and <= 1, nameof(options.CrossSiloRatio), $"must be between 0 and 1 (got {options.CrossSiloRatio}).");
        Check(options.Concurrency is >= 1 and <= 4096, nameof(options.Concurrency), $"must be between 1 and 4096 (got {options.Concurrency}).");
        Check(
            Popularity.TryParse(options.Popularity, out _),
            nameof(options.Popularity),
            $"must be 'uniform' or 'zipf:S' with S a number above 0 and at most {Popularity.MaxExponent} (got '{options.Popularity}').");
        Check(options.CacheSize is null or (>= 1 and <= 100_000_000), nameof(options.CacheSize), $"must be between 1 and 100000000 entries (got {options.CacheSize}).");
        Check(options.CacheSize is null || options.HostsSilos, nameof(options.CacheSize), "sizes the cache of this process's silos; a client (--role client) runs none.");
        Check(options.ConnectTimeout > TimeSpan.Zero && options.ConnectTimeout <= TimeSpan.FromHours(1), nameof(options.ConnectTimeout), $"must be more than 0 and at most one hour (got {options.ConnectTimeout}).");
        Check(options.Rate is >= 0 and <= 1_000_000, nameof(options.Rate), $"must be between 0 (closed loop) and 1000000 calls/s (got {options.Rate}).");
        int last = options.Silos - 1;
        Check(options.SiloPort >= 1 && options.SiloPort + last <= 65535, nameof(options.SiloPort), $"ports {options.SiloPort}..{options.SiloPort + last} must lie in 1..65535.");
        Check(options.GatewayPort >= 1 && options.GatewayPort + last <= 65535, nameof(options.GatewayPort), $"ports {options.GatewayPort}..{options.GatewayPort + last} must lie in 1..65535.");
        Check(
            options.SiloPort > options.GatewayPort + last || options.GatewayPort > options.SiloPort + last,
            nameof(options.GatewayPort),
            $"the gateway ports {options.GatewayPort}..{options.GatewayPort + last} overlap the silo ports {options.SiloPort}..{options.SiloPort + last}.");
        Check(options.Clustering != ClusteringMode.Redis || !string.IsNullOrWhiteSpace(options.Redis), nameof(options.Redis), "a connection string (for example 127.0.0.1:6379) is required with --clustering redis.");
        Check(options.Clustering != ClusteringMode.Localhost || string.IsNullOrWhiteSpace(options.Redis), nameof(options.Redis), "only used with --clustering redis.");
        Check(!string.IsNullOrWhiteSpace(options.ClusterId), nameof(options.ClusterId), "must not be empty.");
        Check(
            IPAddress.TryParse(options.AdvertisedAddress, out IPAddress? address) && !IPAddress.Any.Equals(address) && !IPAddress.IPv6Any.Equals(address),
            nameof(options.AdvertisedAddress),
            $"must be an IP address other silos can reach, not the wildcard address (got '{options.AdvertisedAddress}').");
        Check(options.AwaitSilos is >= 0 and <= 1000, nameof(options.AwaitSilos), $"must be between 0 and 1000 (got {options.AwaitSilos}).");
        Check(
            options.StatusInterval == TimeSpan.Zero || (options.StatusInterval >= TimeSpan.FromMilliseconds(50) && options.StatusInterval <= TimeSpan.FromMinutes(1)),
            nameof(options.StatusInterval),
            $"must be 0 (off) or between 50 ms and one minute (got {options.StatusInterval}).");
        Check(options.ReportInterval >= TimeSpan.FromMilliseconds(100) && options.ReportInterval <= TimeSpan.FromMinutes(1), nameof(options.ReportInterval), $"must be between 100 ms and one minute (got {options.ReportInterval}).");
        Check(Enum.IsDefined(options.LogLevel), nameof(options.LogLevel), $"must be one of {string.Join(", ", Enum.GetNames<Microsoft.Extensions.Logging.LogLevel>())}.");
        Check(
            options.OtlpEndpoint is null || (options.OtlpEndpoint.IsAbsoluteUri && options.OtlpEndpoint.Scheme is "http" or "https"),
            nameof(options.OtlpEndpoint),
            $"must be an absolute http:// or https:// URI (got '{options.OtlpEndpoint}').");
        Check(!options.Dashboard || options.OtlpEndpoint is null, nameof(options.Dashboard), "exports to the dashboard it starts; leave out --otlp-endpoint.");
        Check(!options.Dashboard || DashboardRun.Unavailable() is null, nameof(options.Dashboard), DashboardRun.Unavailable() ?? "");
        Check(options.OtlpTimeout > TimeSpan.Zero && options.OtlpTimeout <= TimeSpan.FromMinutes(1), nameof(options.OtlpTimeout), $"must be more than 0 and at most one minute (got {options.OtlpTimeout}).");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
