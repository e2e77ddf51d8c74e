namespace PackageConsumer;

/// <summary>A grain that answers with its key, so a call proves it reached the right activation.</summary>
public interface IGreeterGrain : IGrainWithIntegerKey
{
    /// <summary>Returns "greeter {key}: {message}".</summary>
    Task<string> Greet(string message);
}

/// <inheritdoc cref="IGreeterGrain"/>
public sealed class GreeterGrain : Grain, IGreeterGrain
{
    /// <inheritdoc/>
    public Task<string> Greet(string message) => Task.FromResult($"greeter {this.GetPrimaryKeyLong()}: {message}");
}
