using System.Diagnostics.CodeAnalysis;

namespace SyncMapRegistry;

/// <summary>Throws from a separate method so the hot methods that call it stay small enough to inline.</summary>
internal static class ThrowHelper
{
    [DoesNotReturn]
    internal static void ThrowKeyNull() => throw new ArgumentNullException("key");

    [DoesNotReturn]
    internal static void ThrowKeyNotFound<TKey>(TKey key) =>
        throw new KeyNotFoundException($"The key '{key}' was not present in the map.");
}
