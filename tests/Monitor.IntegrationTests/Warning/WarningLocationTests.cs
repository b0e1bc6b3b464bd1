using Monitor.IntegrationTests.Analyze;
using Monitor.Protos.V1;
using Monitor.TestUtilities;
using Xunit;

namespace Monitor.IntegrationTests.Warning;

/// <summary>Location-scoped rules and silences, with host → location from a stand-in manage service (gRPC).</summary>
public sealed class WarningLocationTests
{
    [Fact]
    public async Task LocationScope_RuleAndSilence_FollowTheManageServicesLocations()
    {
        // Arrange
        var ct = TestContext.Current.CancellationToken;
        await using var manage = await FakeManageService.StartAsync(
        [
            new Host { HostId = "loc-a1", Location = "dc1" },
            new Host { HostId = "loc-a2", Location = "dc1" },
            new Host { HostId = "loc-b1", Location = "dc2" },
        ], ct);
        await using var h = await WarningHarness.StartAsync(settings: new()
        {
            ["Manage__Address"] = manage.Address,
            ["Manage__RefreshInterval"] = "00:00:00.500",
        });
        await h.WebhookChannelAsync("hook", "/hook");
        var dc1Rule = await h.PostAsync("/api/v1/warning/rules", new
        {
            name = "dc1 cpu",
            metric = "cpu_rate",
            scope = new { kind = "location", value = "dc1" },
            bands = new { warning = 70.0 },
            consecutiveBreaches = 1,
            channels = new[] { "hook" },
        });
        var dc1RuleId = dc1Rule.GetProperty("id").GetInt64();

        // Act: breach on a dc1 host until the directory has been read and the rule fires
        await Poll.UntilAsync(async () =>
        {
            await h.CpuAsync("loc-a1", 90);
            await h.BarrierAsync("loc-a1");
            return (await h.AlertsAsync(dc1RuleId, "loc-a1")).Count == 1;
        }, TimeSpan.FromSeconds(30), "the dc1 rule to fire for loc-a1\n" + h.Logs(), ct);
        await h.CpuAsync("loc-b1", 90);
        await h.BarrierAsync("loc-b1");

        // Assert: the dc2 host is outside the rule's scope
        Assert.Empty(await h.AlertsAsync(dc1RuleId, "loc-b1"));

        // Arrange: a fleet rule, with dc2 silenced
        var fleetRule = await h.PostAsync("/api/v1/warning/rules", new
        {
            name = "fleet load",
            metric = "load1",
            scope = new { kind = "all" },
            bands = new { critical = 10.0 },
            consecutiveBreaches = 1,
            channels = new[] { "hook" },
        });
        await h.PostAsync("/api/v1/warning/silences", new { location = "dc2", endsAt = TimeProvider.System.GetUtcNow().AddHours(1) });

        // Act
        await h.ProduceAsync("loc-b1", ("load1", 50));
        await h.BarrierAsync("loc-b1");
        await h.ProduceAsync("loc-a2", ("load1", 50));

        // Assert: dc2's alert is silenced, dc1's is sent
        await Poll.UntilAsync(() => h.Receiver.On("/hook").Any(r => r.Body.Contains("loc-a2", StringComparison.Ordinal)), TimeSpan.FromSeconds(30),
            "the loc-a2 notification\n" + h.Logs(), ct);
        var silenced = Assert.Single(await h.AlertsAsync(fleetRule.GetProperty("id").GetInt64(), "loc-b1"));
        var detail = await h.GetAsync($"/api/v1/warning/alerts/{silenced.GetProperty("id").GetInt64()}");
        Assert.Equal("silenced", Assert.Single(detail.GetProperty("notifications").EnumerateArray()).GetProperty("status").GetString());
        Assert.DoesNotContain(h.Receiver.On("/hook"), r => r.Body.Contains("\"host\":\"loc-b1\"", StringComparison.Ordinal) && r.Body.Contains("fleet load", StringComparison.Ordinal));
    }
}
