using System.Globalization;
using SyncMapRegistry.Host.Harness;

namespace SyncMapRegistry.Cluster.Tests;

/// <summary>
/// Three Host processes, one silo each, clustered through Redis, every one driving cross-silo load. One is killed
/// with SIGKILL under load. Needs a Redis server: <c>eval "$(bash .ci/redis start)"</c> sets SYNCMAP_REDIS.
/// </summary>
[Trait("Category", "Faults")]
public sealed class SiloKilledUnderLoadTests(ITestOutputHelper output)
{
    private static readonly TimeSpan RecoveryLimit = TimeSpan.FromSeconds(60);

    private readonly TimeProvider _time = TimeProvider.System;

    [Fact]
    public async Task ASiloKilledUnderLoadLeavesNoEntryPointingAtItItsGrainsAnswerAgainAndCallsFailOnlyInTheMembershipWindow()
    {
        string redis = HostCluster.SharedRedis();
        long testStarted = _time.GetTimestamp();
        await using HostCluster cluster = await HostCluster.StartAsync(redis, 3, output, _time);
        IReadOnlyList<HostProcess> hosts = cluster.Hosts;
        try
        {
            // 1. The cluster is up, every process drives load, and the survivors cache grains of the victim.
            HostProcess victim = hosts[2];
            HostProcess[] survivors = [hosts[0], hosts[1]];
            string dead = victim.Latest!.SiloAddress;
            await cluster.WaitUntilAsync(hosts, $"both survivors cache grains of {dead}", RecoveryLimit, () =>
                survivors.All(s => s.Latest!.EntriesPointingAt(dead) > 0 && s.Latest.GrainsOn(dead) > 0));

            HostStatus[] beforeKill = [.. survivors.Select(s => s.Latest!)];

            // No call failed before the kill: every failure counted below comes from it.
            Assert.All(beforeKill, s => Assert.Equal(0, s.Failed));
            long killAt = _time.GetUtcNow().ToUnixTimeMilliseconds();
            victim.Kill();
            HostStatus victimLast = victim.Latest!;

            // 2. Membership declares it dead, the survivors' registries drop its entries, its grains answer again.
            await cluster.WaitUntilAsync(survivors, $"both survivors declare {dead} dead, purge it and reach all its grains elsewhere", RecoveryLimit, () =>
                survivors.All(s => s.Latest is { } l
                    && l.MemberStatus(dead) == "Dead"
                    && l.PurgedAt(dead) is not null
                    && l.EntriesPointingAt(dead) == 0
                    && l.GrainsOn(dead) == 0));
            HostStatus[] atRecovery = [.. survivors.Select(s => s.Latest!)];

            // Calls to the survivors' grains that succeeded between the kill and the death declaration (as closely as
            // the status lines, 100 ms apart, tell).
            HostStatus[] atDeclaration = [.. survivors.Select(s => s.First(l => l.T >= killAt && l.MemberStatus(dead) == "Dead")!)];
            long[] survivorCallsInWindow = [.. Enumerable.Range(0, survivors.Length).Select(i => atDeclaration[i].SucceededToOthersThan(dead) - beforeKill[i].SucceededToOthersThan(dead))];

            // 3. The load goes on (a second's worth of calls per survivor); nothing points at the dead silo again.
            await cluster.WaitForMoreCallsAsync(survivors, HostCluster.RatePerProcess, RecoveryLimit);
            HostStatus[] final = [.. survivors.Select(s => s.Latest!)];
            TimeSpan duration = _time.GetElapsedTime(testStarted);

            long callsMade = final.Sum(s => s.Calls) + victimLast.Calls;
            long callsFailed = final.Sum(s => s.Failed);
            long survivorDirectoryFailures = final.Sum(s => s.FailedToOthersThan(dead));
            long[] killToDead = [.. final.Select(s => s.DeadSince(dead)!.Value - killAt)];
            long[] killToPurge = [.. final.Select(s => s.PurgedAt(dead)!.Value - killAt)];
            string figures = string.Create(
                CultureInfo.InvariantCulture,
                $"CLUSTER-TEST calls={callsMade} failed={callsFailed} kill-to-dead-ms={string.Join('/', killToDead)} kill-to-purge-ms={string.Join('/', killToPurge)} survivor-calls-in-window={string.Join('/', survivorCallsInWindow)} survivor-calls-failed-in-directory={survivorDirectoryFailures} duration-s={duration.TotalSeconds:0.0}");
            output.WriteLine(figures);
            Console.WriteLine(figures);
            for (int i = 0; i < survivors.Length; i++)
            {
                HostStatus f = final[i];
                TargetOutcome? toDead = f.Target(dead);
                long toSurvivorsFailed = f.FailedToOthersThan(dead);
                string survivorFailures = toSurvivorsFailed == 0
                    ? "none to the survivors' grains"
                    : string.Create(CultureInfo.InvariantCulture, $"{toSurvivorsFailed} to the survivors' grains, in directory lookups started at {string.Join(", ", f.Workload.Targets.Where(t => t.Key != dead && t.Value.Failed > 0).Select(t => $"{t.Value.FirstFailedStartMs - f.DeadSince(dead)!.Value:+0;-0} to {t.Value.LastFailedStartMs - f.DeadSince(dead)!.Value:+0;-0} ms"))} from the declaration");
                output.WriteLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"{survivors[i].Name} {f.SiloAddress}: calls {f.Calls}, failed {f.Failed} ({f.Failed - toSurvivorsFailed} to the grains of {dead}, {survivorFailures}), entries pointing at it {beforeKill[i].EntriesPointingAt(dead)} before the kill, 0 after; purged {f.Registry.Purged}, removed by Orleans {f.Registry.Removals}; declared dead after {f.DeadSince(dead) - killAt} ms, no entry left after {f.PurgedAt(dead) - killAt} ms; calls to its former grains that succeeded elsewhere: {toDead?.Moved}; errors {HostStatus.Text(f.Workload.Errors)}; by home silo {HostStatus.Text(f.Workload.Targets)}"));
            }

            // The membership window ends once the last survivor has seen the declaration, and every silo has refreshed its view.
            long declaredEverywhere = final.Max(s => s.DeadSince(dead)!.Value);
            for (int i = 0; i < survivors.Length; i++)
            {
                HostStatus f = final[i];
                string who = $"{survivors[i].Name} ({f.SiloAddress})";

                // The registry drops every entry that points at the dead silo, and none comes back.
                Assert.True(beforeKill[i].EntriesPointingAt(dead) > 0, $"{who} cached no grain of {dead} before the kill: the test proves nothing.");
                Assert.Equal("Dead", f.MemberStatus(dead));
                Assert.All(survivors[i].Since(f.PurgedAt(dead)!.Value), l => Assert.Equal(0, l.EntriesPointingAt(dead)));

                // Calls to grains that were on the dead silo succeed again, on a survivor.
                Assert.Equal(0, f.GrainsOn(dead));
                TargetOutcome toDead = f.Target(dead) ?? throw new Xunit.Sdk.XunitException($"{who} made no call to the grains of {dead}.");
                Assert.True(toDead.Moved > 0, $"{who}: no call to a grain of {dead} succeeded elsewhere.");
                Assert.True(f.Calls > atRecovery[i].Calls, $"{who} made no call after the recovery.");
                Assert.True(survivorCallsInWindow[i] > 0, $"{who} made no call to a survivor's grain while {dead} was dead but not yet declared dead: the test proves nothing about them.");

                // No call to a grain on a surviving silo fails on its way to that silo or there. The one exception is
                // Orleans' grain directory: a grain whose registration lived in the dead silo's directory partition
                // cannot be looked up until the death is declared (see docs/cluster.md); such failures are counted
                // apart and, like every failure, must lie inside the membership window.
                Assert.Equal(0, f.Workload.Unknown.Failed);
                foreach ((string home, TargetOutcome target) in f.Workload.Targets)
                {
                    if (home != dead)
                    {
                        Assert.True(
                            target.Failed == target.DirectoryFailed,
                            $"{who}: calls to grains on the surviving silo {home} failed other than in a grain directory lookup: {target}");
                    }

                    if (target.Failed > 0)
                    {
                        long lastFailedStart = target.LastFailedStartMs!.Value;
                        Assert.True(
                            lastFailedStart <= declaredEverywhere + (long)MembershipWindow.Spread.TotalMilliseconds,
                            $"{who}: a call to a grain of {home} that started {lastFailedStart - declaredEverywhere} ms after the last survivor saw {dead} declared dead failed (later than one table refresh, {MembershipWindow.Spread.TotalMilliseconds} ms).");
                    }
                }

                // Membership declares the death within the window its settings allow.
                Assert.True(
                    f.DeadSince(dead)!.Value - killAt <= (long)MembershipWindow.Declaration.TotalMilliseconds,
                    $"{who} saw {dead} declared dead {f.DeadSince(dead) - killAt} ms after the kill, beyond the membership window of {MembershipWindow.Declaration.TotalMilliseconds} ms.");
            }
        }
        catch (Exception) when (cluster.Dump())
        {
            throw;
        }
    }
}
