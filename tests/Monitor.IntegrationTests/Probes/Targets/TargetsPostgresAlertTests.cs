using System.Net;
using System.Text.Json;
using Confluent.Kafka;
using Google.Protobuf;
using Monitor.IntegrationTests.Warning;
using Monitor.Prober.Probes;
using Monitor.Prober.Scheduling;
using Monitor.Prober.Targets;
using Monitor.Protos.V1;
using Monitor.TestUtilities;
using Xunit;

namespace Monitor.IntegrationTests.Probes.Targets;

/// <summary>
/// The acceptance scenario of issue #10 with real parts: the prober's PostgreSQL probe (the target's config as stored
/// by the manage service, delivered on WatchTargets) against a real PostgreSQL 15 that the test stops and starts again;
/// each result becomes the prober's samples on the Kafka samples topic; the warning service's shipped probe rule fires
/// exactly one alert after 3 failures and resolves it once on the first success, each notified once on the target's
/// webhook channel.
/// </summary>
[Collection(TargetsCollection.Name)]
public sealed class TargetsPostgresAlertTests(TargetsFixture fx, PostgresFixture pg) : IClassFixture<PostgresFixture>
{
    [Fact]
    public async Task PostgresStopped_ExactlyOneAlertAfterThreeFailures_AndOneRecoveryAfterItStartsAgain()
    {
        var ct = TestContext.Current.CancellationToken;
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var name = "pg-primary-" + suffix;
        var channel = "pg-hook-" + suffix;
        var agent = "prober-" + suffix;
        var config = JsonDocument.Parse(PostgresFixture.ConfigJson(pg.PrimaryPort)).RootElement;
        using (var created = await fx.PostAsync(new { name, type = "postgres", config, intervalMs = 10_000, timeoutMs = 3_000, channels = new[] { channel } }, ct))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }
        // The prober's view of the target: what WatchTargets delivers (secrets in clear text).
        await using var watch = new TargetWatch(fx.GrpcA, agent);
        var delivered = (await watch.NextMatchingAsync(s => TargetWatch.Has(s, name), "the target is delivered", ct)).Targets.Single(t => t.Spec.Name == name).Spec;
        var target = new TargetDefinition(delivered.Name, delivered.Type, TargetDefinition.ConfigFromJson(delivered.ConfigJson),
            TimeSpan.FromMilliseconds(delivered.IntervalMs), TimeSpan.FromMilliseconds(delivered.TimeoutMs), delivered.Enabled);

        await using var warning = await WarningHarness.StartAsync(settings: new()
        {
            ["Auth__Enabled"] = "false",
            ["Manage__Address"] = fx.GrpcUrlA,
            ["Manage__RefreshInterval"] = "00:00:00.500",
        });
        await warning.WebhookChannelAsync(channel, "/pg-hook");
        var ruleId = await DefaultRuleIdAsync(warning, ct);

        using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = StackEnvironment.Kafka, Acks = Acks.All, EnableIdempotence = true }).Build();
        var ms = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds();
        async Task<ProbeResult> ProbeAndReportAsync()
        {
            var probe = new ProbeFactory(TimeProvider.System).Create(target);
            var result = await new ProbeRunner(TimeProvider.System).RunAsync(probe, target, ct);
            ms = Math.Max(ms + 1000, TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds());
            var batch = new SampleBatch { HostId = agent, Sequence = (ulong)ms, SentAtUnixMs = ms };
            batch.Samples.AddRange(ResultEmitter.ToSamples(target, result, ms));
            await producer.ProduceAsync(warning.Topic, new Message<string, byte[]> { Key = agent, Value = batch.ToByteArray() }, ct);
            return result;
        }

        Assert.True((await ProbeAndReportAsync()).Success);
        await pg.StopPrimaryAsync();
        var started = false;
        try
        {
            for (var i = 0; i < 4; i++)
            {
                var failed = await ProbeAndReportAsync();
                Assert.False(failed.Success);
            }
            await Poll.UntilAsync(() => warning.Receiver.On("/pg-hook").Count >= 1, TimeSpan.FromSeconds(30), $"the firing notification\n{warning.Logs()}", ct);
            var alert = Assert.Single(await warning.AlertsAsync(ruleId, agent));
            Assert.Equal("firing", alert.GetProperty("state").GetString());
            Assert.Equal(name, alert.GetProperty("target").GetString());
            Assert.Equal(3, alert.GetProperty("failureMessages").GetArrayLength());
            Assert.All(alert.GetProperty("failureMessages").EnumerateArray(), m => Assert.False(string.IsNullOrWhiteSpace(m.GetString())));

            await pg.StartPrimaryAsync();
            started = true;
        }
        finally
        {
            if (!started)
            {
                await pg.StartPrimaryAsync();
            }
        }
        await Poll.UntilAsync(async () => (await ProbeAndReportAsync()).Success, TimeSpan.FromSeconds(30), "PostgreSQL answers again", ct);
        await Poll.UntilAsync(() => warning.Receiver.On("/pg-hook").Count >= 2, TimeSpan.FromSeconds(30), $"the resolved notification\n{warning.Logs()}", ct);

        var sent = warning.Receiver.On("/pg-hook");
        Assert.Equal(2, sent.Count);
        Assert.Contains("FIRING", sent[0].Body, StringComparison.Ordinal);
        Assert.Contains("RESOLVED", sent[1].Body, StringComparison.Ordinal);
        var resolved = Assert.Single(await warning.AlertsAsync(ruleId, agent));
        Assert.Equal("resolved", resolved.GetProperty("state").GetString());
    }

    private static async Task<long> DefaultRuleIdAsync(WarningHarness warning, CancellationToken cancellationToken)
    {
        long id = 0;
        await Poll.UntilAsync(async () =>
        {
            var rule = (await warning.GetAsync("/api/v1/warning/rules")).EnumerateArray()
                .FirstOrDefault(r => r.GetProperty("spec").GetProperty("kind").GetString() == "probe");
            id = rule.ValueKind == JsonValueKind.Object ? rule.GetProperty("id").GetInt64() : 0;
            return id != 0;
        }, TimeSpan.FromSeconds(30), "the default probe rule to be seeded", cancellationToken);
        await warning.RulesPropagatedAsync();
        return id;
    }
}
