using System.Globalization;
using System.Text;
using System.Text.Json;
using Monitor.TestUtilities;
using Xunit;

namespace Monitor.IntegrationTests.Warning;

/// <summary>Two instances sharing the consumer group; the elected evaluator's no-data rules over a real InfluxDB.</summary>
public sealed class WarningClusterTests
{
    [Fact]
    public async Task TwoInstances_OneKilled_OneNotificationPerTransition()
    {
        // Arrange: two instances share the group; eight hosts spread over the four partitions
        await using var h = await WarningHarness.StartAsync(instances: 2);
        var ct = TestContext.Current.CancellationToken;
        await h.WebhookChannelAsync("hook", "/hook");
        var rule = await h.PostAsync("/api/v1/warning/rules", new
        {
            name = "fleet cpu per host",
            metric = "cpu_rate",
            scope = new { kind = "all" },
            comparator = "gt",
            bands = new { warning = 70.0 },
            consecutiveBreaches = 1,
            channels = new[] { "hook" },
        });
        await h.RulesPropagatedAsync();
        var hosts = Enumerable.Range(0, 8).Select(i => $"cluster-host-{i}").ToList();

        // Act: every host fires
        foreach (var host in hosts)
        {
            await h.CpuAsync(host, 90);
        }
        await Poll.UntilAsync(() => Kinds(h, "firing").Count == hosts.Count, TimeSpan.FromSeconds(60), "a firing notification per host\n" + h.Logs(), ct);

        // Act: kill one instance, then every host recovers
        h.Instances[0].Process.Kill();
        foreach (var host in hosts)
        {
            await h.CpuAsync(host, 10);
        }
        await Poll.UntilAsync(() => Kinds(h, "resolved").Count == hosts.Count, TimeSpan.FromSeconds(90), "a resolve notification per host\n" + h.Logs(), ct);
        foreach (var host in hosts)
        {
            await h.BarrierAsync(host, TimeSpan.FromSeconds(60));
        }

        // Assert: exactly one notification per host and transition
        Assert.Equal(hosts.Order(), Kinds(h, "firing").Order());
        Assert.Equal(hosts.Order(), Kinds(h, "resolved").Order());
        Assert.Equal(hosts.Count, (await h.AlertsAsync(rule.GetProperty("id").GetInt64())).Count);
    }

    [Fact]
    public async Task NoData_HostGoesSilent_FiresThenResolvesWhenDataReturns()
    {
        // Arrange: a private InfluxDB database the elected instance reads
        await using var influx = await InfluxTestDatabase.CreateAsync(TestContext.Current.CancellationToken);
        await using var h = await WarningHarness.StartAsync(settings: new() { ["Influx__Database"] = influx.Name });
        var ct = TestContext.Current.CancellationToken;
        await h.WebhookChannelAsync("hook", "/hook");
        var rule = await h.PostAsync("/api/v1/warning/rules", new
        {
            name = "silent host",
            kind = "no_data",
            metric = "cpu_rate",
            scope = new { kind = "host", value = "host-silent" },
            noDataAfterSeconds = 3.0,
            bands = new { critical = 0.0 },
            channels = new[] { "hook" },
        });
        var ruleId = rule.GetProperty("id").GetInt64();
        using var http = new HttpClient { BaseAddress = new Uri(influx.Url) };
        async Task WriteAsync()
        {
            var line = $"cpu_rate,host_id=host-silent value=12 {TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)}";
            using var content = new StringContent(line, Encoding.UTF8);
            using var response = await http.PostAsync($"/write?db={influx.Name}&precision=ms", content, ct);
            response.EnsureSuccessStatusCode();
        }

        // Act: the host reports, then goes silent
        await WriteAsync();

        // Assert: fires after about 3 s of silence, with critical severity
        await Poll.UntilAsync(async () => (await h.AlertsAsync(ruleId)).Count == 1, TimeSpan.FromSeconds(30), "the no-data alert\n" + h.Logs(), ct);
        var alert = Assert.Single(await h.AlertsAsync(ruleId));
        Assert.Equal("host-silent", alert.GetProperty("hostId").GetString());
        Assert.Equal("critical", alert.GetProperty("severity").GetString());
        Assert.True(alert.GetProperty("value").GetDouble() > 3);

        // Act: data returns
        await WriteAsync();

        // Assert: resolved, and both transitions notified once
        await Poll.UntilAsync(() => h.Receiver.On("/hook").Count == 2, TimeSpan.FromSeconds(30), "the resolve notification\n" + h.Logs(), ct);
        Assert.Equal("resolved", Assert.Single(await h.AlertsAsync(ruleId)).GetProperty("state").GetString());
    }

    private static List<string> Kinds(WarningHarness h, string kind) =>
        h.Receiver.On("/hook")
            .Select(r => JsonDocument.Parse(r.Body).RootElement.GetProperty("alert"))
            .Where(a => a.GetProperty("kind").GetString() == kind)
            .Select(a => a.GetProperty("host").GetString()!)
            .ToList();
}
