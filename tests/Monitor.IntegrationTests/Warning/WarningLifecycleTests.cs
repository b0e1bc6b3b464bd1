using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Monitor.TestUtilities;
using Xunit;

namespace Monitor.IntegrationTests.Warning;

/// <summary>Alert lifecycle against real MariaDB, Kafka and a real HTTP receiver, with warning-service as a real process.</summary>
public sealed class WarningLifecycleTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Breaches_ExactlyNConsecutive_FiresOnTheNthNotBefore()
    {
        // Arrange
        await using var h = await WarningHarness.StartAsync();
        var ct = TestContext.Current.CancellationToken;
        await h.WebhookChannelAsync("hook", "/hook");
        var ruleId = await h.CpuRuleAsync("host-n", consecutive: 3, ["hook"]);

        // Act: two breaches
        await h.CpuAsync("host-n", 75);
        await h.CpuAsync("host-n", 76);
        await h.BarrierAsync("host-n");

        // Assert: pending with 2 of 3, nothing fired, nothing sent
        var state = await h.StateAsync(ruleId, "host-n");
        Assert.NotNull(state);
        Assert.Equal("pending", state.Value.GetProperty("phase").GetString());
        Assert.Equal(2, state.Value.GetProperty("count").GetInt32());
        Assert.Empty(await h.AlertsAsync(ruleId));

        // Act: the third breach
        await h.CpuAsync("host-n", 77);

        // Assert: fired with its evidence and notified once
        await Poll.UntilAsync(() => h.Receiver.On("/hook").Count == 1, Timeout, "the firing notification\n" + h.Logs(), ct);
        var alert = Assert.Single(await h.AlertsAsync(ruleId));
        Assert.Equal("firing", alert.GetProperty("state").GetString());
        Assert.Equal("warning", alert.GetProperty("severity").GetString());
        Assert.Equal(1, alert.GetProperty("ruleVersion").GetInt32());
        Assert.Equal(3, alert.GetProperty("consecutiveCount").GetInt32());
        Assert.Equal(3, alert.GetProperty("consecutiveNeeded").GetInt32());
        Assert.Equal(70, alert.GetProperty("threshold").GetDouble());
        Assert.Equal(77, alert.GetProperty("value").GetDouble());
        Assert.Equal([75.0, 76.0, 77.0], alert.GetProperty("breachingValues").EnumerateArray().Select(v => v.GetDouble()));
        Assert.True(alert.GetProperty("windowStart").GetDateTimeOffset() < alert.GetProperty("windowEnd").GetDateTimeOffset());
        var body = JsonDocument.Parse(h.Receiver.On("/hook")[0].Body).RootElement;
        Assert.Equal("firing", body.GetProperty("alert").GetProperty("kind").GetString());
        Assert.Equal("host-n", body.GetProperty("alert").GetProperty("host").GetString());
    }

    [Fact]
    public async Task Resolve_WithHysteresis_StaysFiringUntilBelowRecoveryThenNotifiesResolve()
    {
        // Arrange
        await using var h = await WarningHarness.StartAsync();
        var ct = TestContext.Current.CancellationToken;
        await h.WebhookChannelAsync("hook", "/hook");
        var ruleId = await h.CpuRuleAsync("host-h", consecutive: 1, ["hook"], recovery: 40);
        await h.CpuAsync("host-h", 80);
        await Poll.UntilAsync(() => h.Receiver.On("/hook").Count == 1, Timeout, "the firing notification\n" + h.Logs(), ct);

        // Act: below the band (70) but above the recovery threshold (40)
        await h.CpuAsync("host-h", 55);
        await h.BarrierAsync("host-h");

        // Assert: still firing
        Assert.Equal("firing", Assert.Single(await h.AlertsAsync(ruleId)).GetProperty("state").GetString());

        // Act: below the recovery threshold
        await h.CpuAsync("host-h", 35);

        // Assert: resolved with the value at resolution, and a resolve notification
        await Poll.UntilAsync(() => h.Receiver.On("/hook").Count == 2, Timeout, "the resolve notification\n" + h.Logs(), ct);
        var alert = Assert.Single(await h.AlertsAsync(ruleId));
        Assert.Equal("resolved", alert.GetProperty("state").GetString());
        Assert.Equal(35, alert.GetProperty("resolvedValue").GetDouble());
        Assert.True(alert.GetProperty("resolvedAt").GetDateTimeOffset() > alert.GetProperty("firedAt").GetDateTimeOffset());
        var resolved = JsonDocument.Parse(h.Receiver.On("/hook")[1].Body).RootElement.GetProperty("alert");
        Assert.Equal("resolved", resolved.GetProperty("kind").GetString());
    }

    [Fact]
    public async Task Silence_ForHost_SuppressesItsNotificationsOnly()
    {
        // Arrange
        await using var h = await WarningHarness.StartAsync();
        var ct = TestContext.Current.CancellationToken;
        await h.WebhookChannelAsync("hook", "/hook");
        var silencedRule = await h.CpuRuleAsync("host-quiet", consecutive: 1, ["hook"]);
        var loudRule = await h.CpuRuleAsync("host-loud", consecutive: 1, ["hook"]);
        var now = TimeProvider.System.GetUtcNow();
        await h.PostAsync("/api/v1/warning/silences", new { hostId = "host-quiet", endsAt = now.AddHours(1), comment = "maintenance" });

        // Act: the silenced host fires first, then the other one
        await h.CpuAsync("host-quiet", 95);
        await h.BarrierAsync("host-quiet");
        await h.CpuAsync("host-loud", 95);

        // Assert: the silenced alert is recorded, its notification marked silenced and never sent;
        // the later alert was sent, so the dispatcher had passed the silenced one.
        await Poll.UntilAsync(() => h.Receiver.On("/hook").Count == 1, Timeout, "the loud host's notification\n" + h.Logs(), ct);
        var quiet = Assert.Single(await h.AlertsAsync(silencedRule));
        var detail = await h.GetAsync($"/api/v1/warning/alerts/{quiet.GetProperty("id").GetInt64()}");
        Assert.Equal("silenced", Assert.Single(detail.GetProperty("notifications").EnumerateArray()).GetProperty("status").GetString());
        Assert.Empty(detail.GetProperty("pushLog").EnumerateArray());
        Assert.Single(await h.AlertsAsync(loudRule));
        Assert.Contains("host-loud", h.Receiver.On("/hook")[0].Body, StringComparison.Ordinal);
        Assert.DoesNotContain(h.Receiver.Requests, r => r.Body.Contains("host-quiet", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Restart_MidFiring_SendsNoDuplicateAndStillResolves()
    {
        // Arrange: an alert fired and was notified
        await using var h = await WarningHarness.StartAsync();
        var ct = TestContext.Current.CancellationToken;
        await h.WebhookChannelAsync("hook", "/hook");
        var ruleId = await h.CpuRuleAsync("host-r", consecutive: 2, ["hook"]);
        await h.CpuAsync("host-r", 85);
        await h.CpuAsync("host-r", 86);
        await Poll.UntilAsync(() => h.Receiver.On("/hook").Count == 1, Timeout, "the firing notification\n" + h.Logs(), ct);

        // Act: kill the instance (no graceful shutdown), start a new one, keep breaching, then recover
        h.Instances[0].Process.Kill();
        await h.StartInstanceAsync();
        await h.CpuAsync("host-r", 87);
        await h.CpuAsync("host-r", 88);
        await h.BarrierAsync("host-r", TimeSpan.FromSeconds(60));
        await h.CpuAsync("host-r", 20);

        // Assert: exactly one firing and one resolve notification, one alert
        await Poll.UntilAsync(() => h.Receiver.On("/hook").Count >= 2, Timeout, "the resolve notification\n" + h.Logs(), ct);
        await h.BarrierAsync("host-r");
        var kinds = h.Receiver.On("/hook").Select(r => JsonDocument.Parse(r.Body).RootElement.GetProperty("alert").GetProperty("kind").GetString()).ToList();
        Assert.Equal(["firing", "resolved"], kinds);
        var alert = Assert.Single(await h.AlertsAsync(ruleId));
        Assert.Equal("resolved", alert.GetProperty("state").GetString());
    }

    [Fact]
    public async Task Acknowledge_RepeatingAlert_StopsRepeating()
    {
        // Arrange: repeat every second
        await using var h = await WarningHarness.StartAsync();
        var ct = TestContext.Current.CancellationToken;
        await h.WebhookChannelAsync("hook", "/hook");
        var ruleId = await h.CpuRuleAsync("host-a", consecutive: 1, ["hook"], repeatSeconds: 1);
        await h.CpuAsync("host-a", 95);
        await Poll.UntilAsync(() => h.Receiver.On("/hook").Count >= 2, Timeout, "a repeat notification\n" + h.Logs(), ct);
        var alertId = Assert.Single(await h.AlertsAsync(ruleId)).GetProperty("id").GetInt64();

        // Act
        var acked = await h.PostAsync($"/api/v1/warning/alerts/{alertId}/ack", new { by = "oncall" }, expectedStatus: 200);
        var countAtAck = h.Receiver.On("/hook").Count;
        await Task.Delay(TimeSpan.FromSeconds(3), ct); // three repeat intervals: a negative needs a bounded wait

        // Assert: at most one repeat that was already queued when the ack landed
        Assert.Equal("oncall", acked.GetProperty("acknowledgedBy").GetString());
        Assert.InRange(h.Receiver.On("/hook").Count, countAtAck, countAtAck + 1);
        Assert.Contains(h.Receiver.On("/hook"), r => r.Body.Contains("\"repeat\"", StringComparison.Ordinal));
    }
}
