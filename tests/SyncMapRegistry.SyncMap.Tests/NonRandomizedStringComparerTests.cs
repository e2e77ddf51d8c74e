using System.Numerics;

namespace SyncMapRegistry.Tests.SyncMap;

public sealed class NonRandomizedStringComparerTests
{
    [Fact]
    public void TheHashReadsEveryCharAndNoCharPastTheStringAtEveryLength()
    {
        // The hash reads pairs of chars through a reference, without bounds checks: compare it with the same
        // algorithm written with indexes, at every length around the loop's steps, and check that each char
        // (the last, odd one included) moves it.
        for (int length = 0; length <= 40; length++)
        {
            string text = new([.. Enumerable.Range(0, length).Select(i => (char)('a' + (i * 7 % 26)))]);
            Assert.Equal(Reference(text), NonRandomizedStringComparer.Instance.GetHashCode(text));
            for (int position = 0; position < length; position++)
            {
                char[] changed = text.ToCharArray();
                changed[position] = 'Z';
                Assert.NotEqual(NonRandomizedStringComparer.Instance.GetHashCode(text), NonRandomizedStringComparer.Instance.GetHashCode(new string(changed)));
            }
        }
    }

    private static int Reference(string text)
    {
        uint hash1 = (5381 << 16) + 5381;
        uint hash2 = hash1;
        int pairs = text.Length / 2;
        int i = 0;
        for (; i + 1 < pairs; i += 2)
        {
            hash1 = (BitOperations.RotateLeft(hash1, 5) + hash1) ^ Pair(text, i);
            hash2 = (BitOperations.RotateLeft(hash2, 5) + hash2) ^ Pair(text, i + 1);
        }

        if (i < pairs)
        {
            hash1 = (BitOperations.RotateLeft(hash1, 5) + hash1) ^ Pair(text, i);
        }

        if (text.Length % 2 == 1)
        {
            hash2 = (BitOperations.RotateLeft(hash2, 5) + hash2) ^ text[^1];
        }

        return (int)(hash1 + (hash2 * 1_566_083_941));
    }

    /// <summary>Pair <paramref name="index"/> as a little-endian 32-bit word: the first char in the low half.</summary>
    private static uint Pair(string text, int index) => text[2 * index] | ((uint)text[(2 * index) + 1] << 16);
}
