using Monitor.TestUtilities;
using MySqlConnector;
using Xunit;

namespace Monitor.IntegrationTests.Warning;

/// <summary>
/// A channel's rate limit holds across warning instances: two processes dispatch the same MariaDB outbox to a channel
/// limited to 3 sends per 10 s window. The first 3 notifications go out, the next 3 queued right after them wait
/// until the window has passed (whichever instance picks them up), and none is lost or sent twice.
/// </summary>
public sealed class ChannelRateLimitTests
{
    private const int Limit = 3;
    private const long WindowMs = 10_000;

    [Fact]
    public async Task ChannelRateLimit_TwoInstances_AtMostLimitPerWindow_RestWaitAndGoOutLater()
    {
        // Arrange: two instances on one database, a limited webhook channel.
        var ct = TestContext.Current.CancellationToken;
        await using var h = await WarningHarness.StartAsync(instances: 2, settings: new()
        {
            ["Warning__ChannelRateLimitPerMinute"] = Limit.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Warning__ChannelRateLimitWindow"] = "00:00:10",
        });
        await h.WebhookChannelAsync("limited", "/limited");

        // Act: 3 notifications, and once they are out 3 more.
        await QueueAsync(h, "rl-1", "rl-2", "rl-3");
        await Poll.UntilAsync(() => h.Receiver.On("/limited").Count >= Limit, TimeSpan.FromSeconds(30), "the first three sends\n" + h.Logs(), ct);
        await QueueAsync(h, "rl-4", "rl-5", "rl-6");
        await Poll.UntilAsync(() => h.Receiver.On("/limited").Count >= 2 * Limit, TimeSpan.FromSeconds(60), "the three waiting sends\n" + h.Logs(), ct);

        // Assert: each notification sent exactly once, and any 4 consecutive sends span at least the window
        // (the 4th could only take a slot once the 1st had left it).
        var sends = await PushLogAsync(h, ct);
        Assert.Equal(2 * Limit, sends.Count);
        Assert.All(sends, s => Assert.Equal("sent", s.Status));
        Assert.Equal(2 * Limit, sends.Select(s => s.NotificationId).Distinct().Count());
        for (int i = 0; i + Limit < sends.Count; i++)
        {
            Assert.True(sends[i + Limit].AtMs - sends[i].AtMs >= WindowMs,
                $"send {i + Limit} at {sends[i + Limit].AtMs} is within {WindowMs} ms of send {i} at {sends[i].AtMs}: {string.Join(", ", sends.Select(s => s.AtMs))}");
        }
        Assert.Equal(2 * Limit, h.Receiver.On("/limited").Count);
        Assert.Equal(2 * Limit, h.Receiver.On("/limited").Select(r => r.Body).Distinct().Count());
    }

    /// <summary>Writes one firing alert per host and its pending outbox row for the channel, as the evaluator would.</summary>
    private static async Task QueueAsync(WarningHarness h, params string[] hosts)
    {
        var nowMs = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds();
        await using var connection = new MySqlConnection(h.ConnectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        foreach (var host in hosts)
        {
            await using var command = connection.CreateCommand();
            command.CommandText = """
                INSERT INTO alerts (RuleId, RuleVersion, RuleName, HostId, Metric, Comparator, Severity, State, Value, Threshold, BreachValuesJson,
                    WindowStartMs, WindowEndMs, ConsecutiveCount, ConsecutiveNeeded, FiredAtMs, LastNotifiedAtMs, RepeatIntervalMs, ChannelsJson)
                VALUES (1, 1, 'cpu high', @host, 'cpu_rate', 'gt', 'warning', 'firing', 95, 90, '[95]', @now, @now, 1, 1, @now, @now, 0, '["limited"]');
                INSERT INTO notifications (AlertId, Channel, Kind, Status, CreatedAtMs, ClaimedUntilMs) VALUES (LAST_INSERT_ID(), 'limited', 'firing', 'pending', @now, 0);
                """;
            command.Parameters.AddWithValue("@host", host);
            command.Parameters.AddWithValue("@now", nowMs);
            await command.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        }
    }

    private static async Task<List<(long NotificationId, string Status, long AtMs)>> PushLogAsync(WarningHarness h, CancellationToken cancellationToken)
    {
        await using var connection = new MySqlConnection(h.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT NotificationId, Status, AtMs FROM push_log WHERE Channel = 'limited' ORDER BY AtMs, Id";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new List<(long, string, long)>();
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add((reader.GetInt64(0), reader.GetString(1), reader.GetInt64(2)));
        }
        return rows;
    }
}
