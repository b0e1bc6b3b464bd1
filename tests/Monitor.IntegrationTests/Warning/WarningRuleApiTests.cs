using System.Net.Http.Json;
using System.Text.Json;
using Xunit;

namespace Monitor.IntegrationTests.Warning;

/// <summary>Rules API against real MariaDB: validation problems, versioning, the original's /rule.</summary>
public sealed class WarningRuleApiTests
{
    [Fact]
    public async Task CreateRule_Invalid_Returns400NamingEachField()
    {
        // Arrange
        await using var h = await WarningHarness.StartAsync();

        // Act
        var problem = await h.PostAsync("/api/v1/warning/rules", new
        {
            name = "bad",
            metric = "cpu_rat",
            scope = new { kind = "location", value = "" },
            bands = new { info = 80.0, warning = 70.0 },
            channels = new[] { "nope" },
        }, expectedStatus: 400);

        // Assert
        var errors = problem.GetProperty("errors");
        Assert.True(errors.TryGetProperty("metric", out _));
        Assert.True(errors.TryGetProperty("scope.value", out _));
        Assert.True(errors.TryGetProperty("bands.warning", out _));
        Assert.True(errors.TryGetProperty("channels[0]", out _));
    }

    [Fact]
    public async Task UpdateRule_EveryChange_CreatesANewVersion()
    {
        // Arrange
        await using var h = await WarningHarness.StartAsync();
        var ct = TestContext.Current.CancellationToken;
        var id = await h.CpuRuleAsync("host-v", consecutive: 3, []);

        // Act
        using var put = await h.Api.PutAsJsonAsync($"/api/v1/warning/rules/{id}", new
        {
            name = "cpu high host-v",
            metric = "cpu_rate",
            scope = new { kind = "host", value = "host-v" },
            bands = new { warning = 75.0, critical = 95.0 },
            consecutiveBreaches = 5,
        }, ct);
        put.EnsureSuccessStatusCode();
        using var delete = await h.Api.DeleteAsync($"/api/v1/warning/rules/{id}", ct);

        // Assert
        Assert.Equal(System.Net.HttpStatusCode.NoContent, delete.StatusCode);
        var versions = (await h.GetAsync($"/api/v1/warning/rules/{id}/versions")).EnumerateArray().ToList();
        Assert.Equal([1, 2, 3], versions.Select(v => v.GetProperty("version").GetInt32()));
        Assert.Equal(70, versions[0].GetProperty("spec").GetProperty("bands").GetProperty("warning").GetDouble());
        Assert.Equal(75, versions[1].GetProperty("spec").GetProperty("bands").GetProperty("warning").GetDouble());
        using var gone = await h.Api.GetAsync($"/api/v1/warning/rules/{id}", ct);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task LegacyRule_PostThenGet_RoundTripsFractionsOntoPercentRules()
    {
        // Arrange
        await using var h = await WarningHarness.StartAsync();
        var ct = TestContext.Current.CancellationToken;
        var body = new Dictionary<string, object>
        {
            ["CpuNoteworthyThreshold"] = 0.2,
            ["CpuSeriousThreshold"] = 0.5,
            ["CpuDeadlyThreshold"] = 0.9,
            ["MemNoteworthyThreshold"] = 0.3,
            ["MemSeriousThreshold"] = 0.6,
            ["MemDeadlyThreshold"] = 0.95,
            ["Granularity"] = "5m",
            ["AggregateFunction"] = "mean",
            ["ContactEmail"] = "ops@example.com",
        };

        // Act
        var posted = await h.PostAsync("/rule", body, expectedStatus: 200);
        var got = await h.GetAsync("/rule");
        using var bad = await h.Api.PostAsJsonAsync("/rule", new Dictionary<string, object> { ["CpuNoteworthyThreshold"] = 0.9, ["CpuSeriousThreshold"] = 0.5, ["MemDeadlyThreshold"] = 0.9 }, ct);

        // Assert
        Assert.Equal(200, posted.GetProperty("CODE").GetInt32());
        Assert.Equal(200, got.GetProperty("CODE").GetInt32());
        Assert.Equal("Find success!", got.GetProperty("MSG").GetString());
        var data = got.GetProperty("DATA");
        Assert.Equal(0.2, data.GetProperty("CpuNoteworthyThreshold").GetDouble(), 6);
        Assert.Equal(0.95, data.GetProperty("MemDeadlyThreshold").GetDouble(), 6);
        Assert.Equal("5m", data.GetProperty("Granularity").GetString());
        Assert.Equal("mean", data.GetProperty("AggregateFunction").GetString());
        Assert.Equal("ops@example.com", data.GetProperty("ContactEmail").GetString());
        var rules = (await h.GetAsync("/api/v1/warning/rules")).EnumerateArray().ToList();
        var cpu = rules.Single(r => r.GetProperty("spec").GetProperty("name").GetString() == "legacy-cpu").GetProperty("spec");
        Assert.Equal(20, cpu.GetProperty("bands").GetProperty("info").GetDouble(), 6);
        Assert.Equal(300, cpu.GetProperty("windowSeconds").GetDouble());
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, bad.StatusCode);
        var error = JsonDocument.Parse(await bad.Content.ReadAsStringAsync(ct)).RootElement;
        Assert.Equal(400, error.GetProperty("CODE").GetInt32());
        Assert.Contains("CpuSeriousThreshold", error.GetProperty("MSG").GetString(), StringComparison.Ordinal);
    }
}
