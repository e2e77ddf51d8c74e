namespace SyncMapRegistry.Host.Tests;

public sealed class HostArgumentTests
{
    [Theory]
    [InlineData("--silos", "abc", "--silos")]
    [InlineData("--silos", "0", "--silos")]
    [InlineData("--grains", "-5", "--grains")]
    [InlineData("--read-ratio", "1.5", "--read-ratio")]
    [InlineData("--duration", "soon", "--duration")]
    [InlineData("--otlp-endpoint", "not-a-uri", "--otlp-endpoint")]
    [InlineData("--directory-cache", "redis", "--directory-cache")]
    [InlineData("--clustering", "etcd", "--clustering")]
    [InlineData("--status-interval", "1ms", "--status-interval")]
    [InlineData("--advertised-address", "0.0.0.0", "--advertised-address")]
    [InlineData("--bogus", "1", "--bogus")]
    [InlineData("--popularity", "zipf", "--popularity")]
    [InlineData("--popularity", "zipf:0", "--popularity")]
    [InlineData("--popularity", "zipf:-1", "--popularity")]
    [InlineData("--popularity", "zipf:11", "--popularity")]
    [InlineData("--popularity", "pareto:1", "--popularity")]
    [InlineData("--cache-size", "0", "--cache-size")]
    [InlineData("--cache-size", "lots", "--cache-size")]
    [InlineData("--connect-timeout", "0", "--connect-timeout")]
    [InlineData("--warm-up", "2h", "--warm-up")]
    public async Task ABadArgumentExitsWith2AndNamesTheOption(string option, string value, string named)
    {
        (HostRunResult result, _, string error) = await RunAsync([option, value]);

        Assert.Equal(HostProgram.ExitUsage, result.ExitCode);
        Assert.Null(result.Summary);
        Assert.Contains(named, error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EveryBadSettingIsReportedAtOnce()
    {
        (HostRunResult result, _, string error) = await RunAsync(["--silos", "x", "--grains", "y", "--duration", "z"]);

        Assert.Equal(HostProgram.ExitUsage, result.ExitCode);
        Assert.Contains("--silos (SyncMapHost:Silos): cannot read 'x' as integer", error, StringComparison.Ordinal);
        Assert.Contains("--grains (SyncMapHost:Grains): cannot read 'y' as integer", error, StringComparison.Ordinal);
        Assert.Contains("--duration (SyncMapHost:Duration): cannot read 'z' as duration", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ABadEnvironmentVariableExitsWith2AndNamesTheOption()
    {
        (HostRunResult result, _, string error) = await RunAsync([], new() { ["SyncMapHost__ReadRatio"] = "2" });

        Assert.Equal(HostProgram.ExitUsage, result.ExitCode);
        Assert.Contains("--read-ratio: must be between 0 and 1 (got 2)", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheCommandLineWinsOverTheEnvironment()
    {
        (HostRunResult result, _, string error) = await RunAsync(["--silos", "99"], new() { ["SyncMapHost__Silos"] = "0", ["SyncMapHost__Grains"] = "0" });

        Assert.Equal(HostProgram.ExitUsage, result.ExitCode);
        Assert.Contains("--silos: must be between 1 and 16 (got 99)", error, StringComparison.Ordinal);
        Assert.Contains("--grains: must be between 1 and 10000000 (got 0)", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HelpListsEveryOptionAndExits0()
    {
        (HostRunResult result, string output, _) = await RunAsync(["--help"]);

        Assert.Equal(HostProgram.ExitSuccess, result.ExitCode);
        foreach (string option in new[] { "--silos", "--grains", "--duration", "--read-ratio", "--directory-cache", "--popularity", "--cache-size", "--churn", "--role", "--connect-timeout", "--status-interval", "--otlp-endpoint", "--dashboard" })
        {
            Assert.Contains(option, output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task ABadPopularitySaysWhatItAccepts()
    {
        (HostRunResult result, _, string error) = await RunAsync(["--popularity", "zipf:x"]);

        Assert.Equal(HostProgram.ExitUsage, result.ExitCode);
        Assert.Contains("--popularity: must be 'uniform' or 'zipf:S' with S a number above 0 and at most 10 (got 'zipf:x')", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("uniform", null)]
    [InlineData(" Uniform ", null)]
    [InlineData("zipf:0.9", 0.9)]
    [InlineData("ZIPF:1.2", 1.2)]
    [InlineData("zipf:10", 10.0)]
    [InlineData("zipf:1e-3", 0.001)]
    public void PopularityReadsUniformAndZipf(string text, double? exponent)
    {
        Assert.True(Popularity.TryParse(text, out Popularity? popularity));
        Assert.Equal(exponent, popularity.Value.ZipfExponent);
        Assert.True(Popularity.TryParse(popularity.Value.ToString(), out Popularity? again), "ToString must read back");
        Assert.Equal(popularity, again);
    }

    [Theory]
    [InlineData("30", 30_000)]
    [InlineData("2.5s", 2_500)]
    [InlineData("500ms", 500)]
    [InlineData("2m", 120_000)]
    [InlineData("00:00:45", 45_000)]
    public void DurationsReadInEveryDocumentedForm(string text, int milliseconds)
    {
        Assert.True(HostSettings.TryParseDuration(text, out TimeSpan duration));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), duration);
    }

    /// <summary>
    /// Runs the host's entry point, not on a terminal, with these environment variables (none by default) instead of
    /// the process's; returns its result and what it printed to standard output and standard error.
    /// </summary>
    private static async Task<(HostRunResult Result, string Output, string Error)> RunAsync(string[] args, Dictionary<string, string?>? environment = null)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        HostRunResult result = await HostProgram.RunAsync(args, new HostConsole(output, error, IsTerminal: false), CancellationToken.None, environment ?? new Dictionary<string, string?>());
        return (result, output.ToString(), error.ToString());
    }
}
