using System.Runtime.InteropServices;
using Microsoft.Extensions.Time.Testing;

namespace SyncMapRegistry.Host.Tests;

public sealed class StopSignalsTests : IDisposable
{
    private readonly FakeTimeProvider _time = new();
    private readonly StringWriter _acknowledgements = new();

    public void Dispose() => _acknowledgements.Dispose();

    [Fact]
    public void TheFirstSigintStopsTheRunAndIsAcknowledged()
    {
        using var signals = new StopSignals(_acknowledgements, _time);

        Assert.False(signals.EndsAtOnce(PosixSignal.SIGINT));

        Assert.True(signals.Token.IsCancellationRequested);
        Assert.Contains("Ctrl+C: stopping the workload; the summary follows", _acknowledgements.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void ASecondSigintWithinTheGraceAsGnuTimeoutSendsItIsARepeatNotAnEnd()
    {
        using var signals = new StopSignals(_acknowledgements, _time);

        Assert.False(signals.EndsAtOnce(PosixSignal.SIGINT));
        Assert.False(signals.EndsAtOnce(PosixSignal.SIGINT));
        _time.Advance(StopSignals.Grace - TimeSpan.FromMilliseconds(1));
        Assert.False(signals.EndsAtOnce(PosixSignal.SIGINT));

        Assert.Single(_acknowledgements.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void ASecondSigintAfterTheGraceEndsTheHostAtOnce()
    {
        using var signals = new StopSignals(_acknowledgements, _time);
        Assert.False(signals.EndsAtOnce(PosixSignal.SIGINT));

        _time.Advance(StopSignals.Grace);

        Assert.True(signals.EndsAtOnce(PosixSignal.SIGINT));
    }

    [Fact]
    public void SigtermNeverEndsTheHostAtOnce()
    {
        using var signals = new StopSignals(_acknowledgements, _time);

        Assert.False(signals.EndsAtOnce(PosixSignal.SIGTERM));
        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.False(signals.EndsAtOnce(PosixSignal.SIGTERM));

        Assert.True(signals.Token.IsCancellationRequested);
        Assert.StartsWith("SIGTERM: stopping the workload", _acknowledgements.ToString(), StringComparison.Ordinal);
    }
}
