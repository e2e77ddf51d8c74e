using System.Numerics;
using System.Runtime.CompilerServices;
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

    /// <summary>
    /// Two interleaved djb2-style lanes over the string's 32-bit pairs of chars, then the odd char if any. Called
    /// directly by the read path. The pairs are read through a reference, without bounds checks: the loop's
    /// condition keeps every read within the string.
    /// </summary>
    internal static int Hash(string obj)
    {
        ref uint pairs = ref Unsafe.As<char, uint>(ref MemoryMarshal.GetReference(obj.AsSpan()));
        int pairCount = obj.Length >> 1;
        uint hash1 = (5381 << 16) + 5381;
        uint hash2 = hash1;
        int i = 0;
        for (; i + 1 < pairCount; i += 2)
        {
            hash1 = (BitOperations.RotateLeft(hash1, 5) + hash1) ^ Unsafe.Add(ref pairs, i);
            hash2 = (BitOperations.RotateLeft(hash2, 5) + hash2) ^ Unsafe.Add(ref pairs, i + 1);
        }

        if (i < pairCount)
        {
            hash1 = (BitOperations.RotateLeft(hash1, 5) + hash1) ^ Unsafe.Add(ref pairs, i);
        }

        if ((obj.Length & 1) != 0)
        {
            hash2 = (BitOperations.RotateLeft(hash2, 5) + hash2) ^ obj[^1];
        }

        return (int)(hash1 + (hash2 * 1_566_083_941));
    }
}
