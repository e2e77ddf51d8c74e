namespace SyncMapRegistry.Telemetry;

/// <summary>A registry map that <c>syncmap_registry.lookups</c> reports on.</summary>
internal interface IObservedRegistry
{
    string Name { get; }

    /// <summary><c>false</c> when the registry does not count lookups; it then reports nothing.</summary>
    bool CountsLookups { get; }

    long LookupHits { get; }

    long LookupMisses { get; }
}
