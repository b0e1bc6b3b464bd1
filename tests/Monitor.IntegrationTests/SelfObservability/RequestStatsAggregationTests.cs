using System.Net;
using System.Text.Json;
using Monitor.IntegrationTests.Manage;
using Monitor.TestUtilities;
using Xunit;

namespace Monitor.IntegrationTests.SelfObservability;

/// <summary>
/// Request statistics end to end: a manage and an analyze service as real processes, registered in the shared etcd
/// under a private prefix; the test makes real HTTP calls (some failing) to both, then reads each instance's own view
/// and manage's fleet-wide table, which must count exactly those calls.
/// </summary>
[Collection(ManageCollection.Name)]
public sealed class RequestStatsAggregationTests(ManageFixture manage)
{
    [Fact]
    public async Task ManageAggregatesLiveInstancesFromTheRegistry_CountingTheCallsOfThisTest()
    {
        var ct = TestContext.Current.CancellationToken;
        var prefix = $"/monitor-test/{Guid.NewGuid():N}/services";
        var manageGrpc = $"http://127.0.0.1:{Ports.Free()}";
        var manageHttp = $"http://127.0.0.1:{Ports.Free()}";
        var manageProcess = manage.StartManage("manage-stats", "stats-manage-1", manageGrpc, manageHttp, new()
        {
            ["Etcd__Prefix"] = prefix,
        });
        try
        {
            await RunAsync(manage, manageProcess, manageHttp, manageGrpc, prefix, ct);
        }
        finally
        {
            await manageProcess.StopAsync(TimeSpan.FromSeconds(20));
        }
    }

    private static async Task RunAsync(ManageFixture manage, ServiceProcess manageProcess, string manageHttp, string manageGrpc, string prefix, CancellationToken ct)
    {
        await manageProcess.WaitHealthyAsync(manageHttp + "/health/ready", TimeSpan.FromSeconds(90), ct);

        var analyzeHttp = $"http://127.0.0.1:{Ports.Free()}";
        var analyzeAdmin = $"http://127.0.0.1:{Ports.Free()}";
        await using var analyze = ServiceProcess.Start("analyze-stats", Repo.Assembly("analyze-service", "Monitor.AnalyzeService"), new Dictionary<string, string>
        {
            ["Service__GrpcUrl"] = $"http://127.0.0.1:{Ports.Free()}",
            ["Service__HttpUrl"] = analyzeHttp,
            ["Service__InstanceId"] = "stats-analyze-1",
            ["Service__AdminUrl"] = analyzeAdmin,
            ["Diagnostics__Token"] = "selfobs-admin-token",
            ["Influx__Url"] = StackEnvironment.Influx,
            ["Influx__Database"] = manage.Influx.Name,
            ["Manage__Address"] = manageGrpc,
            ["Etcd__Endpoints__0"] = StackEnvironment.Etcd,
            ["Etcd__Prefix"] = prefix,
            ["Etcd__LeaseTtl"] = "00:00:05",
        });
        await analyze.WaitHealthyAsync(analyzeHttp + "/health/live", TimeSpan.FromSeconds(60), ct);

        using var manageClient = new HttpClient { BaseAddress = new Uri(manageHttp), Timeout = TimeSpan.FromSeconds(30) };
        using var analyzeClient = new HttpClient { BaseAddress = new Uri(analyzeHttp), Timeout = TimeSpan.FromSeconds(30) };
        for (var i = 0; i < 3; i++)
        {
            await ExpectAsync(manageClient, "/api/v1/manage/hosts?limit=5", HttpStatusCode.OK, ct);
        }
        for (var i = 0; i < 2; i++)
        {
            await ExpectAsync(manageClient, $"/api/v1/manage/hosts/no-such-host-{i}", HttpStatusCode.NotFound, ct);
        }
        for (var i = 0; i < 4; i++)
        {
            await ExpectAsync(analyzeClient, $"/api/v1/analyze/hosts/stats-host-{i}/metrics", HttpStatusCode.OK, ct);
        }
        await ExpectAsync(analyzeClient, "/api/v1/analyze/metrics/Not-A-Metric!/latest", HttpStatusCode.BadRequest, ct);

        // The instance's own view.
        var own = await GetJsonAsync(analyzeClient, "/api/v1/analyze/instance/stats/requests?window=5m", ct);
        Assert.Equal("analyze", own.GetProperty("kind").GetString());
        Assert.Equal("stats-analyze-1", own.GetProperty("instance").GetString());
        var ownRoutes = Routes(own);
        Assert.Equal(4, ownRoutes["GET /api/v1/analyze/hosts/{hostId}/metrics"].GetProperty("calls").GetInt64());
        Assert.Equal(0, ownRoutes["GET /api/v1/analyze/hosts/{hostId}/metrics"].GetProperty("errors").GetInt64());
        Assert.Equal(1, ownRoutes["GET /api/v1/analyze/metrics/{metric}/latest"].GetProperty("statuses").GetProperty("400").GetInt64());

        // Manage's table over both instances, once its registry view has both.
        JsonElement fleet = default;
        await Poll.UntilAsync(async () =>
        {
            fleet = await GetJsonAsync(manageClient, "/api/v1/manage/stats/requests?window=5m", ct);
            var polled = fleet.GetProperty("instances").EnumerateArray().Where(i => i.GetProperty("ok").GetBoolean())
                .Select(i => i.GetProperty("instance").GetString()).ToHashSet();
            return polled.SetEquals(["stats-manage-1", "stats-analyze-1"]);
        }, TimeSpan.FromSeconds(30), "manage to poll both registered instances", ct);

        Assert.Equal(300, fleet.GetProperty("windowSeconds").GetInt32());
        var rows = fleet.GetProperty("routes").EnumerateArray()
            .ToDictionary(r => (r.GetProperty("kind").GetString()!, r.GetProperty("route").GetString()!));
        var hosts = rows[("manage", "GET /api/v1/manage/hosts")];
        Assert.Equal(3, hosts.GetProperty("calls").GetInt64());
        Assert.Equal(0, hosts.GetProperty("errors").GetInt64());
        Assert.Equal(1, hosts.GetProperty("instances").GetInt32());
        var host = rows[("manage", "GET /api/v1/manage/hosts/{hostId}")];
        Assert.Equal(2, host.GetProperty("calls").GetInt64());
        Assert.Equal(2, host.GetProperty("errors").GetInt64());
        Assert.Equal(1.0, host.GetProperty("errorRate").GetDouble());
        Assert.Equal(2, host.GetProperty("statuses").GetProperty("404").GetInt64());
        var series = rows[("analyze", "GET /api/v1/analyze/hosts/{hostId}/metrics")];
        Assert.Equal(4, series.GetProperty("calls").GetInt64());
        Assert.True(series.GetProperty("callsPerSecond").GetDouble() > 0);
        Assert.True(series.GetProperty("p50Ms").GetDouble() > 0);
        Assert.True(series.GetProperty("p99Ms").GetDouble() >= series.GetProperty("p50Ms").GetDouble());
        var latest = rows[("analyze", "GET /api/v1/analyze/metrics/{metric}/latest")];
        Assert.Equal(1, latest.GetProperty("errors").GetInt64());
        Assert.DoesNotContain(rows.Keys, k => k.Item2.Contains("no-such-host", StringComparison.Ordinal) || k.Item2.Contains("stats-host", StringComparison.Ordinal));

        // The pipeline health summary: this registry prefix holds only manage and analyze, so ingest, persistence and
        // alerting are down, and the answer says so stage by stage.
        var health = await GetJsonAsync(manageClient, "/api/v1/manage/pipeline/health", ct);
        Assert.False(health.GetProperty("healthy").GetBoolean());
        Assert.Equal(["ingest", "persistence", "alerting"], health.GetProperty("behind").EnumerateArray().Select(s => s.GetString()).ToArray());
        var stages = health.GetProperty("stages").EnumerateArray().ToDictionary(s => s.GetProperty("stage").GetString()!);
        Assert.Equal("down", stages["persistence"].GetProperty("status").GetString());
        Assert.Equal(0, stages["persistence"].GetProperty("instances").GetInt32());
        Assert.Contains("no live persistent instance", stages["persistence"].GetProperty("reasons")[0].GetString(), StringComparison.Ordinal);
        Assert.Equal("ok", stages["query"].GetProperty("status").GetString());
        Assert.Equal(1, stages["query"].GetProperty("instances").GetInt32());
        Assert.Equal("ok", stages["manage"].GetProperty("status").GetString());
        Assert.Contains(health.GetProperty("instances").EnumerateArray(), i => i.GetProperty("instance").GetString() == "stats-analyze-1" && i.GetProperty("ok").GetBoolean());

        // Each instance serves its own pipeline figures (process figures at least).
        var figures = await GetJsonAsync(analyzeClient, "/api/v1/analyze/instance/stats/pipeline", ct);
        Assert.Equal("monitor.analyze.stats-analyze-1", figures.GetProperty("hostId").GetString());
        Assert.Contains(figures.GetProperty("figures").EnumerateArray(), f => f.GetProperty("metric").GetString() == "monitor_process_working_set_bytes" && f.GetProperty("value").GetDouble() > 0);

        // The runtime diagnostics of the real service process: on its admin port with the token only.
        using (var admin = new HttpClient { BaseAddress = new Uri(analyzeAdmin), Timeout = TimeSpan.FromSeconds(60) })
        {
            using (var anonymous = await admin.GetAsync("/diagnostics/gc", ct))
            {
                Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
            }
            admin.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "selfobs-admin-token");
            var gc = await GetJsonAsync(admin, "/diagnostics/gc", ct);
            Assert.True(gc.GetProperty("generations").GetArrayLength() >= 3);
            var threads = await GetJsonAsync(admin, "/diagnostics/threads?frames=5", ct);
            Assert.True(threads.GetProperty("threads").GetArrayLength() > 0);
            using var onHttpPort = new HttpRequestMessage(HttpMethod.Get, "/diagnostics/gc");
            onHttpPort.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "selfobs-admin-token");
            using var notFound = await analyzeClient.SendAsync(onHttpPort, ct);
            Assert.Equal(HttpStatusCode.NotFound, notFound.StatusCode);
        }
        Assert.DoesNotContain("selfobs-admin-token", analyze.Tail(200), StringComparison.Ordinal);

        // A bad window is refused, naming the field.
        using var bad = await manageClient.GetAsync("/api/v1/manage/stats/requests?window=forever", ct);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("window", await bad.Content.ReadAsStringAsync(ct), StringComparison.Ordinal);
    }

    private static Dictionary<string, JsonElement> Routes(JsonElement snapshot) =>
        snapshot.GetProperty("routes").EnumerateArray().ToDictionary(r => r.GetProperty("route").GetString()!);

    private static async Task ExpectAsync(HttpClient client, string path, HttpStatusCode expected, CancellationToken ct)
    {
        using var response = await client.GetAsync(path, ct);
        Assert.True(response.StatusCode == expected, $"GET {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}");
    }

    private static async Task<JsonElement> GetJsonAsync(HttpClient client, string path, CancellationToken ct)
    {
        using var response = await client.GetAsync(path, ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        Assert.True(response.IsSuccessStatusCode, $"GET {path} answered {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }
}
