namespace SyncMapRegistry.Host.Telemetry;

/// <summary>
/// Which of this process's silos the current asynchronous flow works for. Each silo is started inside its
/// own scope, so everything it starts (its listeners, connections, scheduler loops) inherits the silo's
/// index through the execution context; the workload sets it before each call. Tracing uses it to export a
/// span under the resource of the silo that started it.
/// </summary>
internal static class SiloScope
{
    private static readonly AsyncLocal<int?> s_current = new();

    /// <summary>The current flow's silo index, or <c>null</c> outside every silo.</summary>
    public static int? Current
    {
        get => s_current.Value;
        set => s_current.Value = value;
    }
}
