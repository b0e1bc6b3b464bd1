using System.Text.Json;
using System.Text.Json.Nodes;
using Monitor.IntegrationTests.Warning;
using Monitor.TestUtilities;
using Xunit;

namespace Monitor.IntegrationTests.SelfObservability;

/// <summary>
/// Monitor watches itself, end to end: a report and a persistence service (on a PRIVATE influxd the test owns) feed
/// their own figures every second as pseudo-hosts <c>monitor.{kind}.{instance}</c> through the report service into a
/// private topic, which a warning service evaluates with its seeded built-in rules. Stopping InfluxDB makes
/// persistence's write retries fail; the built-in "InfluxDB write failures" rule fires through a webhook channel to a
/// listener in the test; starting InfluxDB again resolves it. InfluxDB being down does not matter to the alert
/// path: the figures travel through Kafka to warning.
/// </summary>
public sealed class SelfMonitoringChaosTests
{
    [Fact]
    public async Task InfluxDown_WriteFailuresRuleFiresThroughWebhook_InfluxBack_Resolves()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var influx = await InfluxServerProcess.StartAsync(ct);
        var database = await InfluxTestDatabase.CreateAsync(influx.Url, ct);
        var topic = KafkaTopics.NewName("monitor-selfobs");
        var deadLetters = KafkaTopics.NewName("monitor-selfobs-dlq");
        await KafkaTopics.CreateAsync(topic, 4, ct);
        await KafkaTopics.CreateAsync(deadLetters, 1, ct);
        var prefix = $"/monitor-test/{Guid.NewGuid():N}/services";
        var processes = new List<ServiceProcess>();
        var fast = new Dictionary<string, string> { ["SelfMetrics__Enabled"] = "true", ["SelfMetrics__Interval"] = "00:00:01" };

        await using var warning = await WarningHarness.StartAsync(settings: new Dictionary<string, string>(fast)
        {
            ["Kafka__SamplesTopic"] = topic,
            ["Etcd__Prefix"] = prefix,
        });
        try
        {
            var reportHttp = $"http://127.0.0.1:{Ports.Free()}";
            var report = ServiceProcess.Start("selfobs-report", Repo.Assembly("report-service", "Monitor.ReportService"),
                PipelineEnvironment.For(topic, deadLetters, prefix, new Dictionary<string, string>(fast)
                {
                    ["Service__GrpcUrl"] = $"http://127.0.0.1:{Ports.Free()}",
                    ["Service__HttpUrl"] = reportHttp,
                    ["Service__InstanceId"] = "selfobs-report-1",
                }));
            processes.Add(report);
            var persistenceHttp = $"http://127.0.0.1:{Ports.Free()}";
            var persistence = ServiceProcess.Start("selfobs-persistent", Repo.Assembly("persistent-service", "Monitor.PersistentService"),
                PipelineEnvironment.For(topic, deadLetters, prefix, new Dictionary<string, string>(fast)
                {
                    ["Service__HttpUrl"] = persistenceHttp,
                    ["Service__InstanceId"] = "selfobs-persistent-1",
                    ["Persistence__GroupId"] = "monitor-persistent-selfobs-" + Guid.NewGuid().ToString("N")[..8],
                    ["Persistence__FlushInterval"] = "00:00:00.200",
                    ["Persistence__RetryInitialDelay"] = "00:00:00.200",
                    ["Persistence__RetryMaxDelay"] = "00:00:01",
                    ["Influx__Url"] = influx.Url,
                    ["Influx__Database"] = database.Name,
                    ["Influx__Timeout"] = "00:00:02",
                    ["Kafka__Consumer__session.timeout.ms"] = "6000",
                    ["Kafka__Consumer__heartbeat.interval.ms"] = "1000",
                }));
            processes.Add(persistence);
            await report.WaitHealthyAsync(reportHttp + "/health/ready", TimeSpan.FromSeconds(60), ct);
            await persistence.WaitHealthyAsync(persistenceHttp + "/health/ready", TimeSpan.FromSeconds(60), ct);

            // The built-in rule was seeded at warning's start-up; route it to the test's webhook and shorten its window (rules are editable).
            JsonElement builtIn = default;
            await Poll.UntilAsync(async () =>
            {
                var rules = await warning.GetAsync("/api/v1/warning/rules");
                builtIn = rules.EnumerateArray().FirstOrDefault(r => r.GetProperty("spec").GetProperty("name").GetString() == "monitor: InfluxDB write failures");
                return builtIn.ValueKind == JsonValueKind.Object;
            }, TimeSpan.FromSeconds(30), "the built-in write-failures rule to be seeded", ct);
            var ruleId = builtIn.GetProperty("id").GetInt64();
            var versions = await warning.GetAsync($"/api/v1/warning/rules/{ruleId}/versions");
            Assert.True(versions.GetArrayLength() >= 1);
            Assert.True(builtIn.GetProperty("spec").GetProperty("enabled").GetBoolean());

            await warning.WebhookChannelAsync("selfobs-hook", "/selfobs");
            var spec = JsonNode.Parse(builtIn.GetProperty("spec").GetRawText())!.AsObject();
            spec["channels"] = new JsonArray("selfobs-hook");
            spec["windowSeconds"] = 4;
            using (var put = await warning.Api.PutAsync($"/api/v1/warning/rules/{ruleId}",
                new StringContent(spec.ToJsonString(), System.Text.Encoding.UTF8, "application/json"), ct))
            {
                Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync(ct));
            }
            await warning.RulesPropagatedAsync();

            // Before the failure, the pseudo-hosts' figures travel the whole pipeline: persistence stores its own and the report service's in InfluxDB.
            var host = "monitor.persistent.selfobs-persistent-1";
            await Poll.UntilAsync(async () =>
                (await database.PointsAsync(host, ["monitor_persistence_points_written"], ct)).Count > 0 &&
                (await database.PointsAsync("monitor.report.selfobs-report-1", ["monitor_report_samples_accepted"], ct)).Count > 0,
                TimeSpan.FromSeconds(60), $"the pseudo-hosts' figures in InfluxDB\n{report.Tail()}\n{persistence.Tail()}", ct);

            influx.Stop();
            await Poll.UntilAsync(() => warning.Receiver.On("/selfobs").Any(r => Kind(r.Body) == "firing"),
                TimeSpan.FromSeconds(90), $"a firing notification for {host}\n{warning.Logs()}\n{persistence.Tail()}", ct);
            var firing = JsonDocument.Parse(warning.Receiver.On("/selfobs").First(r => Kind(r.Body) == "firing").Body).RootElement.GetProperty("alert");
            Assert.Contains(host, firing.GetRawText(), StringComparison.Ordinal);

            // Manage-free health view of the stage: the persistence instance reports its failures itself.
            using var http = new HttpClient { BaseAddress = new Uri(persistenceHttp) };
            var figures = JsonDocument.Parse(await http.GetStringAsync("/api/v1/persistent/instance/stats/pipeline", ct)).RootElement;
            Assert.Contains(figures.GetProperty("figures").EnumerateArray(), f => f.GetProperty("metric").GetString() == "monitor_persistence_write_failures" && f.GetProperty("total").GetDouble() > 0);

            await influx.StartAgainAsync(ct);
            await Poll.UntilAsync(() => warning.Receiver.On("/selfobs").Any(r => Kind(r.Body) == "resolved"),
                TimeSpan.FromSeconds(90), $"a resolved notification for {host}\n{warning.Logs()}", ct);
            var alerts = await warning.AlertsAsync(ruleId, host);
            Assert.Contains(alerts, a => a.GetProperty("state").GetString() == "resolved");
        }
        finally
        {
            foreach (var p in processes)
            {
                await p.DisposeAsync();
            }
            await database.DisposeAsync();
        }
    }

    private static string? Kind(string body)
    {
        try
        {
            return JsonDocument.Parse(body).RootElement.GetProperty("alert").GetProperty("kind").GetString();
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return null;
        }
    }
}
