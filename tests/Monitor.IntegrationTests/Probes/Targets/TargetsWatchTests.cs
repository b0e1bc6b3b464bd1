using System.Net;
using System.Text.Json;
using Monitor.Protos.V1;
using Monitor.TestUtilities;
using Xunit;

namespace Monitor.IntegrationTests.Probes.Targets;

/// <summary>
/// WatchTargets against real MariaDB and etcd: adds, edits, pauses and deletes are pushed (the streams' periodic
/// resync is 10 minutes, every wait here is at most 15 s), also to a prober connected to the other manage instance;
/// assignment by host list and location; "auto" targets run on exactly one prober and move when it disconnects.
/// </summary>
[Collection(TargetsCollection.Name)]
public sealed class TargetsWatchTests(TargetsFixture fx)
{
    private static string NewName(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..24];

    [Fact]
    public async Task Watch_SeesAddEditPauseDelete_OnBothInstances()
    {
        var ct = TestContext.Current.CancellationToken;
        var name = NewName("w");
        await using var onA = new TargetWatch(fx.GrpcA, "prober-a-" + name);
        await using var onB = new TargetWatch(fx.GrpcB, "prober-b-" + name);
        await onA.NextMatchingAsync(_ => true, "the initial set arrives", ct);
        await onB.NextMatchingAsync(_ => true, "the initial set arrives", ct);

        // add (through instance A's HTTP API)
        using (var created = await fx.PostAsync(new { name, type = "tcp", config = new { host = "127.0.0.1", port = 9 }, intervalMs = 5000, timeoutMs = 1000 }, ct))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }
        foreach (var watch in new[] { onA, onB })
        {
            var set = await watch.NextMatchingAsync(s => TargetWatch.Has(s, name), "the new target is pushed", ct);
            var target = set.Targets.Single(t => t.Spec.Name == name);
            Assert.Equal("tcp", target.Spec.Type);
            Assert.Equal(5000, target.Spec.IntervalMs);
            Assert.Equal(1000, target.Spec.TimeoutMs);
            Assert.Equal(1, target.Version);
        }

        // edit
        using (var edited = await fx.PatchAsync(name, new { config = new { host = "127.0.0.1", port = 10 } }, ct))
        {
            Assert.Equal(HttpStatusCode.OK, edited.StatusCode);
        }
        foreach (var watch in new[] { onA, onB })
        {
            var set = await watch.NextMatchingAsync(s => s.Targets.Any(t => t.Spec.Name == name && t.Version == 2), "the edit is pushed", ct);
            var config = JsonDocument.Parse(set.Targets.Single(t => t.Spec.Name == name).Spec.ConfigJson).RootElement;
            Assert.Equal(10, config.GetProperty("port").GetInt32());
        }

        // pause, resume
        using (var paused = await fx.PatchAsync(name, new { enabled = false }, ct))
        {
            Assert.Equal(HttpStatusCode.OK, paused.StatusCode);
        }
        await onA.NextMatchingAsync(s => !TargetWatch.Has(s, name), "the paused target is withdrawn", ct);
        await onB.NextMatchingAsync(s => !TargetWatch.Has(s, name), "the paused target is withdrawn", ct);
        using (var resumed = await fx.PatchAsync(name, new { enabled = true }, ct))
        {
            Assert.Equal(HttpStatusCode.OK, resumed.StatusCode);
        }
        await onB.NextMatchingAsync(s => s.Targets.Any(t => t.Spec.Name == name && t.Version == 4), "the resumed target is back", ct);

        // delete (through instance B's gRPC API)
        await fx.GrpcB.DeleteTargetAsync(new DeleteTargetRequest { Name = name }, cancellationToken: ct);
        await onA.NextMatchingAsync(s => !TargetWatch.Has(s, name), "the deleted target is withdrawn", ct);
        await onB.NextMatchingAsync(s => !TargetWatch.Has(s, name), "the deleted target is withdrawn", ct);
    }

    [Fact]
    public async Task Watch_AssignmentByHostsAndLocation_OnlyReachesThoseProbers()
    {
        var ct = TestContext.Current.CancellationToken;
        var suffix = Guid.NewGuid().ToString("N")[..8];
        string chosen = "chosen-" + suffix, other = "other-" + suffix, location = "dc-" + suffix;
        await using var chosenWatch = new TargetWatch(fx.GrpcA, chosen);
        await using var otherWatch = new TargetWatch(fx.GrpcA, other, location);
        await chosenWatch.NextMatchingAsync(_ => true, "the initial set arrives", ct);
        await otherWatch.NextMatchingAsync(_ => true, "the initial set arrives", ct);

        var byHost = NewName("byhost");
        var byLocation = NewName("byloc");
        using (var a = await fx.PostAsync(new { name = byHost, type = "icmp", config = new { host = "127.0.0.1" }, assignment = new { mode = "hosts", hostIds = new[] { chosen } } }, ct))
        {
            Assert.Equal(HttpStatusCode.Created, a.StatusCode);
        }
        using (var b = await fx.PostAsync(new { name = byLocation, type = "icmp", config = new { host = "127.0.0.1" }, assignment = new { mode = "location", location } }, ct))
        {
            Assert.Equal(HttpStatusCode.Created, b.StatusCode);
        }

        var chosenSet = await chosenWatch.NextMatchingAsync(s => TargetWatch.Has(s, byHost), "the host-assigned target reaches its host", ct);
        var otherSet = await otherWatch.NextMatchingAsync(s => TargetWatch.Has(s, byLocation), "the location-assigned target reaches its location", ct);
        Assert.False(TargetWatch.Has(chosenSet, byLocation));
        Assert.False(TargetWatch.Has(otherSet, byHost));
    }

    [Fact]
    public async Task Watch_AutoAssignment_RunsOnExactlyOneProberAndMovesWhenItLeaves()
    {
        var ct = TestContext.Current.CancellationToken;
        var name = NewName("lag");
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var first = new TargetWatch(fx.GrpcA, "auto-1-" + suffix);
        var second = new TargetWatch(fx.GrpcA, "auto-2-" + suffix);
        try
        {
            await first.NextMatchingAsync(_ => true, "the initial set arrives", ct);
            await second.NextMatchingAsync(_ => true, "the initial set arrives", ct);
            using (var created = await fx.PostAsync(new { name, type = "kafka", config = new { bootstrapServers = "127.0.0.1:9092", groupId = "g-" + suffix } }, ct))
            {
                Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            }
            await Poll.UntilAsync(() => TargetWatch.Has(first.Latest, name) || TargetWatch.Has(second.Latest, name), TimeSpan.FromSeconds(15), "one prober runs the auto target", ct);
            var holder = TargetWatch.Has(first.Latest!, name) ? first : second;
            var standby = ReferenceEquals(holder, first) ? second : first;
            Assert.False(TargetWatch.Has(standby.Latest, name), "an auto target must run on one prober only");

            await holder.DisposeAsync();
            await standby.NextMatchingAsync(s => TargetWatch.Has(s, name), "the auto target moves to the remaining prober", ct);
        }
        finally
        {
            await first.DisposeAsync();
            await second.DisposeAsync();
        }
    }

    [Fact]
    public async Task Watch_AutoAssignment_IsSharedAcrossManageInstances()
    {
        var ct = TestContext.Current.CancellationToken;
        var name = NewName("lagx");
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var onA = new TargetWatch(fx.GrpcA, "autox-a-" + suffix);
        var onB = new TargetWatch(fx.GrpcB, "autox-b-" + suffix);
        try
        {
            await onA.NextMatchingAsync(_ => true, "the initial set arrives", ct);
            await onB.NextMatchingAsync(_ => true, "the initial set arrives", ct);
            // Each instance must see the other's prober (etcd) before the choice can agree.
            using (var created = await fx.PostAsync(new { name, type = "kafka", config = new { bootstrapServers = "127.0.0.1:9092", groupId = "g-" + suffix } }, ct))
            {
                Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            }
            await Poll.UntilAsync(() => TargetWatch.Has(onA.Latest, name) ^ TargetWatch.Has(onB.Latest, name), TimeSpan.FromSeconds(15),
                "exactly one prober, on either instance, runs the auto target", ct);
            var holder = TargetWatch.Has(onA.Latest, name) ? onA : onB;
            var standby = ReferenceEquals(holder, onA) ? onB : onA;

            await holder.DisposeAsync();
            await standby.NextMatchingAsync(s => TargetWatch.Has(s, name), "the auto target moves to the prober on the other instance", ct);
        }
        finally
        {
            await onA.DisposeAsync();
            await onB.DisposeAsync();
        }
    }
}
