using System.Globalization;

namespace SyncMapRegistry.Host.Tests;

/// <summary>Runs the host in this process, on ports nothing else uses, and captures what it prints.</summary>
internal sealed class HostRun
{
    public required HostRunResult Result { get; init; }

    public required string Output { get; init; }

    public required string Error { get; init; }

    public static Task<HostRun> StartAsync(IReadOnlyDictionary<string, string?>? environment = null, params string[] args) =>
        StartAsync(environment, cancelWhen: null, args);

    /// <summary>Runs the host; <paramref name="cancelWhen"/> cancels the run (as Ctrl+C does) once a line it prints matches.</summary>
    public static async Task<HostRun> StartAsync(IReadOnlyDictionary<string, string?>? environment, Func<string, bool>? cancelWhen, params string[] args)
    {
        int silos = 3;
        for (int i = 0; i + 1 < args.Length; i++)
        {
            if (args[i] == "--silos" && int.TryParse(args[i + 1], out int n) && n > 0)
            {
                silos = n;
            }
        }

        string[] ports = ["--silo-port", FreePorts.Range(silos).ToString(CultureInfo.InvariantCulture), "--gateway-port", FreePorts.Range(silos).ToString(CultureInfo.InvariantCulture), "--output", "plain"];
        var error = new StringWriter();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var output = new WatchingWriter(line =>
        {
            if (cancelWhen?.Invoke(line) == true)
            {
                timeout.Cancel();
            }
        });
        HostRunResult result = await HostProgram.RunAsync(
            [.. ports, .. args],
            new HostConsole(TextWriter.Synchronized(output), TextWriter.Synchronized(error), IsTerminal: false),
            timeout.Token,
            environment ?? new Dictionary<string, string?>());
        return new HostRun { Result = result, Output = output.ToString(), Error = error.ToString() };
    }
}

/// <summary>A string writer that shows each line written to a callback.</summary>
internal sealed class WatchingWriter(Action<string> onLine) : StringWriter(CultureInfo.InvariantCulture)
{
    public override void WriteLine(string? value)
    {
        base.WriteLine(value);
        onLine(value ?? "");
    }
}
