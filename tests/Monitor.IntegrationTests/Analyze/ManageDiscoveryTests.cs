using System.Net;
using System.Text.Json;
using dotnet_etcd;
using Monitor.Protos.V1;
using Monitor.TestUtilities;
using Xunit;

namespace Monitor.IntegrationTests.Analyze;

/// <summary>
/// Analyze finds the manage service through the etcd registry (<c>Manage:Address = etcd:///manage</c>): it follows
/// registrations, fails over when the instance it used dies before its entry expires, and answers 503 when none is left.
/// </summary>
public sealed class ManageDiscoveryTests
{
    [Fact]
    public async Task ManageAddressedThroughEtcd_FollowsRegistry_FailsOverToLiveInstance()
    {
        // Arrange: two stand-in manage instances knowing location "disc"; only the first is registered at first
        var ct = TestContext.Current.CancellationToken;
        var prefix = $"/monitor-test-{Guid.NewGuid():N}/services";
        Host[] hosts = [new Host { HostId = "disc-1", Location = "disc" }];
        var first = await FakeManageService.StartAsync(hosts, ct);
        var second = await FakeManageService.StartAsync(hosts, ct);
        var running = new List<FakeManageService> { first, second };
        using var etcd = new EtcdClient(StackEnvironment.Etcd);
        await etcd.PutAsync($"{prefix}/manage/first", Record(first.Address), cancellationToken: ct);
        await using var influx = await InfluxTestDatabase.CreateAsync(ct);
        using (var writer = new HttpClient())
        using (var line = new StringContent($"cpu_rate,host_id=disc-1 value=12.5 {TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds()}\n"))
        using (var written = await writer.PostAsync($"{influx.Url}/write?db={influx.Name}&precision=ms", line, ct))
        {
            Assert.True(written.IsSuccessStatusCode, $"InfluxDB /write answered {(int)written.StatusCode}");
        }
        var httpUrl = $"http://127.0.0.1:{Ports.Free()}";
        await using var analyze = ServiceProcess.Start("analyze-discovery", Repo.Assembly("analyze-service", "Monitor.AnalyzeService"), new Dictionary<string, string>
        {
            ["Service__GrpcUrl"] = $"http://127.0.0.1:{Ports.Free()}",
            ["Service__HttpUrl"] = httpUrl,
            ["Service__InstanceId"] = "analyze-disc-" + Guid.NewGuid().ToString("N")[..8],
            ["Influx__Url"] = StackEnvironment.Influx,
            ["Influx__Database"] = influx.Name,
            ["Manage__Address"] = "etcd:///manage",
            ["Manage__LocationCacheTtl"] = "00:00:00",
            ["Etcd__Endpoints__0"] = StackEnvironment.Etcd,
            ["Etcd__Prefix"] = prefix,
            ["Etcd__LeaseTtl"] = "00:00:05",
            ["Retention__RollupsEnabled"] = "false",
            ["Auth__Enabled"] = "false",
        });
        await analyze.WaitHealthyAsync(httpUrl + "/health/ready", TimeSpan.FromSeconds(60), ct);
        using var http = new HttpClient { BaseAddress = new Uri(httpUrl), Timeout = TimeSpan.FromSeconds(30) };
        const string path = "/api/v1/analyze/locations/disc/metrics/cpu_rate/series?start=-10m&step=1m";

        try
        {
            // Act + Assert: the registered instance answers
            await AssertOkAsync(http, path, analyze, ct);
            Assert.True(first.ListCalls > 0, "the registered instance was asked");
            Assert.Equal(0, second.ListCalls);

            // Act: the second registers, then the first dies while its entry is still in etcd
            await etcd.PutAsync($"{prefix}/manage/second", Record(second.Address), cancellationToken: ct);
            await Poll.UntilAsync(() => analyze.Tail(200).Contains(second.Address.Replace("http://", "", StringComparison.Ordinal), StringComparison.Ordinal),
                TimeSpan.FromSeconds(20), "analyze to discover the second instance\n" + analyze.Tail(20), ct);
            running.Remove(first);
            await first.DisposeAsync();

            // Assert: calls fail over to the live instance
            await AssertOkAsync(http, path, analyze, ct);
            Assert.True(second.ListCalls > 0, "the live instance was asked after the first died");

            // Act: the last instance deregisters and stops
            await etcd.DeleteRangeAsync(prefix + "/", cancellationToken: ct);
            running.Remove(second);
            await second.DisposeAsync();

            // Assert: a clear 503 rather than a hang or a stale answer
            await Poll.UntilAsync(async () =>
            {
                using var response = await http.GetAsync(path, ct);
                var text = await response.Content.ReadAsStringAsync(ct);
                return response.StatusCode == HttpStatusCode.ServiceUnavailable && text.Contains("manage service", StringComparison.Ordinal);
            }, TimeSpan.FromSeconds(20), "a 503 naming the unreachable manage service\n" + analyze.Tail(20), ct);
            Assert.Contains("No live manage instance is registered in etcd", analyze.Tail(50), StringComparison.Ordinal);
        }
        finally
        {
            await etcd.DeleteRangeAsync(prefix + "/", cancellationToken: CancellationToken.None);
            foreach (var fake in running)
            {
                await fake.DisposeAsync();
            }
        }
    }

    /// <summary>A registry value as services write it (<c>ServiceRecord</c>, camelCase JSON).</summary>
    private static string Record(string grpc) => JsonSerializer.Serialize(new
    {
        grpc,
        http = "http://127.0.0.1:1",
        version = "test",
        startedAt = TimeProvider.System.GetUtcNow(),
    });

    private static async Task AssertOkAsync(HttpClient http, string path, ServiceProcess analyze, CancellationToken ct)
    {
        using var response = await http.GetAsync(path, ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        Assert.True(response.IsSuccessStatusCode, $"GET {path} answered {(int)response.StatusCode}: {text}\n{analyze.Tail(20)}");
    }
}
