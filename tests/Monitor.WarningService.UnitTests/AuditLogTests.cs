using System.Text.Json;
using Monitor.WarningService.Data;
using Monitor.WarningService.Rules;
using Xunit;

namespace Monitor.WarningService.UnitTests;

public sealed class AuditLogTests
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=SECRET-KEY", "https://qyapi.weixin.qq.com/***")]
    [InlineData("http://user:SECRET-PW@hooks.local:8080/x/SECRET-PATH", "http://hooks.local:8080/***")]
    [InlineData("not a url SECRET", "***")]
    public void MaskUrl_KeepsOnlyTheOrigin(string url, string expected)
    {
        Assert.Equal(expected, AuditLog.MaskUrl(url));
    }

    [Fact]
    public void ChannelView_SecretsMasked_NothingSecretInTheJson()
    {
        // Arrange
        var channel = new ChannelEntity
        {
            Name = "ops", Type = "email", SmtpHost = "smtp.local", SmtpPort = 587, SmtpUser = "ops", SmtpPassword = "SECRET-SMTP",
            EmailFrom = "a@b.c", EmailTo = "x@y.z", Url = "https://h.local/SECRET-URL", Secret = "SECRET-SIGN",
        };

        // Act
        var json = AuditLog.Serialize(AuditLog.View(channel))!;

        // Assert
        Assert.DoesNotContain("SECRET", json, StringComparison.Ordinal);
        var root = JsonDocument.Parse(json).RootElement;
        Assert.Equal("***", root.GetProperty("smtpPassword").GetString());
        Assert.Equal("***", root.GetProperty("secret").GetString());
        Assert.Equal("https://h.local/***", root.GetProperty("url").GetString());
        Assert.Equal("smtp.local", root.GetProperty("smtpHost").GetString());
    }

    [Fact]
    public void ChannelView_NoSecretsSet_LeavesThemOut()
    {
        var json = AuditLog.Serialize(AuditLog.View(new ChannelEntity { Name = "n", Type = "webhook" }))!;
        var root = JsonDocument.Parse(json).RootElement;
        Assert.False(root.TryGetProperty("secret", out _));
        Assert.False(root.TryGetProperty("smtpPassword", out _));
        Assert.False(root.TryGetProperty("url", out _));
    }

    [Fact]
    public void Entry_ActorCutTo128_TimeInUtc()
    {
        var entry = AuditLog.Entry(T0, new string('a', 200), "create", AuditLog.Silence, "7", null,
            AuditLog.View(new SilenceEntity { Id = 7, HostId = "h", StartsAtMs = T0.ToUnixTimeMilliseconds(), EndsAtMs = T0.AddHours(1).ToUnixTimeMilliseconds(), Comment = "c" }));
        Assert.Equal(128, entry.Actor.Length);
        Assert.Equal(DateTimeKind.Utc, entry.At.Kind);
        Assert.Equal(T0.UtcDateTime, entry.At);
        Assert.Null(entry.Before);
        Assert.Equal("h", JsonDocument.Parse(entry.After!).RootElement.GetProperty("hostId").GetString());
    }

    [Fact]
    public void RuleAuditAction_OnlyEnabledChanged_EnableOrDisable_OtherwiseUpdate()
    {
        var spec = new RuleSpec { Name = "cpu", Metric = "cpu_rate", Enabled = true };
        var disabled = RuleSpec.FromJson(spec.ToJson());
        disabled.Enabled = false;
        var disabledAndChanged = RuleSpec.FromJson(disabled.ToJson());
        disabledAndChanged.ConsecutiveBreaches = 9;
        var changed = RuleSpec.FromJson(spec.ToJson());
        changed.ConsecutiveBreaches = 9;

        Assert.Equal("disable", RuleService.AuditAction(spec.ToJson(), disabled));
        Assert.Equal("enable", RuleService.AuditAction(disabled.ToJson(), spec));
        Assert.Equal("update", RuleService.AuditAction(spec.ToJson(), disabledAndChanged));
        Assert.Equal("update", RuleService.AuditAction(spec.ToJson(), changed));
    }
}
