using Monitor.Prober.Probes;
using Xunit;

namespace Monitor.IntegrationTests.Probes;

/// <summary>The Redis probe against a standalone server, a 3-node cluster and a server frozen with SIGSTOP.</summary>
public sealed class RedisProbeTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    [Fact]
    public async Task Standalone_PingSucceeds()
    {
        // Act
        var result = await ProbeHarness.RunAsync("redis", $$"""{"host":"127.0.0.1","port":{{redis.StandalonePort}}}""");

        // Assert
        Assert.True(result.Success, result.Describe());
        Assert.True(result.Metric("probe_redis_ping_ms") >= 0);
        Assert.False(result.Has("probe_redis_cluster_known_nodes"));
    }

    [Fact]
    public async Task Cluster_ReportsNodesAndSlots()
    {
        // Act
        var result = await ProbeHarness.RunAsync("redis", $$"""{"host":"127.0.0.1","port":{{redis.ClusterPorts[1]}},"cluster":true}""");

        // Assert
        Assert.True(result.Success, result.Describe());
        Assert.Equal(1, result.Metric("probe_redis_cluster_state_ok"));
        Assert.Equal(3, result.Metric("probe_redis_cluster_known_nodes"));
        Assert.Equal(0, result.Metric("probe_redis_cluster_failed_nodes"));
        Assert.Equal(16384, result.Metric("probe_redis_cluster_slots_ok"));
    }

    [Fact]
    public async Task FrozenServer_ProbeReturnsWithinTimeoutPlusOneSecond()
    {
        // Arrange: a server of its own that answers first, then is frozen (SIGSTOP): connections are
        // still accepted by the kernel but nothing answers, which makes the client wait.
        var (port, process) = await redis.StartServerAsync();
        var json = $$"""{"host":"127.0.0.1","port":{{port}}}""";
        var before = await ProbeHarness.RunAsync("redis", json, timeoutSeconds: 2);
        await NativeProcess.SignalAsync(process.Id, "STOP");
        try
        {
            // Act
            var frozen = await ProbeHarness.RunAsync("redis", json, timeoutSeconds: 2);

            // Assert
            Assert.True(before.Success, before.Describe());
            Assert.False(frozen.Success);
            Assert.Equal(ProbeFailure.Timeout, frozen.Failure);
            Assert.True(frozen.Duration <= TimeSpan.FromSeconds(3), $"the probe returned after {frozen.Duration}; timeout 2 s + 1 s");
        }
        finally
        {
            await NativeProcess.SignalAsync(process.Id, "CONT");
        }
    }

    [Fact]
    public async Task ClosedPort_Fails()
    {
        // Act
        var result = await ProbeHarness.RunAsync("redis", $$"""{"host":"127.0.0.1","port":{{NativeProcess.FreePort()}}}""", timeoutSeconds: 2);

        // Assert
        Assert.False(result.Success);
        Assert.True(result.Failure == ProbeFailure.Refused, result.Describe());
    }

    [Fact]
    public async Task PasswordProtected_RightPasswordSucceeds_WrongOneFailsWithReasonAuth()
    {
        // Arrange
        var (port, _) = await redis.StartServerAsync(password: "redis-test-pw");

        // Act
        var right = await ProbeHarness.RunAsync("redis", $$"""{"host":"127.0.0.1","port":{{port}},"password":"redis-test-pw"}""", timeoutSeconds: 10);
        var wrong = await ProbeHarness.RunAsync("redis", $$"""{"host":"127.0.0.1","port":{{port}},"password":"not-the-password"}""", timeoutSeconds: 10);

        // Assert
        Assert.True(right.Success, right.Describe());
        Assert.True(wrong.Failure == ProbeFailure.Auth, wrong.Describe());
        Assert.DoesNotContain("not-the-password", wrong.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClusterNodeKilled_FailedNodeCounted_ClusterFailsWithReasonStatus()
    {
        // Arrange: a cluster of its own (the shared one stays healthy for the other tests).
        var nodes = await redis.CreateClusterAsync();
        var json = $$"""{"host":"127.0.0.1","port":{{nodes[0].Port}},"cluster":true}""";
        var healthy = await ProbeHarness.RunAsync("redis", json);

        // Act: one master dies; after cluster-node-timeout (2 s) the others flag it failed.
        await NativeProcess.KillAsync(nodes[2].Process);
        ProbeResult result = null!;
        await Monitor.TestUtilities.Poll.UntilAsync(async () =>
        {
            result = await ProbeHarness.RunAsync("redis", json);
            return result.Has("probe_redis_cluster_failed_nodes") && result.Metric("probe_redis_cluster_failed_nodes") == 1
                && result.Metric("probe_redis_cluster_state_ok") == 0;
        }, TimeSpan.FromSeconds(30), "the killed node flagged failed and the cluster state not ok", TestContext.Current.CancellationToken);

        // Assert
        Assert.True(healthy.Success, healthy.Describe());
        Assert.False(result.Success);
        Assert.Equal(ProbeFailure.Status, result.Failure);
        Assert.Equal(3, result.Metric("probe_redis_cluster_known_nodes"));
        Assert.Contains("1 of 3 nodes failed", result.Message, StringComparison.Ordinal);
    }
}
