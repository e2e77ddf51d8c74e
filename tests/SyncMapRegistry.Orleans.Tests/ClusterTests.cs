namespace SyncMapRegistry.OrleansTests;

[Collection(ClusterTestGroup.Name)]
public sealed class DhtPathTests(GenericHostClusterFixture fixture, ITestOutputHelper output) : IClassFixture<GenericHostClusterFixture>
{
    [Fact]
    public Task CrossSiloCallsLeaveTheCalleesAddressInTheCallersRegistry() =>
        RegistryScenarios.CrossSiloCallsLeaveTheCalleesAddressInTheCallersRegistryAsync(fixture.Cluster, output, 1_000);

    [Fact]
    public Task AStaleAddressIsCorrectedWhenTheGrainComesBackOnAnotherSilo() =>
        RegistryScenarios.AStaleAddressIsCorrectedWhenTheGrainComesBackOnAnotherSiloAsync(fixture.Cluster, output, 2_000);

    [Fact]
    public Task TheLocalIndexFollowsActivationsAndDeactivations() =>
        RegistryScenarios.TheLocalIndexFollowsActivationsAndDeactivationsAsync(fixture.Cluster, output, 3_000);

    [Fact]
    public Task TheMaintenanceSweepSurvivesAnExceptionAndStopsWhenAsked() =>
        MaintenanceServiceScenario.TheSweepSurvivesAnExceptionAndStopsWhenAskedAsync(fixture.Cluster, output);
}

[Collection(ClusterTestGroup.Name)]
public sealed class CachedGrainLocatorPathTests(InProcessClusterFixture fixture, ITestOutputHelper output) : IClassFixture<InProcessClusterFixture>
{
    [Fact]
    public Task CrossSiloCallsLeaveTheCalleesAddressInTheCallersRegistry() =>
        RegistryScenarios.CrossSiloCallsLeaveTheCalleesAddressInTheCallersRegistryAsync(fixture.Cluster, output, 1_000);

    [Fact]
    public Task AStaleAddressIsCorrectedWhenTheGrainComesBackOnAnotherSilo() =>
        RegistryScenarios.AStaleAddressIsCorrectedWhenTheGrainComesBackOnAnotherSiloAsync(fixture.Cluster, output, 2_000);

    [Fact]
    public Task TheLocalIndexFollowsActivationsAndDeactivations() =>
        RegistryScenarios.TheLocalIndexFollowsActivationsAndDeactivationsAsync(fixture.Cluster, output, 3_000);

    [Fact]
    public Task TheMaintenanceSweepSurvivesAnExceptionAndStopsWhenAsked() =>
        MaintenanceServiceScenario.TheSweepSurvivesAnExceptionAndStopsWhenAskedAsync(fixture.Cluster, output);
}

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
