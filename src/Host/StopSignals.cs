using System.Runtime.InteropServices;

namespace SyncMapRegistry.Host;

/// <summary>
/// What SIGINT (Ctrl+C) and SIGTERM do to a run. The first of either stops the workload early: the host prints its
/// summary, stops the silos and exits 0. A later SIGINT ends the process at once (exit 130, no summary), but only
/// once the first has been acknowledged and <see cref="Grace"/> has passed since; SIGTERM never does.
/// </summary>
/// <remarks>
/// Why a grace period: one signal often arrives twice. GNU <c>timeout -s INT</c> sends its signal to the host, then
/// to its whole process group, the host included, microseconds apart; a terminal's Ctrl+C reaches <c>dotnet run</c>
/// and the host alike, and <c>dotnet run</c> may pass it on. Counting the repeat as "end now" lost the summary.
/// A person who wants the host gone presses Ctrl+C again after reading the acknowledgement, well after the grace.
/// </remarks>
internal sealed class StopSignals(TextWriter acknowledgements, TimeProvider time) : IDisposable
{
    /// <summary>How long after the first signal a second SIGINT is taken as a repeat of the first.</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromSeconds(1);

    private const long NotYet = long.MinValue;

    private readonly CancellationTokenSource _stop = new();

    // When the first signal arrived (a TimeProvider timestamp), or NotYet. Written once, by compare-and-swap, by the
    // signal that stops the run; read by every later signal.
    private long _firstAt = NotYet;

    /// <summary>Canceled by the first signal: the run stops early and still prints its summary.</summary>
    public CancellationToken Token => _stop.Token;

    /// <summary>Listens to the process's SIGINT and SIGTERM until disposed.</summary>
    public IDisposable Register() => new Registrations(this);

    /// <summary>
    /// Handles one signal; returns <c>true</c> when it should end the process at once (the runtime's default action
    /// for the signal), <c>false</c> when the host handles it.
    /// </summary>
    public bool EndsAtOnce(PosixSignal signal)
    {
        long now = time.GetTimestamp();
        long first = Interlocked.CompareExchange(ref _firstAt, now, NotYet);
        if (first == NotYet)
        {
            acknowledgements.WriteLine(
                $"{(signal == PosixSignal.SIGTERM ? "SIGTERM" : "Ctrl+C")}: stopping the workload; the summary follows (Ctrl+C again, after {Grace.TotalSeconds:0} s, ends the host at once)");
            acknowledgements.Flush();

            // Outside any lock: canceling runs the token's callbacks on this thread.
            _stop.Cancel();
            return false;
        }

        return signal == PosixSignal.SIGINT && time.GetElapsedTime(first, now) >= Grace;
    }

    public void Dispose() => _stop.Dispose();

    private sealed class Registrations : IDisposable
    {
        private readonly PosixSignalRegistration _sigint;
        private readonly PosixSignalRegistration _sigterm;

        public Registrations(StopSignals owner)
        {
            _sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => context.Cancel = !owner.EndsAtOnce(context.Signal));
            _sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => context.Cancel = !owner.EndsAtOnce(context.Signal));
        }

        public void Dispose()
        {
            _sigint.Dispose();
            _sigterm.Dispose();
        }
    }
}
