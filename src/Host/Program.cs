using System.Runtime.InteropServices;
using SyncMapRegistry.Host;

// Ctrl+C (and SIGTERM) stop the workload early; the host still prints its summary and stops the silos.
// A second Ctrl+C ends the process at once.
using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    if (!stop.IsCancellationRequested)
    {
        e.Cancel = true;
        stop.Cancel();
    }
};
using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
{
    context.Cancel = true;
    stop.Cancel();
});

HostRunResult result = await HostProgram.RunAsync(args, HostConsole.System, stop.Token);
return result.ExitCode;
