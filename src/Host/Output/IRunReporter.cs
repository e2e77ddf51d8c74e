namespace SyncMapRegistry.Host.Output;

/// <summary>Shows the run: a message now and then, progress while the workload runs, then the summary.</summary>
internal interface IRunReporter
{
    /// <summary>A one-line status message (silos starting, warm-up done, stopping).</summary>
    void Message(string text);

    /// <summary>Runs <paramref name="body"/>, showing each report it publishes until it returns.</summary>
    Task RunAsync(Func<Action<ProgressReport>, Task> body);

    /// <summary>Prints the final summary.</summary>
    void Summary(RunSummary summary);
}
