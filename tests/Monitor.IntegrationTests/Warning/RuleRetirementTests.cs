using System.Net.Http.Json;
using System.Text.Json;
using Monitor.TestUtilities;
using Xunit;

namespace Monitor.IntegrationTests.Warning;

/// <summary>A rule that is deleted or disabled ends its firing alerts: nothing stays firing for a rule that no longer evaluates.</summary>
public sealed class RuleRetirementTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData("delete")]
    [InlineData("disable")]
    public async Task RetiringRule_ResolvesItsFiringAlert_WithResolveNotice(string how)
    {
        // Arrange: a firing alert
        await using var h = await WarningHarness.StartAsync();
        var ct = TestContext.Current.CancellationToken;
        var host = $"retire-{how}";
        await h.WebhookChannelAsync("hook", "/hook");
        var ruleId = await h.CpuRuleAsync(host, consecutive: 1, ["hook"]);
        await h.CpuAsync(host, 95);
        await Poll.UntilAsync(() => h.Receiver.On("/hook").Count == 1, Timeout, "the firing notification\n" + h.Logs(), ct);

        // Act
        if (how == "delete")
        {
            using var deleted = await h.Api.DeleteAsync($"/api/v1/warning/rules/{ruleId}", ct);
            Assert.True(deleted.IsSuccessStatusCode, await deleted.Content.ReadAsStringAsync(ct));
        }
        else
        {
            var rule = await h.GetAsync($"/api/v1/warning/rules/{ruleId}");
            var spec = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(rule.GetProperty("spec").GetRawText())!;
            spec["enabled"] = JsonSerializer.SerializeToElement(false);
            using var updated = await h.Api.PutAsJsonAsync($"/api/v1/warning/rules/{ruleId}", spec, ct);
            Assert.True(updated.IsSuccessStatusCode, await updated.Content.ReadAsStringAsync(ct));
        }

        // Assert: resolved without a recovery value, one resolve notice, no state left
        await Poll.UntilAsync(() => h.Receiver.On("/hook").Count == 2, Timeout, "the resolve notification\n" + h.Logs(), ct);
        var notice = JsonDocument.Parse(h.Receiver.On("/hook")[1].Body).RootElement;
        Assert.Equal("resolved", notice.GetProperty("alert").GetProperty("kind").GetString());
        var alert = Assert.Single(await h.AlertsAsync(ruleId));
        Assert.Equal("resolved", alert.GetProperty("state").GetString());
        Assert.Equal(JsonValueKind.Null, alert.GetProperty("resolvedValue").ValueKind);
        Assert.Null(await h.StateAsync(ruleId, host));
    }
}
