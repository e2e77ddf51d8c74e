using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Spectre.Console;
using SyncMapRegistry.Host.Dashboard;
using SyncMapRegistry.Host.Output;
using SyncMapRegistry.Host.Telemetry;

namespace SyncMapRegistry.Host;

/// <summary>Where the host writes, and whether its standard output is a terminal.</summary>
/// <param name="Out">Progress and the summary.</param>
/// <param name="Error">Usage errors and failures.</param>
/// <param name="IsTerminal">Whether <paramref name="Out"/> is an interactive terminal (a live display fits).</param>
public sealed record HostConsole(TextWriter Out, TextWriter Error, bool IsTerminal)
{
    /// <summary>The process's console.</summary>
    public static HostConsole System => new(Console.Out, Console.Error, !Console.IsOutputRedirected);
}

/// <summary>How a run ended.</summary>
/// <param name="ExitCode">0 when the run completed or was stopped by Ctrl+C, 1 on failure, 2 on a bad argument.</param>
/// <param name="Summary">The run's summary, or <c>null</c> when no run took place.</param>
public sealed record HostRunResult(int ExitCode, RunSummary? Summary);

/// <summary>
/// The host's entry point: reads appsettings.json, environment variables and the command line (a later source
/// wins), validates, then runs. <c>Program.Main</c> and the tests both call <see cref="RunAsync"/>.
/// </summary>
public static partial class HostProgram
{
    /// <summary>The run completed, or Ctrl+C stopped it.</summary>
    public const int ExitSuccess = 0;

    /// <summary>The run failed.</summary>
    public const int ExitFailure = 1;

    /// <summary>An argument or setting was invalid; nothing ran.</summary>
    public const int ExitUsage = 2;

    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>Parses <paramref name="args"/> and runs the host.</summary>
    /// <param name="args">Command-line arguments.</param>
    /// <param name="console">Where to write.</param>
    /// <param name="cancellationToken">Ctrl+C: stops the workload early; the summary is still printed.</param>
    /// <param name="environment">Environment variables to use instead of the process's (for tests).</param>
    public static async Task<HostRunResult> RunAsync(
        IReadOnlyList<string> args,
        HostConsole console,
        CancellationToken cancellationToken,
        IReadOnlyDictionary<string, string?>? environment = null)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(console);
        Func<string, string?> getVariable = environment is null
            ? Environment.GetEnvironmentVariable
            : name => environment.TryGetValue(name, out string? value) ? value : null;

        var errors = new List<string>();
        HostOptions options = LoadConfiguration(environment, errors);
        if (errors.Count > 0)
        {
            return Usage(console, errors);
        }

        var cli = new CommandLine(options);
        ParseResult parsed = cli.Root.Parse([.. args]);
        if (parsed.Errors.Count > 0)
        {
            return Usage(console, [.. parsed.Errors.Select(e => e.Message)]);
        }

        // Only --help and --version carry an action; a run has none.
        if (parsed.Action is not null)
        {
            int code = await parsed.InvokeAsync(new InvocationConfiguration { Output = console.Out, Error = console.Error }, cancellationToken);
            return new HostRunResult(code, null);
        }

        cli.Apply(parsed, options);
        OtlpSettings? otlp = OtlpSettings.Resolve(options.OtlpEndpoint, options.OtlpTimeout, getVariable, errors);
        errors.InsertRange(0, options.Validate());
        if (options.Dashboard && DashboardRun.Unavailable() is { } unavailable)
        {
            errors.Add(unavailable);
        }
        if (errors.Count > 0)
        {
            return Usage(console, errors);
        }

        IRunReporter reporter = CreateReporter(EffectiveOutput(options), console);
        try
        {
            RunSummary summary = options.Dashboard
                ? await DashboardRun.RunAsync(console, endpoint => RunHostAsync(options, OtlpSettings.Http(endpoint, options.OtlpTimeout), reporter, console, cancellationToken), cancellationToken)
                : await RunHostAsync(options, otlp, reporter, console, cancellationToken);
            return new HostRunResult(ExitSuccess, summary);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            await console.Error.WriteLineAsync($"error: the host failed: {exception}");
            return new HostRunResult(ExitFailure, null);
        }
    }

    private static IRunReporter CreateReporter(OutputMode mode, HostConsole console)
    {
        bool live = mode == OutputMode.Live || (mode == OutputMode.Auto && console.IsTerminal);
        if (!live)
        {
            return new PlainReporter(console.Out, TimeProvider.System);
        }

        IAnsiConsole ansi = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(console.Out),
            Ansi = AnsiSupport.Detect,
            ColorSystem = ColorSystemSupport.Detect,
            Interactive = InteractionSupport.Yes,
        });
        return new LiveReporter(ansi, console.Out, TimeProvider.System);
    }

    private static HostRunResult Usage(HostConsole console, IEnumerable<string> errors)
    {
        foreach (string error in errors)
        {
            console.Error.WriteLine($"error: {error}");
        }

        console.Error.WriteLine("Run with --help to see every option.");
        return new HostRunResult(ExitUsage, null);
    }

    /// <summary>appsettings.json beside the program, then environment variables (<c>SyncMapHost__Silos=5</c>).</summary>
    private static HostOptions LoadConfiguration(IReadOnlyDictionary<string, string?>? environment, List<string> errors)
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

        IConfigurationSection section;
        try
        {
            section = builder.Build().GetSection(HostOptions.SectionName);
        }
        catch (InvalidDataException exception)
        {
            errors.Add($"appsettings.json: {exception.Message}");
            return new HostOptions();
        }

        var options = new HostOptions();
        Read<int>(section, nameof(HostOptions.Silos), TryInt, v => options.Silos = v, errors);
        Read<int>(section, nameof(HostOptions.Grains), TryInt, v => options.Grains = v, errors);
        Read<TimeSpan>(section, nameof(HostOptions.Duration), TryParseDuration, v => options.Duration = v, errors);
        Read<double>(section, nameof(HostOptions.ReadRatio), TryDouble, v => options.ReadRatio = v, errors);
        Read<int>(section, nameof(HostOptions.Concurrency), TryInt, v => options.Concurrency = v, errors);
        Read<double>(section, nameof(HostOptions.CrossSiloRatio), TryDouble, v => options.CrossSiloRatio = v, errors);
        Read<int>(section, nameof(HostOptions.SiloPort), TryInt, v => options.SiloPort = v, errors);
        Read<int>(section, nameof(HostOptions.GatewayPort), TryInt, v => options.GatewayPort = v, errors);
        Read<Uri>(section, nameof(HostOptions.OtlpEndpoint), TryUri, v => options.OtlpEndpoint = v, errors);
        Read<TimeSpan>(section, nameof(HostOptions.OtlpTimeout), TryParseDuration, v => options.OtlpTimeout = v, errors);
        Read<TimeSpan>(section, nameof(HostOptions.ReportInterval), TryParseDuration, v => options.ReportInterval = v, errors);
        Read<OutputMode>(section, nameof(HostOptions.Output), TryOutput, v => options.Output = v, errors);
        Read<bool>(section, nameof(HostOptions.Dashboard), bool.TryParse, v => options.Dashboard = v, errors);
        Read<LogLevel>(section, nameof(HostOptions.LogLevel), TryLogLevel, v => options.LogLevel = v, errors);
        Read<string>(section, nameof(HostOptions.ClusterId), (string s, out string v) => { v = s; return true; }, v => options.ClusterId = v, errors);
        ReadClusterSettings(section, options, errors);
        return options;
    }

    private delegate bool TryParser<T>(string text, out T value);

    private static void Read<T>(IConfigurationSection section, string key, TryParser<T> parse, Action<T> assign, List<string> errors)
    {
        string? text = section[key];
        if (string.IsNullOrWhiteSpace(text))
        {
            return;
        }

        if (parse(text.Trim(), out T value))
        {
            assign(value);
        }
        else
        {
            errors.Add($"{HostOptions.SectionName}:{key}: cannot read '{text}' as {typeof(T).Name}.");
        }
    }

    private static bool TryInt(string text, out int value) => int.TryParse(text, NumberStyles.Integer, Invariant, out value);

    private static bool TryDouble(string text, out double value) => double.TryParse(text, NumberStyles.Float, Invariant, out value);

    private static bool TryUri(string text, out Uri value) => Uri.TryCreate(text, UriKind.Absolute, out value!);

    private static bool TryLogLevel(string text, out LogLevel value) => Enum.TryParse(text, ignoreCase: true, out value) && Enum.IsDefined(value) && !int.TryParse(text, out _);

    private static bool TryOutput(string text, out OutputMode value) => Enum.TryParse(text, ignoreCase: true, out value) && Enum.IsDefined(value);

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

    /// <summary>The command line; each option's default is the value configuration already gave it.</summary>
    private sealed partial class CommandLine
    {
        private readonly Option<int> _silos;
        private readonly Option<int> _grains;
        private readonly Option<TimeSpan> _duration;
        private readonly Option<double> _readRatio;
        private readonly Option<Uri?> _otlpEndpoint;
        private readonly Option<int> _concurrency;
        private readonly Option<double> _crossSiloRatio;
        private readonly Option<int> _siloPort;
        private readonly Option<int> _gatewayPort;
        private readonly Option<OutputMode> _output;
        private readonly Option<LogLevel> _logLevel;
        private readonly Option<bool> _dashboard;

        public CommandLine(HostOptions defaults)
        {
            _silos = new("--silos") { Description = "Silos to start in this process, on 127.0.0.1.", DefaultValueFactory = _ => defaults.Silos, HelpName = "count" };
            _grains = new("--grains") { Description = "Sample grains to activate across the silos.", DefaultValueFactory = _ => defaults.Grains, HelpName = "count" };
            _duration = new("--duration")
            {
                Description = "How long the workload runs: 30, 30s, 500ms, 2m or 00:00:30.",
                DefaultValueFactory = _ => defaults.Duration,
                CustomParser = r => Parse<TimeSpan>(r, TryParseDuration, "a duration such as 30, 30s, 500ms, 2m or 00:00:30"),
                HelpName = "time",
            };
            _readRatio = new("--read-ratio")
            {
                Description = "Share of calls that only read a grain (0..1); the others update it, and it deactivates.",
                DefaultValueFactory = _ => defaults.ReadRatio,
                CustomParser = r => Parse<double>(r, TryDouble, "a number between 0 and 1"),
                HelpName = "ratio",
            };
            _otlpEndpoint = new("--otlp-endpoint")
            {
                Description = "OTLP endpoint for traces and metrics, e.g. http://localhost:4318 (default: OTEL_EXPORTER_OTLP_ENDPOINT; none: no export).",
                DefaultValueFactory = _ => defaults.OtlpEndpoint,
                CustomParser = r => Parse<Uri?>(r, (string s, out Uri? v) => { bool ok = TryUri(s, out Uri u) && HostOptions.IsHttpUri(u); v = ok ? u : null; return ok; }, "an absolute http:// or https:// URI"),
                HelpName = "uri",
            };
            _concurrency = new("--concurrency") { Description = "Grain calls in flight at once.", DefaultValueFactory = _ => defaults.Concurrency, HelpName = "count" };
            _crossSiloRatio = new("--cross-silo-ratio")
            {
                Description = "Share of calls made from a silo other than the grain's (0..1).",
                DefaultValueFactory = _ => defaults.CrossSiloRatio,
                CustomParser = r => Parse<double>(r, TryDouble, "a number between 0 and 1"),
                HelpName = "ratio",
            };
            _siloPort = new("--silo-port") { Description = "First silo's silo-to-silo port; silo i uses port + i.", DefaultValueFactory = _ => defaults.SiloPort, HelpName = "port" };
            _gatewayPort = new("--gateway-port") { Description = "First silo's gateway port; silo i uses port + i.", DefaultValueFactory = _ => defaults.GatewayPort, HelpName = "port" };
            _logLevel = new("--log-level") { Description = "Least severe level of the silos' logs, written to standard error.", DefaultValueFactory = _ => defaults.LogLevel };
            _dashboard = new("--dashboard") { Description = "Start the Aspire Dashboard on 127.0.0.1, export traces and metrics to it and print its address; on a terminal it stays open after the run until Ctrl+C.", DefaultValueFactory = _ => defaults.Dashboard };
            _output = new("--output") { Description = "auto (live table on a terminal, plain lines otherwise), live or plain.", DefaultValueFactory = _ => defaults.Output };

            Root = new RootCommand(
                "Starts Orleans silos on 127.0.0.1, each with SyncMapRegistry as its grain directory cache, drives a read-mostly " +
                "workload of cross-silo grain calls and shows the registry's statistics. Settings also come from appsettings.json " +
                "(section SyncMapHost) and environment variables (SyncMapHost__Silos=5); OTEL_* variables configure export.")
            {
                _silos, _grains, _duration, _readRatio, _otlpEndpoint, _concurrency, _crossSiloRatio, _siloPort, _gatewayPort, _output, _logLevel, _dashboard,
            };
            AddClusterOptions(Root, defaults);
        }

        public RootCommand Root { get; }

        public void Apply(ParseResult parsed, HostOptions options)
        {
            options.Silos = parsed.GetValue(_silos);
            options.Grains = parsed.GetValue(_grains);
            options.Duration = parsed.GetValue(_duration);
            options.ReadRatio = parsed.GetValue(_readRatio);
            options.OtlpEndpoint = parsed.GetValue(_otlpEndpoint);
            options.Concurrency = parsed.GetValue(_concurrency);
            options.CrossSiloRatio = parsed.GetValue(_crossSiloRatio);
            options.SiloPort = parsed.GetValue(_siloPort);
            options.GatewayPort = parsed.GetValue(_gatewayPort);
            options.Output = parsed.GetValue(_output);
            options.LogLevel = parsed.GetValue(_logLevel);
            options.Dashboard = parsed.GetValue(_dashboard);
            ApplyCluster(parsed, options);
        }

        private static T Parse<T>(ArgumentResult result, TryParser<T> parse, string expected)
        {
            string text = result.Tokens.Count == 1 ? result.Tokens[0].Value : string.Join(' ', result.Tokens.Select(t => t.Value));
            if (result.Tokens.Count == 1 && parse(text, out T value))
            {
                return value;
            }

            string name = (result.Parent as OptionResult)?.Option.Name ?? "argument";
            result.AddError($"{name}: expected {expected} (got '{text}').");
            return default!;
        }
    }
}
