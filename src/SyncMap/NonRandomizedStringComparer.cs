using System.Numerics;
using System.Runtime.InteropServices;

namespace SyncMapRegistry;

/// <summary>
/// Ordinal string equality with a fast hash that is the same in every process, as the BCL's own dictionaries use
/// for string keys until collisions grow (dotnet/runtime #81557). A map that uses it switches to the randomized
/// default comparer, rehashing once, as soon as one probe sequence grows long (<see cref="SyncMap{TKey, TValue}"/>),
/// so crafted colliding keys cost one rehash and no more.
/// </summary>
internal sealed class NonRandomizedStringComparer : IEqualityComparer<string>
{
    internal static readonly NonRandomizedStringComparer Instance = new();

    private NonRandomizedStringComparer()
    {
    }

    public bool Equals(string? x, string? y) => string.Equals(x, y, StringComparison.Ordinal);

    public int GetHashCode(string obj) => Hash(obj);

    /// <summary>Two interleaved djb2-style lanes over the string's 32-bit pairs of chars, then the odd char if any. Called directly by the read path.</summary>
    internal static int Hash(string obj)
    {
        ReadOnlySpan<char> chars = obj;
        ReadOnlySpan<uint> pairs = MemoryMarshal.Cast<char, uint>(chars);
        uint hash1 = (5381 << 16) + 5381;
        uint hash2 = hash1;
        int i = 0;
        for (; i + 1 < pairs.Length; i += 2)
        {
            hash1 = (BitOperations.RotateLeft(hash1, 5) + hash1) ^ pairs[i];
            hash2 = (BitOperations.RotateLeft(hash2, 5) + hash2) ^ pairs[i + 1];
        }

        if (i < pairs.Length)
        {
            hash1 = (BitOperations.RotateLeft(hash1, 5) + hash1) ^ pairs[i];
        }

        if ((chars.Length & 1) != 0)
        {
            hash2 = (BitOperations.RotateLeft(hash2, 5) + hash2) ^ chars[^1];
        }

        return (int)(hash1 + (hash2 * 1_566_083_941));
    }
}
