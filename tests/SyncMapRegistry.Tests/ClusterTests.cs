namespace SyncMapRegistry.OrleansTests;

/// <summary>The registry's cluster scenarios, run once per path by the two subclasses below.</summary>
public abstract class RegistryPathTests(ITestCluster cluster, ITestOutputHelper output)
{
    [Fact]
    public Task CrossSiloCallsLeaveTheCalleesAddressInTheCallersRegistry() =>
        RegistryScenarios.CrossSiloCallsLeaveTheCalleesAddressInTheCallersRegistryAsync(cluster, output, 1_000);

    [Fact]
    public Task AStaleAddressIsCorrectedWhenTheGrainComesBackOnAnotherSilo() =>
        RegistryScenarios.AStaleAddressIsCorrectedWhenTheGrainComesBackOnAnotherSiloAsync(cluster, output, 2_000);

    [Fact]
    public Task TheLocalIndexFollowsActivationsAndDeactivations() =>
        RegistryScenarios.TheLocalIndexFollowsActivationsAndDeactivationsAsync(cluster, output, 3_000);

    [Fact]
    public Task StatelessWorkersStayOutOfTheLocalIndex() =>
        RegistryScenarios.StatelessWorkersStayOutOfTheLocalIndexAsync(cluster, output, 4_000);

    [Fact]
    public Task TheIndexLeavesAnActivationsLazilyBuiltStateUnbuilt() =>
        RegistryScenarios.TheIndexLeavesAnActivationsLazilyBuiltStateUnbuiltAsync(cluster, output, 5_000);

    [Fact]
    public Task TheMaintenanceSweepSurvivesAnExceptionHealsTheCountAndStopsWhenAsked() =>
        MaintenanceServiceScenario.TheSweepSurvivesAnExceptionHealsTheCountAndStopsWhenAskedAsync(cluster, output);

    [Fact]
    public Task OrleansCacheSizeGaugeReadsEachSilosRegistryCount() =>
        OrleansGaugeScenario.EachSilosGaugeReadsItsRegistrysCountAsync(cluster, output, 6_000);

    [Fact]
    public Task IdleEntriesExpireOnTheMaintenanceServicesTicks() =>
        MaintenanceServiceScenario.IdleEntriesExpireOnTheServicesTicksAsync(cluster, output);

    [Fact]
    public Task AMaintenanceSweepTimerThatCannotBeMadeIsReportedAtOnce() =>
        MaintenanceServiceScenario.ASweepTimerThatCannotBeMadeIsReportedAtOnceAsync(cluster, output);
}

/// <summary>3 generic-host silos: Orleans' DHT directory (LocalGrainDirectory) uses the registry.</summary>
[Collection(ClusterTestGroup.Name)]
public sealed class DhtPathTests(GenericHostClusterFixture fixture, ITestOutputHelper output)
    : RegistryPathTests(fixture.Cluster, output), IClassFixture<GenericHostClusterFixture>;

/// <summary>A 3-silo InProcessTestCluster: CachedGrainLocator uses the registry.</summary>
[Collection(ClusterTestGroup.Name)]
public sealed class CachedGrainLocatorPathTests(InProcessClusterFixture fixture, ITestOutputHelper output)
    : RegistryPathTests(fixture.Cluster, output), IClassFixture<InProcessClusterFixture>;

[Collection(ClusterTestGroup.Name)]
public sealed class KillTests(ITestOutputHelper output)
{
    [Fact]
    public async Task OnTheDhtPathAKilledSilosEntriesLeaveEveryRegistry()
    {
        await using GenericHostCluster cluster = await GenericHostCluster.StartAsync();
        output.WriteLine($"cluster started in {cluster.StartTime.TotalMilliseconds:F0} ms");
        await RegistryScenarios.AKilledSilosEntriesLeaveEveryRegistryAndItsGrainsComeBackElsewhereAsync(cluster, output);
    }

    [Fact]
    public async Task OnTheCachedGrainLocatorPathAKilledSilosEntriesLeaveEveryRegistry()
    {
        await using InProcessCluster cluster = await InProcessCluster.StartAsync();
        output.WriteLine($"cluster started in {cluster.StartTime.TotalMilliseconds:F0} ms");
        await RegistryScenarios.AKilledSilosEntriesLeaveEveryRegistryAndItsGrainsComeBackElsewhereAsync(cluster, output);
    }
}
