using Monitor.TestUtilities;
using Xunit;

namespace Monitor.IntegrationTests.Deploy;

/// <summary>
/// monitor-nginx-sync keeps nginx's report pool equal to the instances alive in etcd: a report
/// instance that registers appears in the upstream file; one killed with SIGKILL disappears once
/// its lease expires. All of it over one etcd watch stream.
/// </summary>
[Collection(Chaos.ChaosCollection.Name)]
public sealed class NginxSyncTests
{
    [Fact]
    public async Task ReportInstanceRegistersThenIsKilled_UpstreamFileFollowsEtcd()
    {
        // Arrange: a private registry prefix so other tests' instances do not show up.
        var ct = TestContext.Current.CancellationToken;
        var prefix = $"/monitor-test-{Guid.NewGuid():N}/services";
        var output = Path.Combine(Path.GetTempPath(), $"report_pool-{Guid.NewGuid():N}.conf");
        var reloads = output + ".reloads";
        await using var sync = ServiceProcess.Start("nginx-sync", Repo.Assembly("deploy/Monitor.NginxSync", "monitor-nginx-sync"), new Dictionary<string, string>(),
            ["--etcd", StackEnvironment.Etcd, "--prefix", prefix + "/report/", "--upstream", "report_pool", "--out", output, "--reload", $"echo reloaded >> {reloads}"]);
        await Poll.UntilAsync(() => File.Exists(output) && File.ReadAllText(output).Contains("127.0.0.1:1 down", StringComparison.Ordinal),
            TimeSpan.FromSeconds(30), "the empty pool placeholder", ct);

        var grpcPort = Ports.Free();
        var http = $"http://127.0.0.1:{Ports.Free()}";
        await using var report = ServiceProcess.Start("sync-report", Repo.Assembly("report-service", "Monitor.ReportService"), new Dictionary<string, string>
        {
            ["Service__GrpcUrl"] = $"http://127.0.0.1:{grpcPort}",
            ["Service__HttpUrl"] = http,
            ["Etcd__Endpoints__0"] = StackEnvironment.Etcd,
            ["Etcd__Prefix"] = prefix,
            ["Etcd__LeaseTtl"] = "00:00:03",
            ["Kafka__BootstrapServers"] = StackEnvironment.Kafka,
        });

        // Act + Assert: registered -> listed.
        await Poll.UntilAsync(() => File.ReadAllText(output).Contains($"server 127.0.0.1:{grpcPort} ", StringComparison.Ordinal),
            TimeSpan.FromSeconds(30), "the new instance in the upstream file", ct);
        Assert.DoesNotContain("down", File.ReadAllText(output), StringComparison.Ordinal);

        // Act + Assert: SIGKILL -> gone after the lease TTL (3 s) plus a little.
        report.Kill();
        await Poll.UntilAsync(() => !File.ReadAllText(output).Contains($"127.0.0.1:{grpcPort}", StringComparison.Ordinal),
            TimeSpan.FromSeconds(15), "the killed instance to leave the upstream file", ct);
        // The sync writes the upstream file first and reloads nginx after it: wait for that last reload as well.
        await Poll.UntilAsync(() => File.Exists(reloads) && File.ReadAllLines(reloads).Length >= 3,
            TimeSpan.FromSeconds(10), "nginx reloaded on every change (placeholder, added, removed)", ct);
        // One watch stream served the whole test: the sync does not reconnect while etcd is up (an earlier version
        // re-created its etcd client in a tight loop, at about a third of a core).
        var rounds = File.ReadAllLines(sync.LogPath).Count(l => l.StartsWith("nginx-sync: watching ", StringComparison.Ordinal));
        Assert.Equal(1, rounds);
        File.Delete(output);
        File.Delete(reloads);
    }
}
