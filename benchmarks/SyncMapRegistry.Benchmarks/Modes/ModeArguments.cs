using System.Globalization;

namespace SyncMapRegistry.Benchmarks.Modes;

/// <summary>
/// The options of the Stopwatch modes (<c>hits</c>, <c>pauses</c>, <c>memory</c>, <c>hitratio</c>):
/// <c>--name value</c> pairs, lists comma-separated, and the flags of <see cref="KnownFlags"/>, among them
/// <c>--quick</c> (tiny sizes, to prove that a mode runs; its figures mean nothing).
/// </summary>
internal sealed class ModeArguments
{
    /// <summary>The flags (options without a value): <c>--quick</c>, <c>--chase</c> (<c>hits</c>: dependent reads).</summary>
    private static readonly string[] KnownFlags = ["quick", "chase"];

    private readonly Dictionary<string, string> _values = [];

    private readonly HashSet<string> _flags = [];

    internal ModeArguments(string[] args)
    {
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i].StartsWith("--", StringComparison.Ordinal) && KnownFlags.Contains(args[i][2..]))
            {
                _flags.Add(args[i][2..]);
            }
            else if (args[i].StartsWith("--", StringComparison.Ordinal) && i + 1 < args.Length)
            {
                _values[args[i][2..]] = args[++i];
            }
            else
            {
                throw new ArgumentException($"Unknown argument '{args[i]}'.", nameof(args));
            }
        }
    }

    internal bool Quick => Flag("quick");

    /// <summary>Whether the flag <c>--name</c> (one of <see cref="KnownFlags"/>) was given.</summary>
    internal bool Flag(string name) => _flags.Contains(name);

    internal int Int(string name, int normal, int quick) =>
        _values.TryGetValue(name, out string? text) ? int.Parse(text, CultureInfo.InvariantCulture) : Quick ? quick : normal;

    internal int[] Ints(string name, int[] normal, int[] quick) =>
        _values.TryGetValue(name, out string? text)
            ? [.. text.Split(',').Select(part => int.Parse(part, CultureInfo.InvariantCulture))]
            : Quick ? quick : normal;

    /// <summary>The value of <c>--name</c>, which must be one of <paramref name="allowed"/>; the first when absent.</summary>
    internal string OneOf(string name, params string[] allowed)
    {
        string value = _values.TryGetValue(name, out string? text) ? text : allowed[0];
        return allowed.Contains(value) ? value : throw new ArgumentException($"--{name} must be one of {string.Join(", ", allowed)}: '{value}'.", nameof(name));
    }

    /// <summary>The comma-separated values of <c>--name</c>, each one of <paramref name="allowed"/>; all of them when absent.</summary>
    internal string[] Strings(string name, string[] allowed)
    {
        if (!_values.TryGetValue(name, out string? text))
        {
            return allowed;
        }

        string[] values = text.Split(',');
        return values.All(allowed.Contains) ? values : throw new ArgumentException($"--{name} takes values among {string.Join(", ", allowed)}: '{text}'.", nameof(name));
    }

    internal double[] Doubles(string name, double[] normal) =>
        _values.TryGetValue(name, out string? text)
            ? [.. text.Split(',').Select(part => double.Parse(part, CultureInfo.InvariantCulture))]
            : normal;
}
