using dotnet_etcd;
using Monitor.IntegrationTests.Chaos;
using Monitor.TestUtilities;
using Xunit;

namespace Monitor.IntegrationTests.Deploy;

/// <summary>
/// The fleet path through the front door: agent -> nginx gRPC -> report pool (kept in sync with etcd
/// by monitor-nginx-sync) -> Kafka -> persistence -> InfluxDB. One report instance is killed: its
/// etcd entry disappears, nginx's pool drops it, and no acknowledged sample is lost.
/// </summary>
[Collection(ChaosCollection.Name)]
public sealed class FleetThroughNginxTests
{
    [Fact]
    public async Task ReportInstanceKilledBehindNginx_EtcdAndPoolDropIt_NoSampleLost()
    {
        // Arrange
        var ct = TestContext.Current.CancellationToken;
        var prefix = $"/monitor-test-{Guid.NewGuid():N}/services";
        await using var nginx = await NginxProcess.StartAsync("127.0.0.1:1", "127.0.0.1:1", "127.0.0.1:1", ct);
        await using var pipeline = await ChaosPipeline.StartAsync(reports: 3, persistence: 1, etcdPrefix: prefix);
        await using var sync = ServiceProcess.Start("fleet-nginx-sync", Repo.Assembly("deploy/Monitor.NginxSync", "monitor-nginx-sync"), new Dictionary<string, string>(),
            ["--etcd", StackEnvironment.Etcd, "--prefix", prefix + "/report/", "--upstream", "report_pool", "--out", nginx.PoolFile, "--reload", nginx.ReloadCommand]);
        var ports = pipeline.Reports.Select(r => new Uri(r.GrpcUrl).Port).ToList();
        await Poll.UntilAsync(() => ports.All(p => File.ReadAllText(nginx.PoolFile).Contains($"127.0.0.1:{p} ", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(30), "all three report instances in nginx's pool", ct);
        await using var agent = new TrafficClient("fleet-" + Guid.NewGuid().ToString("N")[..8], [nginx.GrpcUrl], TimeSpan.FromMilliseconds(50));
        await Poll.UntilAsync(() => agent.Acked.Count >= 100, TimeSpan.FromSeconds(30), "traffic through nginx", ct);

        // Act: SIGKILL one instance while traffic flows through nginx.
        pipeline.Reports[0].Process.Kill();
        using var etcd = new EtcdClient(StackEnvironment.Etcd);
        await Poll.UntilAsync(async () => (await etcd.GetRangeAsync(prefix + "/report/", cancellationToken: ct)).Kvs.Count == 2,
            TimeSpan.FromSeconds(20), "the killed instance's etcd entry to expire", ct);
        await Poll.UntilAsync(() => !File.ReadAllText(nginx.PoolFile).Contains($"127.0.0.1:{ports[0]} ", StringComparison.Ordinal),
            TimeSpan.FromSeconds(10), "nginx's pool to drop the killed instance", ct);
        var ackedAfterDrop = agent.Acked.Count;
        await Poll.UntilAsync(() => agent.Acked.Count >= ackedAfterDrop + 50, TimeSpan.FromSeconds(30), "traffic after the pool changed", ct);
        await agent.StopProducingAndDrainAsync(TimeSpan.FromSeconds(30));

        // Assert
        Assert.Contains($"127.0.0.1:{ports[1]} ", File.ReadAllText(nginx.PoolFile), StringComparison.Ordinal);
        Assert.Contains($"127.0.0.1:{ports[2]} ", File.ReadAllText(nginx.PoolFile), StringComparison.Ordinal);
        await pipeline.AssertStoredExactlyAsync([agent], TimeSpan.FromSeconds(60));
    }
}
