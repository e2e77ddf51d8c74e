using System.Globalization;

namespace SyncMapRegistry.Host.Tests;

/// <summary>Runs the host in this process, on ports nothing else uses, and captures what it prints.</summary>
internal sealed class HostRun
{
    public required HostRunResult Result { get; init; }

    public required string Output { get; init; }

    public required string Error { get; init; }

    public static async Task<HostRun> StartAsync(IReadOnlyDictionary<string, string?>? environment = null, params string[] args)
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
        var output = new StringWriter();
        var error = new StringWriter();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        HostRunResult result = await HostProgram.RunAsync(
            [.. ports, .. args],
            new HostConsole(TextWriter.Synchronized(output), TextWriter.Synchronized(error), IsTerminal: false),
            timeout.Token,
            environment ?? new Dictionary<string, string?>());
        return new HostRun { Result = result, Output = output.ToString(), Error = error.ToString() };
    }
}
