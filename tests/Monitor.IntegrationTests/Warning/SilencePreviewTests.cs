using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Monitor.IntegrationTests.Analyze;
using Monitor.Protos.V1;
using Monitor.TestUtilities;
using Xunit;

namespace Monitor.IntegrationTests.Warning;

/// <summary><c>POST /api/v1/warning/silences/preview</c> (the console's silence editor): which firing alerts a draft matches now.</summary>
public sealed class SilencePreviewTests
{
    [Fact]
    public async Task Preview_MatchesFiringAlertsByRuleHostAndLocation_WithoutStoringTheSilence()
    {
        // Arrange: one fleet rule firing on a dc1 host and a dc2 host (locations from the manage service)
        var ct = TestContext.Current.CancellationToken;
        await using var manage = await FakeManageService.StartAsync(
        [
            new Host { HostId = "pv-a1", Location = "dc1" },
            new Host { HostId = "pv-b1", Location = "dc2" },
        ], ct);
        await using var h = await WarningHarness.StartAsync(settings: new()
        {
            ["Manage__Address"] = manage.Address,
            ["Manage__RefreshInterval"] = "00:00:00.500",
        });
        var rule = await h.PostAsync("/api/v1/warning/rules", new
        {
            name = "preview load",
            metric = "load1",
            scope = new { kind = "all" },
            bands = new { critical = 10.0 },
            consecutiveBreaches = 1,
            channels = Array.Empty<string>(),
        });
        var ruleId = rule.GetProperty("id").GetInt64();
        foreach (var host in new[] { "pv-a1", "pv-b1" })
        {
            await Poll.UntilAsync(async () =>
            {
                await h.ProduceAsync(host, ("load1", 50));
                return (await h.AlertsAsync(ruleId, host)).Any(a => a.GetProperty("state").GetString() == "firing");
            }, TimeSpan.FromSeconds(30), $"the rule to fire for {host}\n" + h.Logs(), ct);
        }

        // Act
        var byLocation = await h.PostAsync("/api/v1/warning/silences/preview", new { location = "dc2" }, expectedStatus: 200);
        var byHost = await h.PostAsync("/api/v1/warning/silences/preview", new { hostId = "pv-a1", ruleId }, expectedStatus: 200);
        var byRule = await h.PostAsync("/api/v1/warning/silences/preview", new { ruleId }, expectedStatus: 200);
        var otherRule = await h.PostAsync("/api/v1/warning/silences/preview", new { ruleId = ruleId + 1000 }, expectedStatus: 200);

        // Assert
        Assert.Equal(["pv-b1"], Hosts(byLocation));
        Assert.Equal(["pv-a1"], Hosts(byHost));
        Assert.Equal(["pv-a1", "pv-b1"], Hosts(byRule));
        Assert.All(byRule.EnumerateArray(), a => Assert.Equal("firing", a.GetProperty("state").GetString()));
        Assert.Empty(Hosts(otherRule));
        Assert.Equal(0, (await h.GetAsync("/api/v1/warning/silences?active=false")).GetArrayLength());
    }

    [Fact]
    public async Task Preview_InvalidDraft_Is400ProblemNamingTheField()
    {
        // Arrange
        await using var h = await WarningHarness.StartAsync();
        var now = TimeProvider.System.GetUtcNow();

        // Act
        var noMatcher = await ProblemAsync(h, new { comment = "nothing to match on" });
        var backwards = await ProblemAsync(h, new { hostId = "web-1", startsAt = now, endsAt = now.AddMinutes(-5) });

        // Assert
        Assert.True(noMatcher.GetProperty("errors").TryGetProperty("ruleId", out _), noMatcher.GetRawText());
        Assert.True(backwards.GetProperty("errors").TryGetProperty("endsAt", out _), backwards.GetRawText());
        Assert.False(backwards.GetProperty("errors").TryGetProperty("ruleId", out _), backwards.GetRawText());
    }

    private static List<string> Hosts(JsonElement alerts) =>
        alerts.EnumerateArray().Select(a => a.GetProperty("hostId").GetString()!).Order(StringComparer.Ordinal).ToList();

    private static async Task<JsonElement> ProblemAsync(WarningHarness h, object body)
    {
        using var response = await h.Api.PostAsJsonAsync("/api/v1/warning/silences/preview", body, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).RootElement.Clone();
    }
}
