using System.Text.Json;
using Confluent.Kafka;
using Google.Protobuf;
using Monitor.IntegrationTests.Warning;
using Monitor.Protos.V1;
using Monitor.TestUtilities;
using Xunit;

namespace Monitor.IntegrationTests.Probes.Targets;

/// <summary>
/// "Flapping does not spam (repeat interval)" for probe alerts, through the real warning service: a target that keeps
/// failing is notified once and then re-sent no more often than the rule's repeat interval; a flapping target fires
/// only when it fails N times in a row, and each such episode notifies exactly once when it fires and once when it
/// resolves.
/// </summary>
[Collection(TargetsCollection.Name)]
public sealed class ProbeRepeatAndFlappingTests(TargetsFixture fx)
{
    private const double RepeatSeconds = 1;

    private sealed class Results(IProducer<string, byte[]> producer, string topic, string agent, string target)
    {
        private long _ms = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds();

        public int Produced { get; private set; }

        public async Task SendAsync(bool ok, CancellationToken ct)
        {
            _ms = Math.Max(_ms + 1000, TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds());
            var sample = new Sample { Metric = "probe_success", Value = ok ? 1 : 0, TimestampUnixMs = _ms, Message = ok ? "" : $"connect refused ({Produced})" };
            sample.Labels["target"] = target;
            sample.Labels["type"] = "tcp";
            if (!ok)
            {
                sample.Labels["reason"] = "refused";
            }
            var batch = new SampleBatch { HostId = agent, Sequence = (ulong)_ms, SentAtUnixMs = _ms, Samples = { sample } };
            await producer.ProduceAsync(topic, new Message<string, byte[]> { Key = agent, Value = batch.ToByteArray() }, ct);
            Produced++;
        }
    }

    private static async Task<long> ProbeRuleAsync(WarningHarness warning, string target, string channel, double repeatSeconds)
    {
        var rule = await warning.PostAsync("/api/v1/warning/rules", new
        {
            name = "probe " + target,
            kind = "probe",
            scope = new { kind = "all" },
            labelFilter = new Dictionary<string, string> { ["target"] = target },
            bands = new { critical = 0.0 },
            consecutiveBreaches = 3,
            channels = new[] { channel },
            notifyOnResolve = true,
            repeatIntervalSeconds = repeatSeconds,
        });
        await warning.RulesPropagatedAsync();
        return rule.GetProperty("id").GetInt64();
    }

    /// <summary>Registers the target in the manage service (without channels: only the test's rule notifies) and starts a warning service reading it.</summary>
    private async Task<WarningHarness> StartWarningAsync(string target, CancellationToken ct)
    {
        // The warning service retires the alerts of targets the manage service does not know.
        using (var created = await fx.PostAsync(new { name = target, type = "tcp", config = new { host = "127.0.0.1", port = 1 } }, ct))
        {
            Assert.Equal(System.Net.HttpStatusCode.Created, created.StatusCode);
        }
        return await WarningHarness.StartAsync(settings: new()
        {
            ["Auth__Enabled"] = "false",
            ["Manage__Address"] = fx.GrpcUrlA,
            ["Manage__RefreshInterval"] = "00:00:00.500",
        });
    }

    [Fact]
    public async Task KeepsFailing_FiresOnce_ThenRepeatsNoMoreOftenThanTheInterval()
    {
        // Arrange
        var ct = TestContext.Current.CancellationToken;
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var (target, agent) = ("down-" + suffix, "agent-down-" + suffix);
        await using var warning = await StartWarningAsync(target, ct);
        await warning.WebhookChannelAsync("hook-" + suffix, "/down");
        var ruleId = await ProbeRuleAsync(warning, target, "hook-" + suffix, RepeatSeconds);
        using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = StackEnvironment.Kafka, Acks = Acks.All, EnableIdempotence = true }).Build();
        var results = new Results(producer, warning.Topic, agent, target);

        // Act: a failure every 100 ms until the alert has been repeated three times.
        var notifications = new List<JsonElement>();
        var repeated = Poll.UntilAsync(async () =>
        {
            await results.SendAsync(ok: false, ct);
            await Task.Delay(100, ct);
            if (await warning.AlertsAsync(ruleId, agent) is [var alert])
            {
                var detail = await warning.GetAsync($"/api/v1/warning/alerts/{alert.GetProperty("id").GetInt64()}");
                notifications = detail.GetProperty("notifications").EnumerateArray().OrderBy(n => n.GetProperty("id").GetInt64()).ToList();
            }
            return notifications.Count(n => n.GetProperty("kind").GetString() == "repeat") >= 3;
        }, TimeSpan.FromSeconds(60), "three repeats", ct);
        var timedOut = await Record.ExceptionAsync(() => repeated);
        Assert.True(timedOut is null, $"{timedOut?.Message}; notifications so far: [{string.Join(", ", notifications.Select(n => n.GetProperty("kind").GetString()))}] after {results.Produced} failures\n{warning.Logs()}");

        // Assert: one alert, one firing notification, then repeats spaced by at least the interval (queued times).
        var only = Assert.Single(await warning.AlertsAsync(ruleId, agent));
        Assert.Equal("firing", only.GetProperty("state").GetString());
        Assert.Equal("firing", notifications[0].GetProperty("kind").GetString());
        Assert.All(notifications.Skip(1), n => Assert.Equal("repeat", n.GetProperty("kind").GetString()));
        var created = notifications.Select(n => n.GetProperty("createdAt").GetDateTimeOffset()).ToList();
        for (var i = 1; i < created.Count; i++)
        {
            Assert.True(created[i] - created[i - 1] >= TimeSpan.FromSeconds(RepeatSeconds),
                $"notification {i} was queued {(created[i] - created[i - 1]).TotalMilliseconds} ms after the previous one (repeat interval {RepeatSeconds} s)");
        }
        Assert.True(results.Produced > notifications.Count, $"{results.Produced} failures produced {notifications.Count} notifications");
        await Poll.UntilAsync(() => warning.Receiver.On("/down").Count >= 4, TimeSpan.FromSeconds(30), "the webhook to receive them", ct);
        Assert.Contains("FIRING", warning.Receiver.On("/down")[0].Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Flapping_FiresOnlyOnNFailuresInARow_OneFiringAndOneResolvedPerEpisode()
    {
        // Arrange: no repeats, so every notification comes from a transition.
        var ct = TestContext.Current.CancellationToken;
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var (target, agent) = ("flap-" + suffix, "agent-flap-" + suffix);
        await using var warning = await StartWarningAsync(target, ct);
        await warning.WebhookChannelAsync("hook-" + suffix, "/flap");
        var ruleId = await ProbeRuleAsync(warning, target, "hook-" + suffix, repeatSeconds: 0);
        using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = StackEnvironment.Kafka, Acks = Acks.All, EnableIdempotence = true }).Build();
        var results = new Results(producer, warning.Topic, agent, target);
        // The rule is being evaluated once it fired for another agent (its notifications are told apart by host below).
        var gate = new Results(producer, warning.Topic, "gate-" + suffix, target);
        await Poll.UntilAsync(async () =>
        {
            await gate.SendAsync(ok: false, ct);
            return (await warning.AlertsAsync(ruleId, "gate-" + suffix)).Count > 0;
        }, TimeSpan.FromSeconds(30), "the rule to fire for the gate agent", ct);
        List<ReceivedRequest> Sent() => warning.Receiver.On("/flap").Where(r => r.Body.Contains(agent, StringComparison.Ordinal)).ToList();

        // Act: five flaps of two failures, then two episodes of three failures and a success.
        foreach (var ok in Enumerable.Repeat(new[] { false, false, true }, 5).SelectMany(x => x)
            .Concat(Enumerable.Repeat(new[] { false, false, false, true }, 2).SelectMany(x => x)))
        {
            await results.SendAsync(ok, ct);
        }
        // One partition per agent, evaluated in order: once the last resolve arrived, every result before it was evaluated.
        await Poll.UntilAsync(async () => (await warning.AlertsAsync(ruleId, agent)).Count(a => a.GetProperty("state").GetString() == "resolved") >= 2
            && Sent().Count >= 4, TimeSpan.FromSeconds(30), "two resolved episodes", ct);

        // Assert
        var alerts = await warning.AlertsAsync(ruleId, agent);
        Assert.Equal(2, alerts.Count);
        Assert.All(alerts, a => Assert.Equal(3, a.GetProperty("consecutiveCount").GetInt32()));
        var sent = Sent();
        Assert.Equal(4, sent.Count);
        Assert.Contains("FIRING", sent[0].Body, StringComparison.Ordinal);
        Assert.Contains("RESOLVED", sent[1].Body, StringComparison.Ordinal);
        Assert.Contains("FIRING", sent[2].Body, StringComparison.Ordinal);
        Assert.Contains("RESOLVED", sent[3].Body, StringComparison.Ordinal);
        // The first alert's evidence is the first run of three failures, not any of the flaps before it.
        var first = alerts.OrderBy(a => a.GetProperty("id").GetInt64()).First();
        Assert.Equal(["connect refused (15)", "connect refused (16)", "connect refused (17)"],
            first.GetProperty("failureMessages").EnumerateArray().Select(m => m.GetString()!).ToArray());
    }
}
