using System.Security.Cryptography;
using System.Text;
using Monitor.WarningService.Api;
using Monitor.WarningService.Data;
using Monitor.WarningService.Evaluation;
using Monitor.WarningService.Notifications;
using Xunit;

namespace Monitor.WarningService.UnitTests;

public sealed class NotificationTests
{
    [Fact]
    public void DingTalkSigner_SignUrl_MatchesTheDocumentedScheme()
    {
        // Arrange
        const string secret = "SEC0123456789abcdef";
        const long timestamp = 1_700_000_000_000;
        var expected = Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{timestamp}\n{secret}")));

        // Act
        var url = DingTalkSigner.SignUrl("https://oapi.dingtalk.com/robot/send?access_token=abc", secret, timestamp);

        // Assert
        Assert.Equal($"https://oapi.dingtalk.com/robot/send?access_token=abc&timestamp={timestamp}&sign={Uri.EscapeDataString(expected)}", url);
    }

    [Fact]
    public void MessageTemplates_Default_CarriesTheEvidence()
    {
        // Arrange
        var alert = new AlertEntity
        {
            Id = 7, RuleId = 3, RuleVersion = 2, RuleName = "cpu high", HostId = "web-1", Metric = "cpu_rate", Comparator = "gt",
            Severity = "warning", State = "firing", Value = 77, Threshold = 70, BreachValuesJson = "[75,76,77]",
            ConsecutiveCount = 3, ConsecutiveNeeded = 3, FiredAtMs = 1_700_000_000_000, WindowStartMs = 1_699_999_998_000, WindowEndMs = 1_700_000_000_000,
        };

        // Act
        var message = MessageTemplates.Render(alert, NotificationKinds.Firing, null);

        // Assert
        Assert.Contains("cpu high", message.Text, StringComparison.Ordinal);
        Assert.Contains("web-1", message.Text, StringComparison.Ordinal);
        Assert.Contains("75, 76, 77", message.Text, StringComparison.Ordinal);
        Assert.Contains("3/3", message.Text, StringComparison.Ordinal);
        Assert.Contains("v2", message.Text, StringComparison.Ordinal);
        Assert.Contains("> 70", message.Text, StringComparison.Ordinal);
    }

    [Fact]
    public void MessageTemplates_CustomTemplate_ReplacesPlaceholders()
    {
        var alert = new AlertEntity { HostId = "db-1", Severity = "critical", Value = 99.5 };
        var message = MessageTemplates.Render(alert, NotificationKinds.Resolved, "{{KIND}} {{host}} {{severity}} {{value}} {{unknown}}");
        Assert.Equal("RESOLVED db-1 critical 99.5 {{unknown}}", message.Text);
    }

    [Fact]
    public void ChannelDto_From_NeverCarriesSecrets()
    {
        var channel = new ChannelEntity { Name = "robot", Type = "dingtalk", Url = "https://x/robot?access_token=TOPSECRET", Secret = "SECRET2", SmtpPassword = "PW" };
        var json = System.Text.Json.JsonSerializer.Serialize(ChannelDto.From(channel));
        Assert.DoesNotContain("TOPSECRET", json, StringComparison.Ordinal);
        Assert.DoesNotContain("SECRET2", json, StringComparison.Ordinal);
        Assert.DoesNotContain("\"PW\"", json, StringComparison.Ordinal);
        Assert.Contains("\"HasUrl\":true", json, StringComparison.Ordinal);
    }

    [Fact]
    public void SampleWindow_Aggregations_ComputeOverTheWindow()
    {
        var window = new SampleWindow();
        for (int i = 1; i <= 20; i++)
        {
            window.Add(i * 1000, i, windowMs: 10_000, maxSamples: 100);
        }
        Assert.Equal(11, window.Count);
        Assert.Equal(20, window.Aggregate("last"));
        Assert.Equal(15, window.Aggregate("mean"));
        Assert.Equal(10, window.Aggregate("min"));
        Assert.Equal(20, window.Aggregate("p95"));
        Assert.Equal(1, window.RatePerSecond());
    }

    [Fact]
    public void MessageTemplates_RenderGroup_OneMessageListingEveryHost()
    {
        var alerts = new[] { "a", "b" }.Select((h, i) => new AlertEntity { Id = i + 1, RuleName = "cpu", HostId = h, Severity = i == 0 ? "warning" : "critical" }).ToList();
        var message = MessageTemplates.RenderGroup(alerts, NotificationKinds.Firing, null);
        Assert.Equal(2, message.Alerts.Count);
        Assert.Contains("critical: cpu on 2 hosts (a, b)", message.Title, StringComparison.Ordinal);
        Assert.Equal("a, b", message.Fields["hosts"]);
    }
}
