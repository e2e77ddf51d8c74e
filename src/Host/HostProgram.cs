using System.CommandLine;
using Spectre.Console;
using SyncMapRegistry.Host.Dashboard;
using SyncMapRegistry.Host.Reporting;

namespace SyncMapRegistry.Host;

/// <summary>Where the host writes, and whether its standard output is a terminal.</summary>
/// <param name="Out">Progress, STATUS lines and the summary.</param>
/// <param name="Error">Usage errors and failures.</param>
/// <param name="IsTerminal">Whether <paramref name="Out"/> is an interactive terminal (a live display fits).</param>
public sealed record HostConsole(TextWriter Out, TextWriter Error, bool IsTerminal)
{
    /// <summary>The process's console.</summary>
    public static HostConsole System => new(Console.Out, Console.Error, !Console.IsOutputRedirected);
}

/// <summary>
/// A failure the host explains in its own words (a port in use, no cluster to reach): printed as its message alone,
/// without a stack trace, and the host exits with <see cref="HostProgram.ExitFailure"/>.
/// </summary>
public sealed class HostFailedException : Exception
{
    /// <summary>A failure with a message for the person who ran the host.</summary>
    public HostFailedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>A failure with a message for the person who ran the host.</summary>
    public HostFailedException(string message)
        : base(message)
    {
    }

    /// <summary>A failure without a message.</summary>
    public HostFailedException()
    {
    }
}

/// <summary>How a run ended.</summary>
/// <param name="ExitCode">0 when the run completed or was stopped by Ctrl+C, 1 on failure, 2 on a bad argument.</param>
/// <param name="Summary">The run's summary, or <c>null</c> when no run took place.</param>
public sealed record HostRunResult(int ExitCode, RunSummary? Summary);

/// <summary>
/// The host's entry point: binds the settings (<see cref="HostSettings"/>), then runs (<see cref="HostRunner"/>).
/// <c>Program</c> and the tests both call <see cref="RunAsync"/>.
/// </summary>
public static class HostProgram
{
    /// <summary>The run completed, or Ctrl+C stopped it.</summary>
    public const int ExitSuccess = 0;

    /// <summary>The run failed.</summary>
    public const int ExitFailure = 1;

    /// <summary>An argument or setting was invalid; nothing ran.</summary>
    public const int ExitUsage = 2;

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
        ParseResult parsed = HostSettings.CreateCommand().Parse([.. args]);
        if (parsed.Errors.Count > 0)
        {
            return Usage(console, parsed.Errors.Select(e => e.Message));
        }

        // Only --help and --version carry an action; a run has none.
        if (parsed.Action is not null)
        {
            int code = await parsed.InvokeAsync(new InvocationConfiguration { Output = console.Out, Error = console.Error }, cancellationToken);
            return new HostRunResult(code, null);
        }

        var errors = new List<string>();
        if (HostSettings.Bind(parsed, environment, errors) is not { } options)
        {
            return Usage(console, errors);
        }

        try
        {
            var runner = new HostRunner(options, CreateReporter(options, console), console.Out, TimeProvider.System);
            RunSummary summary = options.Dashboard
                ? await DashboardRun.RunAsync(console, endpoint => { options.OtlpEndpoint = endpoint; return runner.RunAsync(cancellationToken); }, cancellationToken)
                : await runner.RunAsync(cancellationToken);
            return new HostRunResult(ExitSuccess, summary);
        }
        catch (HostFailedException exception)
        {
            await console.Error.WriteLineAsync($"error: {exception.Message}");
            return new HostRunResult(ExitFailure, null);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            await console.Error.WriteLineAsync($"error: the host failed: {exception}");
            return new HostRunResult(ExitFailure, null);
        }
    }

    /// <summary>A live table on a terminal, unless STATUS lines are asked for (they do not mix); plain lines otherwise.</summary>
    private static IRunReporter CreateReporter(HostOptions options, HostConsole console)
    {
        bool live = options.Output == OutputMode.Live || (options.Output == OutputMode.Auto && console.IsTerminal && options.StatusInterval == TimeSpan.Zero);
        if (!live)
        {
            return new PlainReporter(console.Out);
        }

        IAnsiConsole ansi = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(console.Out),
            Ansi = AnsiSupport.Detect,
            ColorSystem = ColorSystemSupport.Detect,
            Interactive = InteractionSupport.Yes,
        });
        return new LiveReporter(ansi, console.Out);
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
}
