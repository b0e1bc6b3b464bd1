using System.Text.Json;
using Confluent.Kafka;
using Monitor.IntegrationTests.Manage;
using Monitor.TestUtilities;
using Xunit;

namespace Monitor.IntegrationTests.Warning;

/// <summary>
/// Decommissioning end to end: a real manage service deletes a host, announces it in etcd, and a real warning
/// service ends the host's alerts, stops evaluating it, and evaluates it again once it is registered again.
/// </summary>
public sealed class HostDecommissionTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task DeletingHost_EndsItsAlertsWithResolveNotice_IgnoresItUntilRegisteredAgain()
    {
        // Arrange: manage and warning share the deletion-event prefix
        var ct = TestContext.Current.CancellationToken;
        await using var manage = new ManageFixture();
        await manage.InitializeAsync();
        await using var h = await WarningHarness.StartAsync(settings: new() { ["Warning__HostDeletedEventPrefix"] = manage.EventPrefix });
        const string host = "decom-host";
        using (var created = await manage.PostJsonAsync("/api/v1/manage/hosts", new { hostId = host, location = "dc-1" }, ct))
        {
            Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync(ct));
        }
        await h.WebhookChannelAsync("hook", "/hook");
        var ruleId = await h.CpuRuleAsync(host, consecutive: 2, ["hook"]);
        await h.CpuAsync(host, 95);
        await h.CpuAsync(host, 96);
        await Poll.UntilAsync(() => h.Receiver.On("/hook").Count == 1, Timeout, "the firing notification\n" + h.Logs(), ct);
        var firing = Assert.Single(await h.AlertsAsync(ruleId));
        Assert.Equal("firing", firing.GetProperty("state").GetString());

        // Act: decommission the host through the manage API
        using (var deleted = await manage.Http.DeleteAsync($"/api/v1/manage/hosts/{host}", ct))
        {
            Assert.True(deleted.IsSuccessStatusCode, await deleted.Content.ReadAsStringAsync(ct));
        }

        // Assert: the alert is resolved without a recovery value, a resolve notice went out, the state is gone
        await Poll.UntilAsync(async () => (await h.AlertsAsync(ruleId)).Single().GetProperty("state").GetString() == "resolved",
            Timeout, "the alert of the deleted host to be ended\n" + h.Logs(), ct);
        var ended = Assert.Single(await h.AlertsAsync(ruleId));
        Assert.Equal(JsonValueKind.Null, ended.GetProperty("resolvedValue").ValueKind);
        await Poll.UntilAsync(() => h.Receiver.On("/hook").Count == 2, Timeout, "the resolve notification\n" + h.Logs(), ct);
        var notice = JsonDocument.Parse(h.Receiver.On("/hook")[1].Body).RootElement;
        Assert.Equal("resolved", notice.GetProperty("alert").GetProperty("kind").GetString());
        Assert.Null(await h.StateAsync(ruleId, host));

        // Act: the deleted host keeps reporting a breach; wait until warning has consumed it
        await h.CpuAsync(host, 97);
        await WaitAllConsumedAsync(h, ct);

        // Assert: not evaluated — no state, no new alert
        Assert.Null(await h.StateAsync(ruleId, host));
        Assert.Single(await h.AlertsAsync(ruleId));

        // Act: register the host again, then one breach
        using (var again = await manage.PostJsonAsync("/api/v1/manage/hosts", new { hostId = host, location = "dc-1" }, ct))
        {
            Assert.True(again.IsSuccessStatusCode, await again.Content.ReadAsStringAsync(ct));
        }
        await Poll.UntilAsync(() => h.Logs().Contains("is no longer marked deleted", StringComparison.Ordinal), Timeout,
            "warning to see the host registered again\n" + h.Logs(), ct);
        await h.CpuAsync(host, 98);
        await h.BarrierAsync(host);

        // Assert: evaluated from scratch — one breach of two (the one while deleted did not count), no new alert yet
        var state = await h.StateAsync(ruleId, host);
        Assert.NotNull(state);
        Assert.Equal("pending", state.Value.GetProperty("phase").GetString());
        Assert.Equal(1, state.Value.GetProperty("count").GetInt32());
        Assert.Single(await h.AlertsAsync(ruleId));
    }

    /// <summary>Polls until the warning group's committed offsets reach the end of every partition of the topic.</summary>
    private static async Task WaitAllConsumedAsync(WarningHarness h, CancellationToken ct)
    {
        // Never subscribes, so it does not join (and disturb) the group: it only fetches the committed offsets.
        using var probe = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig
        {
            BootstrapServers = StackEnvironment.Kafka,
            GroupId = h.GroupId,
            EnableAutoCommit = false,
        }).Build();
        var partitions = Enumerable.Range(0, 4).Select(p => new TopicPartition(h.Topic, p)).ToList();
        await Poll.UntilAsync(() =>
        {
            var committed = probe.Committed(partitions, TimeSpan.FromSeconds(5));
            return committed.All(c =>
            {
                var end = probe.QueryWatermarkOffsets(c.TopicPartition, TimeSpan.FromSeconds(5)).High;
                return end.Value == 0 || c.Offset.Value == end.Value;
            });
        }, Timeout, "the warning group to consume everything\n" + h.Logs(), ct);
    }
}
