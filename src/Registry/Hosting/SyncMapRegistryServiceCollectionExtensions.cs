using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Runtime.GrainDirectory;
using SyncMapRegistry;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the SyncMap grain registry in a silo's services.</summary>
public static class SyncMapRegistryServiceCollectionExtensions
{
    /// <summary>
    /// Makes the silo's grain directory cache a <see cref="SyncMapGrainDirectoryCache"/> and adds the
    /// <see cref="LocalActivationIndex"/>, <see cref="ISyncMapRegistry"/> and the registry's maintenance service, and
    /// feeds Orleans' own gauge <c>orleans-directory-cache-size</c> with the cache's count.
    /// Sets <see cref="GrainDirectoryOptions.CachingStrategy"/> to <see cref="GrainDirectoryOptions.CachingStrategyType.Custom"/>,
    /// and validates <see cref="SyncMapRegistryOptions"/> and <see cref="GrainDirectoryOptions.CacheSize"/> when the host starts.
    /// The cache's cap is <see cref="SyncMapRegistryOptions.MaxEntries"/> when set, else <see cref="GrainDirectoryOptions.CacheSize"/>.
    /// The registry's maps and instruments take the silo's <see cref="IMeterFactory"/> from the services (Orleans registers
    /// one per silo), so each silo's <c>SyncMapRegistry</c> meter reports only that silo's registry.
    /// Idempotent: a second call registers nothing twice (its <paramref name="configure"/> still applies).
    /// Works as <c>UseOrleans(silo =&gt; silo.Services.AddSyncMapRegistry())</c>.
    /// </summary>
    /// <param name="services">The silo's services.</param>
    /// <param name="configure">Configures the registry's options; <c>null</c> for the defaults.</param>
    /// <returns><paramref name="services"/>, so calls chain.</returns>
    public static IServiceCollection AddSyncMapRegistry(this IServiceCollection services, Action<SyncMapRegistryOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);

        services.AddOptions<SyncMapRegistryOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SyncMapRegistryOptions>, SyncMapRegistryOptionsValidator>());
        services.AddOptions<GrainDirectoryOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IPostConfigureOptions<GrainDirectoryOptions>, UseCustomGrainDirectoryCache>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<GrainDirectoryOptions>, GrainDirectoryOptionsValidator>());

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(static sp => new SyncMapGrainDirectoryCache(
            sp.GetRequiredService<IOptions<SyncMapRegistryOptions>>().Value,
            sp.GetRequiredService<IOptions<GrainDirectoryOptions>>().Value,
            sp.GetService<TimeProvider>(),
            sp.GetService<ILogger<SyncMapGrainDirectoryCache>>(),
            meterFactory: sp.GetService<IMeterFactory>()));
        services.TryAddSingleton<IGrainDirectoryCache>(static sp => sp.GetRequiredService<SyncMapGrainDirectoryCache>());
        services.TryAddSingleton(static sp => new LocalActivationIndex(
            sp.GetRequiredService<IOptions<SyncMapRegistryOptions>>().Value,
            sp.GetService<ILogger<LocalActivationIndex>>(),
            meterFactory: sp.GetService<IMeterFactory>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IActivationWorkingSetObserver, LocalActivationIndex>(static sp => sp.GetRequiredService<LocalActivationIndex>()));
        services.TryAddSingleton<ISyncMapRegistry, SyncMapGrainRegistry>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, SyncMapRegistryMaintenanceService>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, OrleansCacheSizeGauge>());

        if (configure is not null)
        {
            services.Configure(configure);
        }

        return services;
    }

    /// <summary>Points Orleans' <c>GrainDirectoryCacheFactory</c> at the cache in DI, whatever was configured before.</summary>
    private sealed class UseCustomGrainDirectoryCache : IPostConfigureOptions<GrainDirectoryOptions>
    {
        public void PostConfigure(string? name, GrainDirectoryOptions options) =>
            options.CachingStrategy = GrainDirectoryOptions.CachingStrategyType.Custom;
    }

    /// <summary>Fails the start when Orleans would not use the registry's cache.</summary>
    private sealed class GrainDirectoryOptionsValidator : IValidateOptions<GrainDirectoryOptions>
    {
        public ValidateOptionsResult Validate(string? name, GrainDirectoryOptions options)
        {
            List<string>? failures = null;
            if (options.CacheSize <= 0)
            {
                (failures ??= []).Add($"{nameof(GrainDirectoryOptions)}.{nameof(GrainDirectoryOptions.CacheSize)}: must be positive for the SyncMap registry to be used (Orleans caches nothing when it is 0 or less), but is {options.CacheSize}.");
            }

            if (options.CachingStrategy != GrainDirectoryOptions.CachingStrategyType.Custom)
            {
                (failures ??= []).Add($"{nameof(GrainDirectoryOptions)}.{nameof(GrainDirectoryOptions.CachingStrategy)}: must be {nameof(GrainDirectoryOptions.CachingStrategyType.Custom)} for the SyncMap registry to be used, but is {options.CachingStrategy}.");
            }

            return failures is null ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
        }
    }
}
