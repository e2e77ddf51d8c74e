using System.Globalization;
using System.Runtime;
using System.Runtime.InteropServices;

namespace SyncMapRegistry.Benchmarks.Modes;

/// <summary>What the Stopwatch modes share: the environment line, medians and invariant-culture output.</summary>
internal static class ModeReport
{
    /// <summary>Prints the runtime, the machine and the JIT settings that change the figures.</summary>
    internal static void PrintEnvironment(string mode)
    {
        string pgo = Environment.GetEnvironmentVariable("DOTNET_TieredPGO") ?? "default (on)";
        string tiered = Environment.GetEnvironmentVariable("DOTNET_TieredCompilation") ?? "default (on)";
        Line($"# {mode}: {RuntimeInformation.FrameworkDescription}, {RuntimeInformation.OSDescription}, {RuntimeInformation.ProcessArchitecture}, {Environment.ProcessorCount} logical cores, {(GCSettings.IsServerGC ? "server" : "workstation")} GC, TieredCompilation {tiered}, TieredPGO {pgo}");
    }

    /// <summary>Fails the run unless the map has promoted (holds no dirty table): its hits are then snapshot hits.</summary>
    internal static void RequirePromoted(string name, SyncMapStatistics statistics)
    {
        if (statistics.DirtyCount != 0)
        {
            throw new InvalidOperationException($"{name} did not promote: {statistics}.");
        }
    }

    internal static double Median(IEnumerable<double> values)
    {
        double[] sorted = [.. values.Order()];
        int middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }

    internal static void Line(FormattableString text) => Console.WriteLine(text.ToString(CultureInfo.InvariantCulture));
}
