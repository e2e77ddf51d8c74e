namespace MinimalSilo;

/// <summary>A grain to call.</summary>
public interface IHelloGrain : IGrainWithStringKey
{
    /// <summary>Says hello from the grain's silo.</summary>
    Task<string> SayHelloAsync();
}

/// <summary>Says hello.</summary>
internal sealed class HelloGrain : Grain, IHelloGrain
{
    public Task<string> SayHelloAsync() => Task.FromResult($"Hello, {this.GetPrimaryKeyString()}, from {RuntimeIdentity}.");
}
