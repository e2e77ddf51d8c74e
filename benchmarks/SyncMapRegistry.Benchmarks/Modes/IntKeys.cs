using System.Runtime.CompilerServices;

namespace SyncMapRegistry.Benchmarks.Modes;

/// <summary>
/// How <c>churn</c> (<c>--keys</c>) and <c>hits</c> (<c>--int-keys</c>) turn the numbers 0, 1, 2... into distinct int keys.
/// An int's hash code is the int, so the choice decides how the maps see the keys' hash codes:
/// <list type="bullet">
/// <item><see cref="Sequential"/>: the numbers themselves, ConcurrentDictionary's best case (one key a bucket, nodes
///   visited in memory order) and a multiplicative hash's too.</item>
/// <item><see cref="Scattered"/>: the numbers times an odd constant. Spread over the ints, but an arithmetic
///   progression: ConcurrentDictionary's prime-modulus buckets take it in their stride, while a multiplicative hash
///   (the map's Fibonacci hashing) sees a multiplication by one other constant, which places them unevenly (about
///   2.2 probes a hit in a table at most half full, against 1.5 for random hash codes).</item>
/// <item><see cref="Mixed"/>: the numbers through MurmurHash3's 32-bit finalizer, a bijection of the ints whose outputs
///   look random: hash codes as a grain's are (<c>GrainId</c>'s come from <see cref="HashCode.Combine{T1, T2}"/>).</item>
/// </list>
/// </summary>
internal enum IntKeyKind
{
    Sequential,
    Scattered,
    Mixed,
}

internal static class IntKeys
{
    /// <summary>The odd multiplier of <see cref="IntKeyKind.Scattered"/>: a bijection of the ints, unrelated to the maps' own mixes.</summary>
    private const int Scatter = 0x2545F491;

    /// <summary>The kinds' names on the command line and in the tables, in <see cref="IntKeyKind"/>'s order.</summary>
    private static readonly string[] Names = ["sequential", "scattered", "mixed"];

    /// <summary>The kind named by <c>--<paramref name="option"/></c>: sequential (the default), scattered or mixed.</summary>
    internal static IntKeyKind Parse(ModeArguments arguments, string option) => (IntKeyKind)Array.IndexOf(Names, arguments.OneOf(option, Names));

    /// <summary>The name of a kind, as the tables print it.</summary>
    internal static string Describe(IntKeyKind kind) => Names[(int)kind];

    /// <summary>
    /// The key numbered <paramref name="n"/>: distinct numbers give distinct keys, whatever the kind. Inlined into the
    /// timed loops of both peers alike (a predictable branch on the kind, and the kind's arithmetic).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int Of(int n, IntKeyKind kind) => kind switch
    {
        IntKeyKind.Scattered => unchecked(n * Scatter),
        IntKeyKind.Mixed => Mix(n),
        _ => n,
    };

    /// <summary>MurmurHash3's fmix32: each step (xor with a right shift, multiplication by an odd constant) is invertible.</summary>
    private static int Mix(int n)
    {
        uint h = unchecked((uint)n);
        h ^= h >> 16;
        h = unchecked(h * 0x85EBCA6B);
        h ^= h >> 13;
        h = unchecked(h * 0xC2B2AE35);
        h ^= h >> 16;
        return unchecked((int)h);
    }
}
