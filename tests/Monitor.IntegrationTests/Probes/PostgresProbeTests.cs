using Monitor.Prober.Probes;
using Monitor.TestUtilities;
using Npgsql;
using Xunit;

namespace Monitor.IntegrationTests.Probes;

/// <summary>The PostgreSQL probe against a real primary and its streaming standby.</summary>
public sealed class PostgresProbeTests(PostgresFixture pg) : IClassFixture<PostgresFixture>
{
    [Fact]
    public async Task Primary_Succeeds_WithVersionConnectionsAndPerReplicaLag()
    {
        // Arrange: the standby must have connected to the primary.
        ProbeResult result = null!;
        await Poll.UntilAsync(async () =>
        {
            result = await ProbeHarness.RunAsync("postgres", PostgresFixture.ConfigJson(pg.PrimaryPort));
            return result.Success && result.Metrics.Any(m => m.Name == "probe_pg_replication_lag_bytes");
        }, TimeSpan.FromSeconds(30), "the standby listed in pg_stat_replication", TestContext.Current.CancellationToken);

        // Assert
        Assert.InRange(result.Metric("probe_pg_version_num"), 150000, 159999);
        Assert.Equal(0, result.Metric("probe_pg_standby"));
        Assert.Equal(100, result.Metric("probe_pg_connections_max"));
        Assert.True(result.Metric("probe_pg_connections") >= 1);
        Assert.Equal(1, result.Metric("probe_pg_replicas"));
        Assert.True(result.Metric("probe_pg_replication_lag_bytes", "replica", "standby1") >= 0);
        Assert.True(result.Metric("probe_pg_replication_lag_seconds", "replica", "standby1") >= 0);
        Assert.StartsWith("PostgreSQL 15", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Standby_Succeeds_WithItsOwnLagFields()
    {
        // Act (the standby may still be reconnecting after another test restarted the primary)
        ProbeResult result = null!;
        await Poll.UntilAsync(async () =>
        {
            result = await ProbeHarness.RunAsync("postgres", PostgresFixture.ConfigJson(pg.StandbyPort));
            return result.Success && result.Metrics.Any(m => m.Name == "probe_pg_wal_receiver_streaming" && m.Value == 1);
        }, TimeSpan.FromSeconds(30), "the standby streaming from the primary", TestContext.Current.CancellationToken);

        // Assert
        Assert.True(result.Success, result.Describe());
        Assert.Equal(1, result.Metric("probe_pg_standby"));
        Assert.Equal(1, result.Metric("probe_pg_wal_receiver_streaming"));
        Assert.True(result.Metric("probe_pg_replication_lag_bytes") >= 0);
        Assert.True(result.Metric("probe_pg_replication_lag_seconds") >= 0);
        Assert.False(result.Has("probe_pg_replicas"));
    }

    [Fact]
    public async Task SlowQuery_CountedAndWarned()
    {
        // Arrange: one query running far longer than the 500 ms threshold.
        await using var connection = new NpgsqlConnection(PostgresFixture.ConnectionString(pg.PrimaryPort));
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var sleep = new NpgsqlCommand("SELECT pg_sleep(30)", connection);
        using var cancel = new CancellationTokenSource();
        var running = sleep.ExecuteNonQueryAsync(cancel.Token);

        // Act
        ProbeResult result = null!;
        await Poll.UntilAsync(async () =>
        {
            result = await ProbeHarness.RunAsync("postgres", PostgresFixture.ConfigJson(pg.PrimaryPort));
            return result.Success && result.Metric("probe_pg_slow_queries") >= 1;
        }, TimeSpan.FromSeconds(20), "the sleeping query counted as slow", TestContext.Current.CancellationToken);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<Exception>(() => running);

        // Assert
        Assert.True(result.Metric("probe_pg_connections_active") >= 1);
        Assert.Contains("active longer than 500 ms", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConnectionsOverThreshold_Warned()
    {
        // Act: 1% of max_connections (100) is exceeded by the probe's own connection plus any other.
        var json = PostgresFixture.ConfigJson(pg.PrimaryPort).Replace("\"slowQueryThresholdMs\"", "\"connectionsWarnPercent\":1,\"slowQueryThresholdMs\"", StringComparison.Ordinal);
        await using var other = new NpgsqlConnection(PostgresFixture.ConnectionString(pg.PrimaryPort));
        await other.OpenAsync(TestContext.Current.CancellationToken);
        var result = await ProbeHarness.RunAsync("postgres", json);

        // Assert
        Assert.True(result.Success, result.Describe());
        Assert.Contains("of max_connections", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WrongPassword_FailsWithReasonAuth_WithoutThePassword()
    {
        // Act
        var result = await ProbeHarness.RunAsync("postgres", PostgresFixture.ConfigJson(pg.PrimaryPort, password: "not-the-password"));

        // Assert
        Assert.Equal(ProbeFailure.Auth, result.Failure);
        Assert.DoesNotContain("not-the-password", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NothingListening_FailsWithReasonRefused()
    {
        // Act
        var result = await ProbeHarness.RunAsync("postgres", PostgresFixture.ConfigJson(NativeProcess.FreePort()));

        // Assert
        Assert.Equal(ProbeFailure.Refused, result.Failure);
    }

    [Fact]
    public async Task PrimaryStoppedThenStarted_FailsThenSucceedsAgain()
    {
        // Arrange
        var json = PostgresFixture.ConfigJson(pg.PrimaryPort);
        var before = await ProbeHarness.RunAsync("postgres", json);

        // Act
        await pg.StopPrimaryAsync();
        ProbeResult down;
        try
        {
            down = await ProbeHarness.RunAsync("postgres", json);
        }
        finally
        {
            await pg.StartPrimaryAsync();
        }
        var after = await ProbeHarness.RunAsync("postgres", json);

        // Assert
        Assert.True(before.Success, before.Describe());
        Assert.False(down.Success);
        Assert.Equal(ProbeFailure.Refused, down.Failure);
        Assert.True(after.Success, after.Describe());
    }
}
