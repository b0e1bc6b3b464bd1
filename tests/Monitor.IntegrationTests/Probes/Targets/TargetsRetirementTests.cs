using System.Net;
using System.Text.Json;
using Confluent.Kafka;
using Google.Protobuf;
using Monitor.IntegrationTests.Warning;
using Monitor.Protos.V1;
using Monitor.TestUtilities;
using MySqlConnector;
using Xunit;

namespace Monitor.IntegrationTests.Probes.Targets;

/// <summary>
/// A probe alert ends when its target goes away, with real manage and warning processes, MariaDB and Kafka: deleting
/// a target or pausing it in the manage service resolves its firing alert without a recovery value, sends one resolve
/// notice on the target's channel and drops the (rule, agent, target) state; late results of the paused target start
/// nothing, and a target created again under the deleted name starts a fresh episode. A target the manage service
/// never listed (a prober's static target) is not retired: its alert keeps firing.
/// </summary>
[Collection(TargetsCollection.Name)]
public sealed class TargetsRetirementTests(TargetsFixture fx)
{
    [Fact]
    public async Task TargetDeletedOrPaused_FiringAlertResolvedWithoutValue_OneNotice_StateDropped()
    {
        var ct = TestContext.Current.CancellationToken;
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var (deleted, paused, live, unmanaged) = ("del-" + suffix, "pause-" + suffix, "live-" + suffix, "static-" + suffix);
        var agent = "agent-" + suffix;
        foreach (var name in new[] { deleted, paused, live })
        {
            await CreateTargetAsync(name, ct);
        }

        await using var warning = await WarningHarness.StartAsync(settings: new()
        {
            ["Auth__Enabled"] = "false",
            ["Manage__Address"] = fx.GrpcUrlA,
            ["Manage__RefreshInterval"] = "00:00:00.500",
        });
        foreach (var name in new[] { deleted, paused, live })
        {
            await warning.WebhookChannelAsync("hook-" + name, "/" + name);
        }
        var ruleId = await DefaultRuleIdAsync(warning, ct);
        using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = StackEnvironment.Kafka, Acks = Acks.All, EnableIdempotence = true }).Build();
        // Results are stamped in the past and strictly increasing; one agent, so one partition, evaluated in order.
        var ms = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds() - 60_000;
        async Task FailAsync(string target, int times = 1)
        {
            for (int i = 0; i < times; i++)
            {
                ms += 10;
                var sample = new Sample { Metric = "probe_success", Value = 0, TimestampUnixMs = ms, Message = $"connect to {target} refused" };
                sample.Labels["target"] = target;
                sample.Labels["type"] = "tcp";
                sample.Labels["reason"] = "refused";
                var batch = new SampleBatch { HostId = agent, Sequence = (ulong)ms, SentAtUnixMs = ms, Samples = { sample } };
                await producer.ProduceAsync(warning.Topic, new Message<string, byte[]> { Key = agent, Value = batch.ToByteArray() }, ct);
            }
        }
        async Task<List<JsonElement>> AlertsOfAsync(string target) =>
            (await warning.AlertsAsync(ruleId, agent)).Where(a => a.GetProperty("target").GetString() == target).ToList();

        // Arrange: both targets fire, and so does one that only a prober's own configuration knows.
        await FailAsync(unmanaged, 3);
        await FailAsync(deleted, 3);
        await FailAsync(paused, 3);
        foreach (var name in new[] { deleted, paused })
        {
            await Poll.UntilAsync(() => warning.Receiver.On("/" + name).Count >= 1, TimeSpan.FromSeconds(30), $"{name} fires\n{warning.Logs()}", ct);
            Assert.Equal("firing", Assert.Single(await AlertsOfAsync(name)).GetProperty("state").GetString());
        }
        Assert.Equal(1, await StateRowsAsync(warning, deleted, ct));

        // Act 1: delete one target in the manage service.
        using (var response = await fx.Http.DeleteAsync($"/api/v1/manage/probes/targets/{deleted}", ct))
        {
            Assert.True(response.IsSuccessStatusCode, $"DELETE answered {(int)response.StatusCode}");
        }

        // Assert 1: resolved without a recovery value, one resolve notice, state gone; the other target still fires.
        await Poll.UntilAsync(() => warning.Receiver.On("/" + deleted).Count >= 2, TimeSpan.FromSeconds(30), $"resolve notice of {deleted}\n{warning.Logs()}", ct);
        var ended = Assert.Single(await AlertsOfAsync(deleted));
        Assert.Equal("resolved", ended.GetProperty("state").GetString());
        Assert.Equal(JsonValueKind.Null, ended.GetProperty("resolvedValue").ValueKind);
        Assert.Contains("RESOLVED", warning.Receiver.On("/" + deleted)[1].Body, StringComparison.Ordinal);
        await Poll.UntilAsync(async () => await StateRowsAsync(warning, deleted, ct) == 0, TimeSpan.FromSeconds(30), $"state of {deleted} dropped", ct);
        Assert.Equal("firing", Assert.Single(await AlertsOfAsync(paused)).GetProperty("state").GetString());

        // Act 2: pause the other target.
        using (var response = await fx.PatchAsync(paused, new { enabled = false }, ct))
        {
            Assert.True(response.IsSuccessStatusCode, $"PATCH answered {(int)response.StatusCode}");
        }

        // Assert 2: the same for a paused target.
        await Poll.UntilAsync(() => warning.Receiver.On("/" + paused).Count >= 2, TimeSpan.FromSeconds(30), $"resolve notice of {paused}\n{warning.Logs()}", ct);
        var pausedAlert = Assert.Single(await AlertsOfAsync(paused));
        Assert.Equal("resolved", pausedAlert.GetProperty("state").GetString());
        Assert.Equal(JsonValueKind.Null, pausedAlert.GetProperty("resolvedValue").ValueKind);
        await Poll.UntilAsync(async () => await StateRowsAsync(warning, paused, ct) == 0, TimeSpan.FromSeconds(30), $"state of {paused} dropped", ct);

        // Act 3: late failures of the paused target, then a live target fires after them (same agent, same partition,
        // so by then the late results were evaluated).
        await FailAsync(paused, 3);
        await FailAsync(live, 3);
        await Poll.UntilAsync(() => warning.Receiver.On("/" + live).Count >= 1, TimeSpan.FromSeconds(30), $"{live} fires\n{warning.Logs()}", ct);

        // Assert 3: nothing new for the paused target.
        Assert.Single(await AlertsOfAsync(paused));
        Assert.Equal(0, await StateRowsAsync(warning, paused, ct));

        // Act 4: the deleted name is created again and fails: once the warning service has read it back, three
        // failures fire a fresh alert (no stale firing state was kept for it).
        await CreateTargetAsync(deleted, ct);
        await Poll.UntilAsync(async () =>
        {
            await FailAsync(deleted);
            return (await AlertsOfAsync(deleted)).Count == 2;
        }, TimeSpan.FromSeconds(30), $"a new episode of {deleted}\n{warning.Logs()}", ct);

        // Assert 4: exactly one new firing alert after three failures, and its firing notice.
        var episodes = await AlertsOfAsync(deleted);
        var fresh = Assert.Single(episodes, a => a.GetProperty("state").GetString() == "firing");
        Assert.Equal(3, fresh.GetProperty("consecutiveCount").GetInt32());
        await Poll.UntilAsync(() => warning.Receiver.On("/" + deleted).Count >= 3, TimeSpan.FromSeconds(30), $"the new firing notice of {deleted}", ct);
        Assert.Contains("FIRING", warning.Receiver.On("/" + deleted)[2].Body, StringComparison.Ordinal);
        Assert.Equal(2, warning.Receiver.On("/" + paused).Count);
        // The unmanaged target's alert outlived every target-list read of the run.
        Assert.Equal("firing", Assert.Single(await AlertsOfAsync(unmanaged)).GetProperty("state").GetString());
        Assert.True(await StateRowsAsync(warning, unmanaged, ct) == 1, $"state of {unmanaged} kept\n{warning.Logs()}");
    }

    private async Task CreateTargetAsync(string name, CancellationToken cancellationToken)
    {
        using var created = await fx.PostAsync(new { name, type = "tcp", config = new { host = "127.0.0.1", port = 9 }, intervalMs = 60_000, channels = new[] { "hook-" + name } }, cancellationToken);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
    }

    private static async Task<long> StateRowsAsync(WarningHarness warning, string target, CancellationToken cancellationToken)
    {
        await using var connection = new MySqlConnection(warning.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM probe_alert_states WHERE Target = @target";
        command.Parameters.AddWithValue("@target", target);
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
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
        return id;
    }
}
