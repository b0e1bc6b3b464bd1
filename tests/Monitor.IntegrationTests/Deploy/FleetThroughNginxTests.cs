using System.Text.Json;
using dotnet_etcd;
using Grpc.Net.Client;
using Monitor.IntegrationTests.Chaos;
using Monitor.Protos.Legacy;
using Monitor.TestUtilities;
using Xunit;

namespace Monitor.IntegrationTests.Deploy;

/// <summary>
/// The fleet path through the front door: agent -> nginx gRPC -> report pool (kept in sync with etcd
/// by monitor-nginx-sync) -> Kafka -> persistence -> InfluxDB -> analyze, read back through nginx via
/// the versioned API and the original system's <c>/analysis/data</c> (fed by an original agent's unary
/// <c>proto.Report</c> call through nginx). One report instance is killed: its etcd entry disappears,
/// nginx's pool drops it, and no acknowledged sample is lost.
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
        await using var pipeline = await ChaosPipeline.StartAsync(reports: 3, persistence: 1, etcdPrefix: prefix);
        var analyzeHttp = $"127.0.0.1:{Ports.Free()}";
        await using var analyze = ServiceProcess.Start("fleet-analyze", Repo.Assembly("analyze-service", "Monitor.AnalyzeService"), new Dictionary<string, string>
        {
            ["Service__GrpcUrl"] = $"http://127.0.0.1:{Ports.Free()}",
            ["Service__HttpUrl"] = $"http://{analyzeHttp}",
            ["Service__InstanceId"] = "fleet-analyze-" + Guid.NewGuid().ToString("N")[..8],
            ["Influx__Url"] = StackEnvironment.Influx,
            ["Influx__Database"] = pipeline.Influx.Name,
            ["Manage__Address"] = "http://127.0.0.1:1",
            ["Etcd__Endpoints__0"] = StackEnvironment.Etcd,
            ["Etcd__Prefix"] = prefix,
            ["Etcd__LeaseTtl"] = "00:00:05",
            ["Auth__Enabled"] = "false",
        });
        await analyze.WaitHealthyAsync($"http://{analyzeHttp}/health/ready", TimeSpan.FromSeconds(60), ct);
        await using var nginx = await NginxProcess.StartAsync(analyzeHttp, "127.0.0.1:1", "127.0.0.1:1", ct);
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

        // Assert: what the agent had acknowledged reads back through nginx from analyze's versioned API, raw.
        using var http = new HttpClient { BaseAddress = new Uri(nginx.HttpUrl), Timeout = TimeSpan.FromSeconds(30) };
        var expectedA = agent.Acked.Where(kv => kv.Key.StartsWith("chaos_a@", StringComparison.Ordinal)).ToDictionary(
            kv => long.Parse(kv.Key["chaos_a@".Length..], System.Globalization.CultureInfo.InvariantCulture), kv => kv.Value);
        var series = await GetJsonAsync(http, $"/api/v1/analyze/hosts/{agent.HostId}/metrics/chaos_a/series?start=-1h", ct);
        Assert.Equal("raw", series.GetProperty("resolution").GetString());
        var points = Assert.Single(series.GetProperty("series").EnumerateArray()).GetProperty("points").EnumerateArray()
            .ToDictionary(p => p.GetProperty("time").GetDateTimeOffset().ToUnixTimeMilliseconds(), p => p.GetProperty("value").GetDouble());
        Assert.Equal(expectedA.Count, points.Count);
        foreach (var (ms, value) in expectedA)
        {
            Assert.Equal(value, points[ms], 6);
        }

        // Act: an original agent reports once through nginx's gRPC port (legacy proto.Report, unary).
        var legacyHost = "legacy-" + Guid.NewGuid().ToString("N")[..8];
        using var channel = GrpcChannel.ForAddress(nginx.GrpcUrl);
        var reply = await new Report.ReportClient(channel).ReportAsync(new reportReq
        {
            HostID = legacyHost,
            CpuRate = 42.5f,
            MemRate = 61.25f,
            TimeStamp = TimeProvider.System.GetUtcNow().ToUnixTimeSeconds(),
        }, cancellationToken: ct);
        Assert.Equal(200, reply.Code);

        // Assert: the original system's query path finds it through nginx.
        await Poll.UntilAsync(async () =>
        {
            var data = await GetJsonAsync(http, $"/analysis/data?HostID={legacyHost}&StartFrom=-1h&MetricsType=CPU_Rate&Granularity=1m&AggregateFunc=mean", ct);
            var element = Assert.Single(data.EnumerateArray());
            Assert.Equal(legacyHost, element.GetProperty("host_id").GetString());
            return element.GetProperty("metrics_value").EnumerateArray().Any(v => Math.Abs(v.GetDouble() - 42.5) < 1e-6);
        }, TimeSpan.FromSeconds(30), "the legacy sample at /analysis/data through nginx\n" + analyze.Tail(20), ct);
    }

    private static async Task<JsonElement> GetJsonAsync(HttpClient http, string path, CancellationToken ct)
    {
        using var response = await http.GetAsync(path, ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        Assert.True(response.IsSuccessStatusCode, $"GET {path} through nginx answered {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }
}
