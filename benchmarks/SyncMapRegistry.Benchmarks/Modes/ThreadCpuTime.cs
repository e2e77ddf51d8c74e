using System.Runtime.InteropServices;

namespace SyncMapRegistry.Benchmarks.Modes;

/// <summary>
/// The CPU time of the calling thread (Linux's <c>CLOCK_THREAD_CPUTIME_ID</c>): time the thread ran, without the
/// time it waited for a core, so that figures from a shared machine are not the other processes' figures.
/// </summary>
internal static partial class ThreadCpuTime
{
    private const int ClockThreadCpuTimeId = 3;

    /// <summary>Whether this platform has the clock; elsewhere <see cref="Nanoseconds"/> is not used.</summary>
    internal static bool IsSupported { get; } = OperatingSystem.IsLinux();

    /// <summary>The calling thread's CPU time in nanoseconds.</summary>
    internal static long Nanoseconds()
    {
        if (ClockGetTime(ClockThreadCpuTimeId, out TimeSpec time) != 0)
        {
            throw new InvalidOperationException("clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed.");
        }

        return (time.Seconds * 1_000_000_000) + time.Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int ClockGetTime(int clockId, out TimeSpec time);

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }
}
