using SyncMapRegistry.Host;

// Ctrl+C (SIGINT) and SIGTERM stop the workload early; the host still prints its summary and stops the silos. A
// second Ctrl+C, a second or more after the first, ends the process at once (see StopSignals).
using var signals = new StopSignals(Console.Error, TimeProvider.System);
using IDisposable registrations = signals.Register();

HostRunResult result = await HostProgram.RunAsync(args, HostConsole.System, signals.Token);
return result.ExitCode;
