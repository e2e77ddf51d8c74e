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
    public async Task ABadArgumentExitsWith2AndNamesTheOption(string option, string value, string named)
    {
        var error = new StringWriter();

        HostRunResult result = await HostProgram.RunAsync([option, value], new HostConsole(new StringWriter(), error, false), CancellationToken.None, new Dictionary<string, string?>());

        Assert.Equal(HostProgram.ExitUsage, result.ExitCode);
        Assert.Null(result.Summary);
        Assert.Contains(named, error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task EveryBadSettingIsReportedAtOnce()
    {
        var error = new StringWriter();

        HostRunResult result = await HostProgram.RunAsync(["--silos", "x", "--grains", "y", "--duration", "z"], new HostConsole(new StringWriter(), error, false), CancellationToken.None, new Dictionary<string, string?>());

        Assert.Equal(HostProgram.ExitUsage, result.ExitCode);
        Assert.Contains("--silos (SyncMapHost:Silos): cannot read 'x' as integer", error.ToString(), StringComparison.Ordinal);
        Assert.Contains("--grains (SyncMapHost:Grains): cannot read 'y' as integer", error.ToString(), StringComparison.Ordinal);
        Assert.Contains("--duration (SyncMapHost:Duration): cannot read 'z' as duration", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ABadEnvironmentVariableExitsWith2AndNamesTheOption()
    {
        var error = new StringWriter();
        var environment = new Dictionary<string, string?> { ["SyncMapHost__ReadRatio"] = "2" };

        HostRunResult result = await HostProgram.RunAsync([], new HostConsole(new StringWriter(), error, false), CancellationToken.None, environment);

        Assert.Equal(HostProgram.ExitUsage, result.ExitCode);
        Assert.Contains("--read-ratio: must be between 0 and 1 (got 2)", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheCommandLineWinsOverTheEnvironment()
    {
        var error = new StringWriter();
        var environment = new Dictionary<string, string?> { ["SyncMapHost__Silos"] = "0", ["SyncMapHost__Grains"] = "0" };

        HostRunResult result = await HostProgram.RunAsync(["--silos", "99"], new HostConsole(new StringWriter(), error, false), CancellationToken.None, environment);

        Assert.Equal(HostProgram.ExitUsage, result.ExitCode);
        Assert.Contains("--silos: must be between 1 and 16 (got 99)", error.ToString(), StringComparison.Ordinal);
        Assert.Contains("--grains: must be between 1 and 10000000 (got 0)", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task HelpListsEveryOptionAndExits0()
    {
        var output = new StringWriter();

        HostRunResult result = await HostProgram.RunAsync(["--help"], new HostConsole(output, new StringWriter(), false), CancellationToken.None, new Dictionary<string, string?>());

        Assert.Equal(HostProgram.ExitSuccess, result.ExitCode);
        foreach (string option in new[] { "--silos", "--grains", "--duration", "--read-ratio", "--directory-cache", "--churn", "--role", "--status-interval", "--otlp-endpoint", "--dashboard" })
        {
            Assert.Contains(option, output.ToString(), StringComparison.Ordinal);
        }
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
}
