using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Monitor.TestUtilities;
using Xunit;

namespace Monitor.IntegrationTests.Warning;

/// <summary>Notification channels against a real local HTTP receiver and SMTP sink.</summary>
public sealed class WarningChannelTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task DingTalk_SignedRequest_VerifiedByReceiver()
    {
        // Arrange
        await using var h = await WarningHarness.StartAsync();
        var ct = TestContext.Current.CancellationToken;
        const string secret = "SECtest-signing-secret-0123456789";
        await h.PostAsync("/api/v1/warning/channels", new { name = "ding", type = "dingtalk", url = h.Receiver.BaseUrl + "/robot/send?access_token=tok-ding", secret });
        await h.CpuRuleAsync("host-d", consecutive: 1, ["ding"]);

        // Act
        await h.CpuAsync("host-d", 99);

        // Assert: timestamp/sign verify with HMAC-SHA256(secret, timestamp + "\n" + secret); markdown body
        await Poll.UntilAsync(() => h.Receiver.On("/robot/send").Count == 1, Timeout, "the DingTalk request\n" + h.Logs(), ct);
        var request = h.Receiver.On("/robot/send")[0];
        Assert.Equal("tok-ding", request.Query["access_token"]);
        var timestamp = long.Parse(request.Query["timestamp"], CultureInfo.InvariantCulture);
        Assert.InRange(TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds() - timestamp, 0, 60 * 60 * 1000);
        var expected = Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{timestamp}\n{secret}")));
        Assert.Equal(expected, request.Query["sign"]);
        var body = JsonDocument.Parse(request.Body).RootElement;
        Assert.Equal("markdown", body.GetProperty("msgtype").GetString());
        Assert.Contains("host-d", body.GetProperty("markdown").GetProperty("text").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Webhook500_RetriedThenSucceeds_AndEveryOutcomeIsInThePushLog()
    {
        // Arrange: /flaky answers 500 twice then 200; /down always 500; /wecom is healthy
        await using var h = await WarningHarness.StartAsync(settings: new() { ["Warning__SendRetries"] = "3" });
        var ct = TestContext.Current.CancellationToken;
        h.Receiver.Script("/flaky", 500, 500);
        h.Receiver.Always("/down", 500);
        await h.WebhookChannelAsync("flaky", "/flaky");
        await h.WebhookChannelAsync("down", "/down");
        await h.PostAsync("/api/v1/warning/channels", new { name = "wecom", type = "wecom", url = h.Receiver.BaseUrl + "/wecom?key=wecom-secret-key" });
        var ruleId = await h.CpuRuleAsync("host-f", consecutive: 1, ["flaky", "down", "wecom"]);

        // Act
        await h.CpuAsync("host-f", 99);

        // Assert
        await Poll.UntilAsync(async () => (await h.AlertsAsync(ruleId)) is [var a] && (await h.PushLogAsync(a.GetProperty("id").GetInt64())).Count == 3,
            Timeout, "three push-log entries\n" + h.Logs(), ct);
        var alertId = Assert.Single(await h.AlertsAsync(ruleId)).GetProperty("id").GetInt64();
        var log = (await h.PushLogAsync(alertId)).ToDictionary(p => p.GetProperty("channel").GetString()!);
        Assert.Equal("sent", log["flaky"].GetProperty("status").GetString());
        Assert.Equal(3, log["flaky"].GetProperty("attempts").GetInt32());
        Assert.Equal("200", log["flaky"].GetProperty("reply").GetString());
        Assert.Equal(3, h.Receiver.On("/flaky").Count);
        Assert.Equal("failed", log["down"].GetProperty("status").GetString());
        Assert.Equal(4, log["down"].GetProperty("attempts").GetInt32());
        Assert.Equal("500", log["down"].GetProperty("reply").GetString());
        Assert.Equal("sent", log["wecom"].GetProperty("status").GetString());
        Assert.Equal(1, log["wecom"].GetProperty("attempts").GetInt32());
        foreach (var entry in log.Values)
        {
            Assert.Matches("^[0-9a-f]{64}$", entry.GetProperty("payloadDigest").GetString());
        }
        var wecom = JsonDocument.Parse(Assert.Single(h.Receiver.On("/wecom")).Body).RootElement;
        Assert.Equal("markdown", wecom.GetProperty("msgtype").GetString());
        Assert.Contains("host-f", wecom.GetProperty("markdown").GetProperty("content").GetString(), StringComparison.Ordinal);
        // Secrets never in logs or API responses
        Assert.DoesNotContain("wecom-secret-key", h.Logs(), StringComparison.Ordinal);
        Assert.DoesNotContain("wecom-secret-key", (await h.GetAsync("/api/v1/warning/channels")).GetRawText(), StringComparison.Ordinal);
        Assert.DoesNotContain("wecom-secret-key", (await h.GetAsync($"/api/v1/warning/push-log?alertId={alertId}")).GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Email_AlertFires_DeliveredToSmtpSinkWithTemplate()
    {
        // Arrange
        await using var h = await WarningHarness.StartAsync();
        var ct = TestContext.Current.CancellationToken;
        await h.PostAsync("/api/v1/warning/channels", new
        {
            name = "mail",
            type = "email",
            smtpHost = "127.0.0.1",
            smtpPort = h.Smtp.Port,
            smtpUser = "",
            emailFrom = "monitor@example.com",
            emailTo = new[] { "ops@example.com" },
            template = "ALERT {{severity}} {{rule}} host={{host}} value={{value}} threshold={{threshold}}",
        });
        var ruleId = await h.CpuRuleAsync("host-m", consecutive: 1, ["mail"]);

        // Act
        await h.CpuAsync("host-m", 93);

        // Assert
        await Poll.UntilAsync(() => !h.Smtp.Messages.IsEmpty, Timeout, "an email in the sink\n" + h.Logs(), ct);
        var message = Assert.Single(h.Smtp.Messages);
        Assert.Contains("ALERT critical", message, StringComparison.Ordinal);
        Assert.Contains("host=host-m value=93 threshold=90", message, StringComparison.Ordinal);
        Assert.Contains("ops@example.com", message, StringComparison.Ordinal);
        var alertId = Assert.Single(await h.AlertsAsync(ruleId)).GetProperty("id").GetInt64();
        await Poll.UntilAsync(async () => (await h.PushLogAsync(alertId)).Count == 1, Timeout, "the push-log entry", ct);
        var entry = Assert.Single(await h.PushLogAsync(alertId));
        Assert.Equal("sent", entry.GetProperty("status").GetString());
        Assert.Contains("queued as sink", entry.GetProperty("reply").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Grouping_SameRuleOnSeveralHostsWithinWindow_OneNotification()
    {
        // Arrange
        await using var h = await WarningHarness.StartAsync(settings: new() { ["Warning__GroupWindow"] = "00:00:05" });
        var ct = TestContext.Current.CancellationToken;
        await h.WebhookChannelAsync("hook", "/hook");
        await h.PostAsync("/api/v1/warning/rules", new
        {
            name = "fleet cpu",
            metric = "cpu_rate",
            scope = new { kind = "all" },
            bands = new { warning = 70.0 },
            consecutiveBreaches = 1,
            channels = new[] { "hook" },
        });

        // Act: two hosts breach at once, a third one second later (still within the group window of the first)
        await h.CpuAsync("group-a", 88);
        await h.CpuAsync("group-b", 88);
        await Task.Delay(TimeSpan.FromSeconds(1), ct);
        await h.CpuAsync("group-c", 88);

        // Assert: one request carrying the three alerts
        await Poll.UntilAsync(() => h.Receiver.On("/hook").Count >= 1, Timeout, "the grouped notification\n" + h.Logs(), ct);
        foreach (var host in new[] { "group-a", "group-b", "group-c" })
        {
            await h.BarrierAsync(host);
        }
        var request = Assert.Single(h.Receiver.On("/hook"));
        var alerts = JsonDocument.Parse(request.Body).RootElement.GetProperty("alerts").EnumerateArray().Select(a => a.GetProperty("host").GetString()).Order();
        Assert.Equal(["group-a", "group-b", "group-c"], alerts);
    }
}
