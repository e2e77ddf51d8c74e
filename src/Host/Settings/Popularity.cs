using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace SyncMapRegistry.Host;

/// <summary>
/// How the workload picks the grain of each call (<c>--popularity</c>): every grain alike (<c>uniform</c>), or by
/// Zipf's law (<c>zipf:S</c>), where the grain of rank k is called in proportion to 1 / k^S, grain 0 the most often.
/// With more grains than the directory cache holds, Zipf makes the cache's policy matter: a few grains take most of
/// the calls, and a good policy keeps them.
/// </summary>
/// <param name="ZipfExponent">Zipf's exponent S, or <c>null</c> for uniform.</param>
public readonly record struct Popularity(double? ZipfExponent)
{
    /// <summary>The largest exponent accepted; beyond it nearly every call goes to grain 0.</summary>
    public const double MaxExponent = 10;

    /// <summary>Every grain alike.</summary>
    public static Popularity Uniform => default;

    /// <summary>Reads <c>uniform</c> or <c>zipf:S</c> (S a number above 0, at most <see cref="MaxExponent"/>), any case.</summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out Popularity? popularity)
    {
        popularity = null;
        text = text?.Trim();
        if (string.Equals(text, "uniform", StringComparison.OrdinalIgnoreCase))
        {
            popularity = Uniform;
            return true;
        }

        const string zipf = "zipf:";
        if (text is not null
            && text.StartsWith(zipf, StringComparison.OrdinalIgnoreCase)
            && double.TryParse(text.AsSpan(zipf.Length), NumberStyles.Float, CultureInfo.InvariantCulture, out double exponent)
            && exponent is > 0 and <= MaxExponent)
        {
            popularity = new Popularity(exponent);
            return true;
        }

        return false;
    }

    /// <summary>As written on the command line: <c>uniform</c> or <c>zipf:0.9</c>.</summary>
    public override string ToString() =>
        ZipfExponent is { } s ? string.Create(CultureInfo.InvariantCulture, $"zipf:{s:0.###}") : "uniform";
}
