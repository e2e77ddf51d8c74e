using System.Globalization;
using SyncMapRegistry.Host.Harness;

namespace SyncMapRegistry.Cluster.Tests;

/// <summary>
/// Three Host processes clustered through Redis under load; one is hung with SIGSTOP (its sockets stay open, it never
/// answers) until the others have declared it dead, then resumed with SIGCONT. Needs SYNCMAP_REDIS.
/// </summary>
[Trait("Category", "Faults")]
public sealed class HungSiloTests(ITestOutputHelper output)
{
    /// <summary>What Orleans writes when a silo finds itself declared dead, just before it ends its process.</summary>
    private const string ToldItIsDead = "I have been told I am dead";

    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    private readonly TimeProvider _time = TimeProvider.System;

    [Fact]
    public async Task AHungSiloIsDeclaredDeadAndPurgedStopsItselfWhenResumedAndNoRegistryLearnsItsAddressesAgain()
    {
        string redis = HostCluster.SharedRedis();
        await using HostCluster cluster = await HostCluster.StartAsync(redis, 3, output, _time);
        IReadOnlyList<HostProcess> hosts = cluster.Hosts;
        HostProcess victim = hosts[2];
        HostProcess[] survivors = [hosts[0], hosts[1]];
        try
        {
            string hung = victim.Latest!.SiloAddress;
            await cluster.WaitUntilAsync(hosts, $"both survivors cache grains of {hung}", Limit, () =>
                survivors.All(s => s.Latest!.EntriesPointingAt(hung) > 0 && s.Latest.GrainsOn(hung) > 0));
            HostStatus[] beforeStop = [.. survivors.Select(s => s.Latest!)];
            Assert.All(beforeStop, s => Assert.Equal(0, s.Failed));

            // 1. Hung: the survivors declare it dead, purge it, and reach its grains elsewhere.
            long stopAt = Now();
            await victim.PauseAsync();
            await cluster.WaitUntilAsync(survivors, $"both survivors declare {hung} dead, purge it and reach all its grains elsewhere", MembershipWindow.Declaration + Limit, () =>
                survivors.All(s => s.Latest is { } l
                    && l.MemberStatus(hung) == "Dead"
                    && l.PurgedAt(hung) is not null
                    && l.EntriesPointingAt(hung) == 0
                    && l.GrainsOn(hung) == 0));

            // Beyond the window: every silo has read the declaration from the table by now.
            long declaredEverywhere = survivors.Max(s => s.Latest!.DeadSince(hung)!.Value);
            await cluster.WaitUntilAsync(survivors, "a table refresh passes after the declaration", Limit, () =>
                survivors.All(s => s.Latest!.T - declaredEverywhere >= MembershipWindow.Spread.TotalMilliseconds));

            // 2. Resumed: it finds itself dead and ends its own process.
            long resumeAt = Now();
            await victim.ResumeAsync();
            Assert.True(await victim.WaitForExitAsync(Limit), $"{hung} still runs {Limit.TotalSeconds:0} s after SIGCONT.");
            long exitedAt = Now();

            // 3. The load goes on; no survivor's registry points at the stale silo again.
            await cluster.WaitForMoreCallsAsync(survivors, HostCluster.RatePerProcess, Limit);
            HostStatus[] final = [.. survivors.Select(s => s.Latest!)];

            string figures = string.Create(
                CultureInfo.InvariantCulture,
                $"HUNG-SILO-TEST calls={final.Sum(s => s.Calls)} failed={final.Sum(s => s.Failed)} stop-to-dead-ms={string.Join('/', final.Select(s => s.DeadSince(hung) - stopAt))} stop-to-purge-ms={string.Join('/', final.Select(s => s.PurgedAt(hung) - stopAt))} stopped-ms={resumeAt - stopAt} resume-to-exit-ms={exitedAt - resumeAt} exit-code={victim.ExitCode}");
            output.WriteLine(figures);
            Console.WriteLine(figures);
            for (int i = 0; i < survivors.Length; i++)
            {
                HostStatus f = final[i];
                output.WriteLine($"{survivors[i].Name} {f.SiloAddress}: calls {f.Calls}, failed {f.Failed} ({f.FailedToOthersThan(hung)} to survivors' grains); entries pointing at {hung}: {beforeStop[i].EntriesPointingAt(hung)} before the stop; purged {f.Registry.Purged}, removed by Orleans {f.Registry.Removals}; errors {HostStatus.Text(f.Workload.Errors)}; by home silo {HostStatus.Text(f.Workload.Targets)}");
            }

            Assert.True(victim.Wrote(ToldItIsDead), $"{hung} exited without saying it was told it is dead.\n{victim.Tail()}");
            Assert.NotEqual(0, victim.ExitCode);
            for (int i = 0; i < survivors.Length; i++)
            {
                HostStatus f = final[i];
                string who = $"{survivors[i].Name} ({f.SiloAddress})";
                Assert.True(beforeStop[i].EntriesPointingAt(hung) > 0, $"{who} cached no grain of {hung} before the stop: the test proves nothing.");
                Assert.Equal("Dead", f.MemberStatus(hung));
                Assert.True(f.DeadSince(hung)!.Value - stopAt <= (long)MembershipWindow.Declaration.TotalMilliseconds, $"{who} saw {hung} declared dead {f.DeadSince(hung) - stopAt} ms after the stop, beyond the membership window of {MembershipWindow.Declaration.TotalMilliseconds} ms.");

                // From the purge on, through the resumption and the stale silo's last seconds, nothing points at it.
                Assert.All(survivors[i].Since(f.PurgedAt(hung)!.Value), l => Assert.Equal(0, l.EntriesPointingAt(hung)));
                Assert.Equal(0, f.GrainsOn(hung));
                Assert.True(f.Calls > beforeStop[i].Calls, $"{who} made no call.");

                // Calls to the survivors' grains fail only in Orleans' directory (a registration on the hung silo's
                // partition), and only in the membership window; after the resumption no call fails at all.
                foreach ((string home, TargetOutcome target) in f.Workload.Targets)
                {
                    if (home != hung)
                    {
                        Assert.Equal(target.Failed, target.DirectoryFailed);
                    }

                    if (target.Failed > 0)
                    {
                        long lastFailedStart = target.LastFailedStartMs!.Value;
                        Assert.True(
                            lastFailedStart <= declaredEverywhere + (long)MembershipWindow.Spread.TotalMilliseconds,
                            $"{who}: a call to a grain of {home} that started {lastFailedStart - declaredEverywhere} ms after the last survivor saw {hung} declared dead failed.");
                    }
                }
            }
        }
        catch (Exception) when (cluster.Dump())
        {
            throw;
        }
    }

    private long Now() => _time.GetUtcNow().ToUnixTimeMilliseconds();
}
