using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Runtime.GrainDirectory;

namespace SyncMapRegistry.OrleansTests;

public sealed class OptionsAndRegistrationTests(ITestOutputHelper output)
{
    [Fact]
    public void AddSyncMapRegistryTwiceRegistersEachServiceOnce()
    {
        var services = new ServiceCollection();
        services.AddSyncMapRegistry();
        services.AddSyncMapRegistry(options => options.MaxEntries = 5);

        Assert.Single(services, d => d.ServiceType == typeof(IGrainDirectoryCache));
        Assert.Single(services, d => d.ServiceType == typeof(SyncMapGrainDirectoryCache));
        Assert.Single(services, d => d.ServiceType == typeof(LocalActivationIndex));
        Assert.Single(services, d => d.ServiceType == typeof(ISyncMapRegistry));
        Assert.Single(services, d => d.ServiceType == typeof(IActivationWorkingSetObserver));
        Assert.Single(services, d => d.ServiceType == typeof(IHostedService) && d.ImplementationType == typeof(SyncMapRegistryMaintenanceService));
        Assert.Single(services, d => d.ServiceType == typeof(IValidateOptions<SyncMapRegistryOptions>));
        Assert.Single(services, d => d.ServiceType == typeof(IValidateOptions<GrainDirectoryOptions>));
        Assert.Single(services, d => d.ServiceType == typeof(IPostConfigureOptions<GrainDirectoryOptions>));

        using ServiceProvider provider = services.BuildServiceProvider();
        Assert.Equal(5, provider.GetRequiredService<IOptions<SyncMapRegistryOptions>>().Value.MaxEntries);
        Assert.Equal(5, provider.GetRequiredService<SyncMapGrainDirectoryCache>().MaxEntries);
    }

    [Fact]
    public void TheCacheFromDiIsTheOneOrleansFactoryReturnsAndTheStrategyIsForcedToCustom()
    {
        var services = new ServiceCollection();
        services.Configure<GrainDirectoryOptions>(options => options.CachingStrategy = GrainDirectoryOptions.CachingStrategyType.LRU);
        services.AddSyncMapRegistry(options => options.Name = "di-test");
        services.Configure<GrainDirectoryOptions>(options => options.CachingStrategy = GrainDirectoryOptions.CachingStrategyType.LRU);
        using ServiceProvider provider = services.BuildServiceProvider();

        GrainDirectoryOptions directoryOptions = provider.GetRequiredService<IOptions<GrainDirectoryOptions>>().Value;
        Assert.Equal(GrainDirectoryOptions.CachingStrategyType.Custom, directoryOptions.CachingStrategy);
        IGrainDirectoryCache fromFactory = GrainDirectoryCacheFactory.CreateGrainDirectoryCache(provider, directoryOptions);
        SyncMapGrainDirectoryCache cache = Assert.IsType<SyncMapGrainDirectoryCache>(fromFactory);
        Assert.Same(cache, provider.GetRequiredService<ISyncMapRegistry>().DirectoryCache);
        Assert.Same(provider.GetRequiredService<LocalActivationIndex>(), provider.GetRequiredService<IActivationWorkingSetObserver>());
        Assert.Equal("di-test", cache.Name);
    }

    [Fact]
    public void TheValidatorReportsEveryFailureNamingTheOption()
    {
        ValidateOptionsResult result = new SyncMapRegistryOptionsValidator().Validate(null, new SyncMapRegistryOptions
        {
            MaxEntries = 0,
            PurgeInterval = TimeSpan.Zero,
            Name = " ",
            LocalActivationsName = "",
        });

        Assert.True(result.Failed);
        Assert.Collection(
            result.Failures!,
            failure => Assert.StartsWith("SyncMapRegistryOptions.MaxEntries: ", failure, StringComparison.Ordinal),
            failure => Assert.StartsWith("SyncMapRegistryOptions.PurgeInterval: ", failure, StringComparison.Ordinal),
            failure => Assert.StartsWith("SyncMapRegistryOptions.Name: ", failure, StringComparison.Ordinal),
            failure => Assert.StartsWith("SyncMapRegistryOptions.LocalActivationsName: ", failure, StringComparison.Ordinal));
    }

    [Fact]
    public void TheValidatorAcceptsTheDefaultsAndRejectsEqualNames()
    {
        var validator = new SyncMapRegistryOptionsValidator();
        Assert.True(validator.Validate(null, new SyncMapRegistryOptions()).Succeeded);
        ValidateOptionsResult sameNames = validator.Validate(null, new SyncMapRegistryOptions { LocalActivationsName = SyncMapRegistryOptions.DefaultName });
        Assert.StartsWith("SyncMapRegistryOptions.LocalActivationsName: ", Assert.Single(sameNames.Failures!), StringComparison.Ordinal);
    }

    [Fact]
    public void TheCacheRejectsInvalidOptions()
    {
        var exception = Assert.Throws<OptionsValidationException>(() => new SyncMapGrainDirectoryCache(new SyncMapRegistryOptions { MaxEntries = -1 }));
        Assert.Contains("SyncMapRegistryOptions.MaxEntries: ", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheCapIsMaxEntriesWhenSetAndElseTheGrainDirectoryCacheSize()
    {
        static int CapOf(Action<IServiceCollection> configure)
        {
            var services = new ServiceCollection();
            configure(services);
            using ServiceProvider provider = services.BuildServiceProvider();
            return provider.GetRequiredService<SyncMapGrainDirectoryCache>().MaxEntries;
        }

        Assert.Equal(new GrainDirectoryOptions().CacheSize, CapOf(services => services.AddSyncMapRegistry()));
        Assert.Equal(500, CapOf(services => services.AddSyncMapRegistry().Configure<GrainDirectoryOptions>(o => o.CacheSize = 500)));
        Assert.Equal(700, CapOf(services => services
            .Configure<GrainDirectoryOptions>(o => o.CacheSize = 500)
            .AddSyncMapRegistry(options => options.MaxEntries = 700)));
    }

    [Fact]
    public async Task APurgeIntervalBelowATimersResolutionFailsTheSilosStartNamingTheOption()
    {
        OptionsValidationException exception = await StartSiloExpectingFailureAsync(silo =>
            silo.UseSyncMapRegistry(options => options.PurgeInterval = TimeSpan.FromTicks(5_000)));
        output.WriteLine(exception.Message);
        Assert.Contains("SyncMapRegistryOptions.PurgeInterval: must be at least 00:00:00.0010000", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACapOfZeroFailsTheSilosStartNamingTheOption()
    {
        OptionsValidationException exception = await StartSiloExpectingFailureAsync(silo =>
            silo.Services.AddSyncMapRegistry(options => options.MaxEntries = 0));
        output.WriteLine(exception.Message);
        Assert.Contains("SyncMapRegistryOptions.MaxEntries: must be positive when set, but is 0.", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AZeroPurgeIntervalFailsTheSilosStartNamingTheOption()
    {
        OptionsValidationException exception = await StartSiloExpectingFailureAsync(silo =>
            silo.UseSyncMapRegistry(options => options.PurgeInterval = TimeSpan.Zero));
        Assert.Contains("SyncMapRegistryOptions.PurgeInterval: ", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ANonPositiveDirectoryCacheSizeFailsTheSilosStartNamingTheOption()
    {
        OptionsValidationException exception = await StartSiloExpectingFailureAsync(silo =>
            silo.Configure<GrainDirectoryOptions>(options => options.CacheSize = 0));
        Assert.Contains("GrainDirectoryOptions.CacheSize: must be positive", exception.Message, StringComparison.Ordinal);
    }

    /// <summary>Builds a real silo host with the registry, spoils it, and starts it.</summary>
    private static async Task<OptionsValidationException> StartSiloExpectingFailureAsync(Action<ISiloBuilder> spoil)
    {
        int port = FreePorts.Range(2);
        using IHost host = GenericHostCluster.BuildSilo(
            port, port + 1, new IPEndPoint(IPAddress.Loopback, port), "invalid-" + Guid.NewGuid().ToString("N")[..8], spoil);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        // Validation runs before any hosted service starts, so the silo never came up: disposing is enough.
        return await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(timeout.Token));
    }
}
