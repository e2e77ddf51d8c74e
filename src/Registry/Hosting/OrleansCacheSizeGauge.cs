using System.Reflection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace SyncMapRegistry;

/// <summary>
/// Keeps Orleans' own gauge <c>orleans-directory-cache-size</c> (meter <c>Microsoft.Orleans</c>) reporting with the
/// registry installed: it registers the registry's cache count with the silo's <c>DirectoryInstruments</c>, as Orleans'
/// built-in <c>LruGrainDirectoryCache</c> does for itself. Without this the gauge reads 0, since Orleans registers
/// only its own cache.
/// </summary>
/// <remarks>
/// <c>DirectoryInstruments</c> (Orleans.Core) and its <c>RegisterCacheSizeObserve(Func&lt;int&gt;)</c> are internal to
/// Orleans (10.x): they are reached by reflection, once per silo at start, never on a hot path. Should a later Orleans
/// move them, the silo starts all the same and logs a warning once; the registry's own entries instrument (meter
/// <c>SyncMapRegistry</c>, tagged with the cache's name: docs/telemetry.md) still reports the size (docs/registry.md).
/// </remarks>
internal sealed partial class OrleansCacheSizeGauge(
    IServiceProvider services,
    SyncMapGrainDirectoryCache cache,
    ILogger<OrleansCacheSizeGauge> logger) : IHostedService, IDisposable
{
    /// <summary>Orleans' internal type that owns the gauge, by its assembly-qualified name.</summary>
    internal const string DirectoryInstrumentsType = "Orleans.Runtime.DirectoryInstruments, Orleans.Core";

    /// <summary>Its internal method that adds an observer of the cache size, returning the registration.</summary>
    internal const string RegisterMethod = "RegisterCacheSizeObserve";

    private IDisposable? _registration;

    /// <summary>Whether the cache's count is registered with Orleans' gauge.</summary>
    internal bool Registered => Volatile.Read(ref _registration) is not null;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            Type? type = Type.GetType(DirectoryInstrumentsType, throwOnError: false);
            object? instruments = type is null ? null : services.GetService(type);
            MethodInfo? register = type?.GetMethod(RegisterMethod, BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic, [typeof(Func<int>)]);
            if (instruments is null || register is null || !typeof(IDisposable).IsAssignableFrom(register.ReturnType))
            {
                LogWarningNotRegistered(DirectoryInstrumentsType + "." + RegisterMethod + " not found", null);
                return Task.CompletedTask;
            }

            SyncMapGrainDirectoryCache observed = cache;
            var registration = (IDisposable?)register.Invoke(instruments, [(Func<int>)(() => observed.Count)]);
            if (Interlocked.Exchange(ref _registration, registration) is { } previous)
            {
                previous.Dispose();
            }
        }
        catch (Exception exception) when (exception is TargetInvocationException or MemberAccessException or InvalidOperationException or ArgumentException)
        {
            LogWarningNotRegistered("the registration failed", exception);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() => Interlocked.Exchange(ref _registration, null)?.Dispose();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Orleans' gauge orleans-directory-cache-size will not report the SyncMap registry's cache ({Reason}); watch the registry's own instruments instead")]
    private partial void LogWarningNotRegistered(string reason, Exception? exception);
}
