using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using SyncMapRegistry.Benchmarks.Infrastructure;
using SyncMapRegistry.Benchmarks.Modes;

namespace SyncMapRegistry.Benchmarks;

/// <summary>
/// The suite's entry point. <c>dotnet run -c Release --project benchmarks/SyncMapRegistry.Benchmarks -- --filter '*'</c>
/// runs everything; <c>--quick</c> runs every benchmark once with a small share of the operations, only to prove
/// that each still runs (it asserts no timing). <c>--profile Workload [threads] [seconds]</c> runs one workload on
/// SyncMap alone and prints its read/dirty statistics per operation (see <see cref="ProfileMode"/>). The Stopwatch
/// modes need no BenchmarkDotNet: <c>hits</c> (see <see cref="HitsMode"/>), <c>pauses</c> (<see cref="PausesMode"/>), <c>memory</c>
/// (<see cref="MemoryMode"/>), <c>hitratio</c> (<see cref="HitRatioMode"/>), <c>churn</c> (<see cref="ChurnMode"/>) and <c>pressure</c> (<see cref="PressureMode"/>); each takes <c>--quick</c>.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "--profile")
        {
            return ProfileMode.Run(args[1..]);
        }

        if (args.Length > 0 && Modes.TryGetValue(args[0], out Func<ModeArguments, int>? mode))
        {
            return mode(new ModeArguments(args[1..]));
        }

        BenchmarkSettings.Quick = args.Contains("--quick");
        string[] switcherArgs = [.. args.Where(arg => arg != "--quick")];
        IConfig config = DefaultConfig.Instance.AddJob(BenchmarkSettings.Quick ? QuickJob : ParallelJob);
        IEnumerable<BenchmarkDotNet.Reports.Summary> summaries =
            BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(switcherArgs, config);
        return summaries.Any(summary => summary.HasCriticalValidationErrors || summary.Reports.Any(report => !report.Success)) ? 1 : 0;
    }

    /// <summary>The Stopwatch modes, run without BenchmarkDotNet: the first argument names one.</summary>
    private static readonly Dictionary<string, Func<ModeArguments, int>> Modes = new(StringComparer.Ordinal)
    {
        ["hits"] = HitsMode.Run,
        ["pauses"] = PausesMode.Run,
        ["memory"] = MemoryMode.Run,
        ["hitratio"] = HitRatioMode.Run,
        ["churn"] = ChurnMode.Run,
        ["pressure"] = PressureMode.Run,
    };

    /// <summary>
    /// The measuring job: one invocation (one Go run of <see cref="ParallelBenchmark.Ops"/> operations on a fresh
    /// map) per iteration, 3 warm-up and 10 measured iterations. Out of process, one process per benchmark: in one
    /// shared process, the tier-1 code that dynamic PGO compiled for <c>SyncMap&lt;int, int&gt;</c> under one
    /// workload's profile is reused by every later workload (AdversarialDelete measured 28.7 ns/op after twenty
    /// other workloads in process, 7 ns/op on its own).
    /// </summary>
    private static Job ParallelJob =>
        Job.Default
            .WithId("Parallel")
            .WithLaunchCount(1)
            .WithWarmupCount(3)
            .WithIterationCount(10)
            .WithInvocationCount(1)
            .WithUnrollFactor(1);

    /// <summary>BenchmarkDotNet's Dry job (one cold invocation, no warm-up), in process.</summary>
    private static Job QuickJob => Job.Dry.WithId("Quick").WithToolchain(InProcessEmitToolchain.DontLogOutput);
}
