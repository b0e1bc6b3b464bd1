using System.Globalization;
using System.Text;
using Monitor.TestUtilities;
using Xunit;

namespace Monitor.IntegrationTests.Warning;

/// <summary>
/// A <c>rate_of_change</c> rule across hosts, evaluated by the elected instance from a real InfluxDB: the fleet mean of
/// <c>cpu_rate</c> climbing 2 per second fires the rule whose band is 1/s (not the one whose band is 5/s), and once
/// the series is flat again it resolves with a rate below the recovery threshold; both transitions are notified.
/// </summary>
public sealed class FleetRateTests
{
    [Fact]
    public async Task RateOfChangeAcrossHosts_AggregateClimbs_FiresOnlyPastItsBand_ResolvesWhenFlat()
    {
        // Arrange: a private InfluxDB database the elected instance reads, and two rules on the same fleet aggregate.
        var ct = TestContext.Current.CancellationToken;
        await using var influx = await InfluxTestDatabase.CreateAsync(ct);
        await using var h = await WarningHarness.StartAsync(settings: new() { ["Influx__Database"] = influx.Name });
        await h.WebhookChannelAsync("hook", "/hook");
        async Task<long> RuleAsync(string name, double band) => (await h.PostAsync("/api/v1/warning/rules", new
        {
            name,
            kind = "rate_of_change",
            metric = "cpu_rate",
            scope = new { kind = "all" },
            acrossHosts = true,
            aggregation = "mean",
            windowSeconds = 20.0,
            comparator = "gt",
            bands = new { warning = band },
            recoveryThreshold = 0.5,
            consecutiveBreaches = 1,
            channels = new[] { "hook" },
            notifyOnResolve = true,
        })).GetProperty("id").GetInt64();
        var climbing = await RuleAsync("fleet cpu climbing", 1.0);
        var steep = await RuleAsync("fleet cpu climbing steeply", 5.0);

        using var http = new HttpClient { BaseAddress = new Uri(influx.Url) };
        var baseMs = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds() / 1000 * 1000 - 60_000;
        // Rewrites the last 40 s (one point per host and whole second, so rewrites replace points) up to now.
        async Task WriteAsync(Func<long, double> valueAt)
        {
            var nowMs = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds() / 1000 * 1000;
            var lines = new StringBuilder();
            for (var ms = nowMs - 40_000; ms <= nowMs; ms += 1000)
            {
                foreach (var (host, offset) in new[] { ("fleet-a", 0.0), ("fleet-b", 10.0) })
                {
                    lines.Append(CultureInfo.InvariantCulture, $"cpu_rate,host_id={host} value={valueAt(ms) + offset} {ms}\n");
                }
            }
            using var content = new StringContent(lines.ToString(), Encoding.UTF8);
            using var response = await http.PostAsync($"/write?db={influx.Name}&precision=ms", content, ct);
            response.EnsureSuccessStatusCode();
        }

        // Act: the fleet's cpu_rate climbs 2 per second (kept up to date while waiting).
        await Poll.UntilAsync(async () =>
        {
            await WriteAsync(ms => 2.0 * (ms - baseMs) / 1000);
            return (await h.AlertsAsync(climbing)).Count == 1;
        }, TimeSpan.FromSeconds(30), "the rate alert\n" + h.Logs(), ct);

        // Assert: one fleet alert at about 2/s; the 5/s rule, evaluated in the same pass, stays quiet.
        var alert = Assert.Single(await h.AlertsAsync(climbing));
        Assert.Equal("*", alert.GetProperty("hostId").GetString());
        Assert.Equal("firing", alert.GetProperty("state").GetString());
        Assert.InRange(alert.GetProperty("value").GetDouble(), 1.5, 2.5);
        Assert.Empty(await h.AlertsAsync(steep));

        // Act: the series is flat again.
        await Poll.UntilAsync(async () =>
        {
            await WriteAsync(_ => 50);
            return Assert.Single(await h.AlertsAsync(climbing)).GetProperty("state").GetString() == "resolved";
        }, TimeSpan.FromSeconds(30), "the rate alert to resolve\n" + h.Logs(), ct);

        // Assert: resolved with the rate at resolution, firing and resolve notified once each, nothing for the steep rule.
        var resolved = Assert.Single(await h.AlertsAsync(climbing));
        Assert.InRange(resolved.GetProperty("resolvedValue").GetDouble(), -0.5, 0.5);
        await Poll.UntilAsync(() => h.Receiver.On("/hook").Count >= 2, TimeSpan.FromSeconds(30), "both notifications\n" + h.Logs(), ct);
        Assert.Equal(2, h.Receiver.On("/hook").Count);
        Assert.Empty(await h.AlertsAsync(steep));
    }
}
