using System.Net;
using System.Text.Json;
using Confluent.Kafka;
using Google.Protobuf;
using Monitor.IntegrationTests.Warning;
using Monitor.Protos.V1;
using Monitor.TestUtilities;
using Xunit;

namespace Monitor.IntegrationTests.Probes.Targets;

/// <summary>
/// Probe alerts end to end against real MariaDB, Kafka and etcd: a target in the manage service with a notification
/// channel, the warning service's shipped default probe rule, and probe results produced to the samples topic. Three
/// failures fire exactly one alert (with the failure messages as evidence) notified once on the target's channel,
/// further failures add nothing, and the first success resolves it with exactly one more notification.
/// </summary>
[Collection(TargetsCollection.Name)]
public sealed class TargetsAlertTests(TargetsFixture fx)
{
    [Fact]
    public async Task DefaultProbeRule_ThreeFailuresFireOnce_FirstSuccessResolvesOnce_OnTheTargetsChannel()
    {
        var ct = TestContext.Current.CancellationToken;
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var target = "pg-" + suffix;
        var channel = "hook-" + suffix;
        var agent = "agent-" + suffix;
        using (var created = await fx.PostAsync(new { name = target, type = "tcp", config = new { host = "127.0.0.1", port = 5432 }, channels = new[] { channel } }, ct))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        await using var warning = await WarningHarness.StartAsync(settings: new()
        {
            ["Auth__Enabled"] = "false",
            ["Manage__Address"] = fx.GrpcUrlA,
            ["Manage__RefreshInterval"] = "00:00:00.500",
        });
        await warning.WebhookChannelAsync(channel, "/probe-hook");
        var ruleId = await DefaultRuleIdAsync(warning, ct);

        using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = StackEnvironment.Kafka, Acks = Acks.All, EnableIdempotence = true }).Build();
        var ms = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds();
        async Task ResultAsync(bool ok, string message)
        {
            ms += 1000;
            var sample = new Sample { Metric = "probe_success", Value = ok ? 1 : 0, TimestampUnixMs = ms, Message = message };
            sample.Labels["target"] = target;
            sample.Labels["type"] = "tcp";
            if (!ok)
            {
                sample.Labels["reason"] = "refused";
            }
            var batch = new SampleBatch { HostId = agent, Sequence = (ulong)ms, SentAtUnixMs = ms, Samples = { sample } };
            await producer.ProduceAsync(warning.Topic, new Message<string, byte[]> { Key = agent, Value = batch.ToByteArray() }, ct);
        }

        await ResultAsync(true, "");
        await ResultAsync(false, "connect to 127.0.0.1:5432 refused (1)");
        await ResultAsync(false, "connect to 127.0.0.1:5432 refused (2)");
        Assert.Empty(await warning.AlertsAsync(ruleId, agent)); // two failures are not enough (checked again below)
        await ResultAsync(false, "connect to 127.0.0.1:5432 refused (3)");
        await ResultAsync(false, "connect to 127.0.0.1:5432 refused (4)");
        await ResultAsync(false, "connect to 127.0.0.1:5432 refused (5)");

        await Poll.UntilAsync(() => warning.Receiver.On("/probe-hook").Count >= 1, TimeSpan.FromSeconds(30), $"the firing notification\n{warning.Logs()}", ct);
        var alert = Assert.Single(await warning.AlertsAsync(ruleId, agent));
        Assert.Equal("firing", alert.GetProperty("state").GetString());
        Assert.Equal(target, alert.GetProperty("target").GetString());
        Assert.Equal(3, alert.GetProperty("consecutiveCount").GetInt32());
        Assert.Equal(
            ["connect to 127.0.0.1:5432 refused (1)", "connect to 127.0.0.1:5432 refused (2)", "connect to 127.0.0.1:5432 refused (3)"],
            alert.GetProperty("failureMessages").EnumerateArray().Select(m => m.GetString()!).ToArray());

        await ResultAsync(true, "");
        await Poll.UntilAsync(() => warning.Receiver.On("/probe-hook").Count >= 2, TimeSpan.FromSeconds(30), $"the resolved notification\n{warning.Logs()}", ct);
        // Everything produced before the success was evaluated before it (one host, one partition, in order):
        // exactly one firing and one resolved notification, one alert.
        var sent = warning.Receiver.On("/probe-hook");
        Assert.Equal(2, sent.Count);
        Assert.Contains("FIRING", sent[0].Body, StringComparison.Ordinal);
        Assert.Contains(target, sent[0].Body, StringComparison.Ordinal);
        Assert.Contains("refused (3)", sent[0].Body, StringComparison.Ordinal);
        Assert.Contains("RESOLVED", sent[1].Body, StringComparison.Ordinal);
        var resolved = Assert.Single(await warning.AlertsAsync(ruleId, agent));
        Assert.Equal("resolved", resolved.GetProperty("state").GetString());
    }

    private static async Task<long> DefaultRuleIdAsync(WarningHarness warning, CancellationToken cancellationToken)
    {
        long id = 0;
        await Poll.UntilAsync(async () =>
        {
            var rules = (await warning.GetAsync("/api/v1/warning/rules")).EnumerateArray();
            var rule = rules.FirstOrDefault(r => r.GetProperty("spec").GetProperty("kind").GetString() == "probe");
            id = rule.ValueKind == JsonValueKind.Object ? rule.GetProperty("id").GetInt64() : 0;
            return id != 0;
        }, TimeSpan.FromSeconds(30), "the default probe rule to be seeded", cancellationToken);
        await warning.RulesPropagatedAsync();
        return id;
    }
}
