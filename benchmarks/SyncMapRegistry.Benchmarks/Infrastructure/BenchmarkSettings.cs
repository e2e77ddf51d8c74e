namespace SyncMapRegistry.Benchmarks.Infrastructure;

/// <summary>Process-wide settings from the command line.</summary>
internal static class BenchmarkSettings
{
    /// <summary>
    /// <c>--quick</c>: every benchmark runs once, in process, with 1/256 of the operations, only to prove that
    /// it runs. Its timings mean nothing.
    /// </summary>
    internal static bool Quick { get; set; }
}
