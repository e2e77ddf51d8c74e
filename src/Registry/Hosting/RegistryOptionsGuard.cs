using Microsoft.Extensions.Options;

namespace SyncMapRegistry;

/// <summary>Validates <see cref="SyncMapRegistryOptions"/> for the registry's maps when they are built outside the options pipeline.</summary>
internal static class RegistryOptionsGuard
{
    /// <summary>Throws what <c>ValidateOnStart</c> would: every failure of <see cref="SyncMapRegistryOptionsValidator"/>, each naming its option.</summary>
    /// <exception cref="OptionsValidationException">When <paramref name="options"/> are invalid.</exception>
    internal static SyncMapRegistryOptions Validated(SyncMapRegistryOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ValidateOptionsResult result = new SyncMapRegistryOptionsValidator().Validate(null, options);
        if (result.Failed)
        {
            throw new OptionsValidationException(nameof(SyncMapRegistryOptions), typeof(SyncMapRegistryOptions), result.Failures);
        }

        return options;
    }
}
