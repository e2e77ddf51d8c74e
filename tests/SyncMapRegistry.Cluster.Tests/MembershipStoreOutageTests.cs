using System.Globalization;

namespace SyncMapRegistry.Cluster.Tests;

/// <summary>
/// Three Host processes clustered through a Redis server of the test's own, under load; the server is stopped for
/// 10 s and started again. Membership needs the store only to change the cluster: calls between silos never go through it.
/// </summary>
[Trait("Category", "Faults")]
public sealed class MembershipStoreOutageTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    private readonly TimeProvider _time = TimeProvider.System;

    [Fact]
    public async Task WhileTheMembershipStoreIsDownEveryCallSucceedsNoSiloOrGrainIsLostAndTheRegistriesAgreeWithTheDirectoryAfterwards()
    {
        await using RedisServer redis = await RedisServer.StartAsync(_time);
        await using HostCluster cluster = await HostCluster.StartAsync(redis.Endpoint, 3, output, _time);
        IReadOnlyList<HostProcess> hosts = cluster.Hosts;
        try
        {
            string[] silos = [.. hosts.Select(h => h.Latest!.SiloAddress)];
            string tableKey = Assert.Single((await redis.CommandAsync("KEYS", "*")).Split('\n', StringSplitOptions.RemoveEmptyEntries));
            HostStatus[] before = [.. hosts.Select(h => h.Latest!)];

            // 1. The store goes down for 10 s; the processes must not exit meanwhile.
            long stopAt = Now();
            await redis.StopAsync();
            await cluster.WaitUntilAsync(hosts, $"the membership store has been down for {Outage.TotalSeconds:0} s", Outage * 2, () => Now() - stopAt >= Outage.TotalMilliseconds);
            HostStatus[] atRestart = [.. hosts.Select(h => h.Latest!)];

            // 2. It comes back with the table it had, and the silos write to it again (each publishes its IAmAlive).
            long startAt = Now();
            await redis.StartAgainAsync();
            string restored = await redis.CommandAsync("HGETALL", tableKey);
            TimeSpan rewritten = await cluster.WaitUntilAsync(
                hosts,
                "the silos write to the restarted store",
                MembershipWindow.Fast.IAmAliveTablePublishTimeout * 3,
                async () => await redis.CommandAsync("HGETALL", tableKey) != restored);

            // 3. The load goes on over a table refresh, so every view has read the restored table.
            await cluster.WaitUntilAsync(hosts, "every process refreshes its membership view", Limit, () =>
                hosts.All(h => h.Latest!.T - startAt >= MembershipWindow.Fast.TableRefreshTimeout.TotalMilliseconds * 2));
            await cluster.WaitForMoreCallsAsync(hosts, HostCluster.RatePerProcess, Limit);
            HostStatus[] final = [.. hosts.Select(h => h.Latest!)];

            long[] duringOutage = [.. Enumerable.Range(0, hosts.Count).Select(i => atRestart[i].Calls - before[i].Calls)];
            string figures = string.Create(
                CultureInfo.InvariantCulture,
                $"OUTAGE-TEST calls={final.Sum(s => s.Calls)} failed={final.Sum(s => s.Failed)} calls-while-store-down={string.Join('/', duringOutage)} store-down-ms={startAt - stopAt} restart-to-first-table-write-ms={rewritten.TotalMilliseconds:0} skipped={final.Sum(s => s.Workload.Skipped)}");
            output.WriteLine(figures);
            Console.WriteLine(figures);
            for (int i = 0; i < hosts.Count; i++)
            {
                HostStatus f = final[i];
                output.WriteLine($"{hosts[i].Name} {f.SiloAddress}: calls {f.Calls}, failed {f.Failed}, local activations {f.Registry.LocalActivations}, cache entries by silo {HostStatus.Text(f.Registry.EntriesBySilo)}, grains by silo {HostStatus.Text(f.Workload.GrainsBySilo)}, membership {HostStatus.Text(f.Membership.Members)} (version {f.Membership.Version}), errors {HostStatus.Text(f.Workload.Errors)}");
            }

            Assert.All(silos, silo => Assert.Contains(Endpoint(silo), restored, StringComparison.Ordinal));
            for (int i = 0; i < hosts.Count; i++)
            {
                HostStatus f = final[i];
                string who = $"{hosts[i].Name} ({f.SiloAddress})";

                // Every call succeeds, while the store is down too, and none is dropped.
                Assert.True(duringOutage[i] > 0, $"{who} made no call while the store was down: the test proves nothing.");
                Assert.Equal(0, f.Failed);
                Assert.Equal(0, f.Workload.Skipped);

                // No silo is lost: each stays active in every view; no grain moves.
                Assert.All(silos, silo => Assert.Equal("Active", f.MemberStatus(silo)));
                Assert.All(silos, silo => Assert.Equal(before[i].GrainsOn(silo), f.GrainsOn(silo)));
                Assert.Equal(HostCluster.Grains, silos.Sum(f.GrainsOn));
                Assert.All(f.Workload.Targets.Values, t => Assert.Equal(0, t.Moved));

                // The registries agree with the directory: each silo's index holds the grains that answer from it (and
                // at most one more: the management grain that --await-silos called, a stateless worker activated on
                // each silo, if the index keeps stateless workers), as many as before the outage; each cache points only
                // at the three silos, as it did while the store was down (no grain moved, so nothing is to change).
                int indexed = f.Registry.LocalActivations;
                Assert.InRange(indexed, f.GrainsOn(f.SiloAddress), f.GrainsOn(f.SiloAddress) + 1);
                Assert.Equal(before[i].Registry.LocalActivations, indexed);
                Assert.All(f.Registry.EntriesBySilo.Keys, silo => Assert.Contains(silo, silos));
                Assert.Equal(atRestart[i].Registry.EntriesBySilo.OrderBy(e => e.Key, StringComparer.Ordinal), f.Registry.EntriesBySilo.OrderBy(e => e.Key, StringComparer.Ordinal));
            }
        }
        catch (Exception) when (cluster.Dump())
        {
            throw;
        }
    }

    /// <summary><c>ip:port</c> of a silo address (<c>ip:port@generation</c>), as the membership table's keys hold it.</summary>
    private static string Endpoint(string silo) => silo[..silo.IndexOf('@', StringComparison.Ordinal)];

    private long Now() => _time.GetUtcNow().ToUnixTimeMilliseconds();
}
