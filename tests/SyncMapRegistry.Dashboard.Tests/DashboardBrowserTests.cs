using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Support.UI;
using SyncMapRegistry.Host.Cluster;

namespace SyncMapRegistry.Dashboard.Tests;

/// <summary>
/// The dashboard as a person sees it: Debian's headless Chromium, driven by Debian's chromedriver, opens the
/// Traces page, a trace that holds a <c>syncmap.promote</c> span, and the Metrics page of the process that
/// exported <c>syncmap.promotions</c>. Screenshots go to the test output folder (<c>artifacts/</c>).
/// </summary>
[Collection(SharedDashboard.Name)]
public sealed class DashboardBrowserTests(DashboardFixture fixture) : IDisposable
{
    private const string Chromium = "/usr/bin/chromium";
    private const string ChromeDriver = "/usr/bin/chromedriver";
    private static readonly TimeSpan PageLimit = TimeSpan.FromSeconds(60);

    private readonly string _profile = Directory.CreateTempSubdirectory("syncmap-chromium-").FullName;
    private ChromeDriver? _driver;

    /// <summary>The folder screenshots are saved to.</summary>
    public static string Artifacts => Path.Combine(AppContext.BaseDirectory, "artifacts");

    [Fact]
    public async Task TheTraceDetailPageShowsTheSyncMapPromoteSpanInsideAnOrleansCall()
    {
        IReadOnlyList<ApiSpan> spans = await fixture.Api.SpansAsync();
        var byId = spans.ToDictionary(s => (s.TraceId, s.SpanId));
        ApiSpan? promote = spans.FirstOrDefault(s =>
            s.Name == SyncMapRegistryTelemetry.Spans.Promote && s.ParentSpanId is { Length: > 0 } parent && byId.ContainsKey((s.TraceId, parent)));
        Assert.True(promote is not null, $"no {SyncMapRegistryTelemetry.Spans.Promote} span inside a call: {fixture.RunOutput}");
        ApiSpan parentSpan = byId[(promote.TraceId, promote.ParentSpanId!)];

        ChromeDriver driver = Browser();

        // The Traces page lists the host's traces.
        driver.Navigate().GoToUrl(new Uri(fixture.Dashboard.Url, "traces"));
        WaitForText(driver, "syncmap-host", "the Traces page");
        Screenshot(driver, "dashboard-traces.png");

        // The detail of the trace shows the promotion and the grain call it ran under.
        driver.Navigate().GoToUrl(new Uri(fixture.Dashboard.Url, $"traces/detail/{promote.TraceId}"));
        WaitForText(driver, SyncMapRegistryTelemetry.Spans.Promote, "the trace detail page");
        WaitForText(driver, parentSpan.Name, "the trace detail page");
        Screenshot(driver, "dashboard-trace.png");
    }

    [Fact]
    public async Task TheMetricsPageOfOneSiloShowsTheSyncMapPromotionsMetricOfThatSilosRegistryOnly()
    {
        // The dashboard's API serves traces and logs, not metrics: the Metrics page is where they show.
        IReadOnlyList<ApiResource> resources = await fixture.Api.ResourcesAsync();
        ApiResource? silo = resources.FirstOrDefault(r => r.HasMetrics && r.InstanceId?.EndsWith("/silo-1", StringComparison.Ordinal) == true);
        Assert.True(silo is not null, $"no silo-1 resource with metrics among {string.Join(", ", resources.Select(r => r.DisplayName))}");

        ChromeDriver driver = Browser();
        driver.Navigate().GoToUrl(new Uri(
            fixture.Dashboard.Url,
            $"metrics/resource/{Uri.EscapeDataString(silo.DisplayName)}?meter={SyncMapRegistryTelemetry.MeterName}&instrument={SyncMapRegistryTelemetry.Instruments.Promotions}"));
        WaitForText(driver, SyncMapRegistryTelemetry.Instruments.Promotions, "the Metrics page");

        // Its data points arrived: the page offers their syncmap.name values as filters, and they are silo-1's maps.
        WaitForText(driver, RegistryWiring.DirectoryCacheName("silo-1"), "the Metrics page");
        Screenshot(driver, "dashboard-metrics.png");
        string shown = driver.FindElement(By.TagName("body")).Text;
        Assert.DoesNotContain(RegistryWiring.DirectoryCacheName("silo-0"), shown, StringComparison.Ordinal);
        Assert.DoesNotContain(RegistryWiring.DirectoryCacheName("silo-2"), shown, StringComparison.Ordinal);
    }

    private ChromeDriver Browser()
    {
        // Without the browser the test is skipped with the reason on a developer's machine (the README's `dotnet test`
        // needs only the SDK), and fails in CI (CI=true): .ci/run installs it, so its absence there is a broken setup.
        if (!File.Exists(Chromium) || !File.Exists(ChromeDriver))
        {
            string why = $"{Chromium} or {ChromeDriver} is missing: install Debian's packages (apt-get install chromium chromium-driver); .ci/run does.";
            Assert.False(string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase), "CI=true, so this test must run. " + why);
            Assert.Skip(why);
        }

        ChromeDriverService service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(ChromeDriver)!, Path.GetFileName(ChromeDriver));
        service.HideCommandPromptWindow = true;
        service.SuppressInitialDiagnosticInformation = true;
        var options = new ChromeOptions { BinaryLocation = Chromium };
        options.AddArguments(
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", "--window-size=1600,1000", $"--user-data-dir={_profile}");
        _driver = new ChromeDriver(service, options, PageLimit);
        return _driver;
    }

    private static void WaitForText(ChromeDriver driver, string text, string where)
    {
        var wait = new WebDriverWait(driver, PageLimit) { PollingInterval = TimeSpan.FromMilliseconds(250) };
        try
        {
            wait.Until(d => d.FindElement(By.TagName("body")).Text.Contains(text, StringComparison.Ordinal));
        }
        catch (WebDriverTimeoutException)
        {
            string shown = driver.FindElement(By.TagName("body")).Text;
            Screenshot(driver, "failed-" + where.Replace(' ', '-') + ".png");
            Assert.Fail($"{where} ({driver.Url}) does not show '{text}' within {PageLimit.TotalSeconds:0} s; it shows:{Environment.NewLine}{shown}");
        }
    }

    private static void Screenshot(ChromeDriver driver, string name)
    {
        Directory.CreateDirectory(Artifacts);
        driver.GetScreenshot().SaveAsFile(Path.Combine(Artifacts, name));
    }

    public void Dispose()
    {
        _driver?.Quit();
        _driver?.Dispose();
        try
        {
            Directory.Delete(_profile, recursive: true);
        }
        catch (IOException)
        {
            // Chromium may still be writing its profile as it exits; the folder is temporary.
        }
    }
}
