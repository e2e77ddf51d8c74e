using Microsoft.Extensions.Options;

namespace SyncMapRegistry;

/// <summary>
/// Validates <see cref="SyncMapRegistryOptions"/>. Reports every failure at once, each as
/// <c>SyncMapRegistryOptions.Property: reason</c>, so a misconfigured silo says exactly what is wrong.
/// </summary>
public sealed class SyncMapRegistryOptionsValidator : IValidateOptions<SyncMapRegistryOptions>
{
    /// <inheritdoc/>
    public ValidateOptionsResult Validate(string? name, SyncMapRegistryOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        List<string>? failures = null;
        if (options.MaxEntries is <= 0)
        {
            Fail(ref failures, nameof(SyncMapRegistryOptions.MaxEntries), $"must be positive when set, but is {options.MaxEntries}.");
        }

        if (options.PurgeInterval < SyncMapRegistryOptions.MinPurgeInterval || options.PurgeInterval > SyncMapRegistryOptions.MaxPurgeInterval)
        {
            Fail(ref failures, nameof(SyncMapRegistryOptions.PurgeInterval), $"must be at least {SyncMapRegistryOptions.MinPurgeInterval} and at most {SyncMapRegistryOptions.MaxPurgeInterval}, but is {options.PurgeInterval}.");
        }

        if (string.IsNullOrWhiteSpace(options.Name))
        {
            Fail(ref failures, nameof(SyncMapRegistryOptions.Name), "must not be empty.");
        }

        if (string.IsNullOrWhiteSpace(options.LocalActivationsName))
        {
            Fail(ref failures, nameof(SyncMapRegistryOptions.LocalActivationsName), "must not be empty.");
        }
        else if (string.Equals(options.LocalActivationsName, options.Name, StringComparison.Ordinal))
        {
            Fail(ref failures, nameof(SyncMapRegistryOptions.LocalActivationsName), $"must differ from {nameof(SyncMapRegistryOptions.Name)} ('{options.Name}'), or the two maps' telemetry cannot be told apart.");
        }

        return failures is null ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Fail(ref List<string>? failures, string property, string reason) =>
        (failures ??= []).Add($"{nameof(SyncMapRegistryOptions)}.{property}: {reason}");
}
