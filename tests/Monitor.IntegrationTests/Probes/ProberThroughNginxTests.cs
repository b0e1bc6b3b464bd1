using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Monitor.IntegrationTests.Agent;
using Monitor.TestUtilities;
using MySqlConnector;
using Xunit;

namespace Monitor.IntegrationTests.Probes;

/// <summary>
/// The real manage service (fresh MariaDB database, access control off) behind a private nginx whose gRPC port routes
/// <c>/monitor.v1.ProbeConfigService/</c> to it, as deploy/stack.sh's nginx does.
/// </summary>
public sealed class ManageBehindNginxFixture : IAsyncLifetime
{
    public string Database { get; } = "monitor_test_" + Guid.NewGuid().ToString("N")[..12];
    public ServiceProcess Manage { get; private set; } = null!;
    public NginxProcess Nginx { get; private set; } = null!;
    public HttpClient Http { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        var ct = TestContext.Current.CancellationToken;
        var (grpc, http) = ($"http://127.0.0.1:{Ports.Free()}", $"http://127.0.0.1:{Ports.Free()}");
        var id = Guid.NewGuid().ToString("N");
        Manage = ServiceProcess.Start("nginx-manage", Repo.Assembly("manage-service", "Monitor.ManageService"), new Dictionary<string, string>
        {
            ["Service__GrpcUrl"] = grpc,
            ["Service__HttpUrl"] = http,
            ["Service__InstanceId"] = "test-nginx-manage-" + id[..8],
            ["ConnectionStrings__Manage"] = new MySqlConnectionStringBuilder(StackEnvironment.MariaDb) { Database = Database }.ConnectionString,
            ["Manage__ApplyMigrationsOnStartup"] = "true",
            ["Influx__Url"] = StackEnvironment.Influx,
            ["Etcd__Endpoints__0"] = StackEnvironment.Etcd,
            ["Etcd__Prefix"] = $"/monitor-test-{id}/services",
            ["Etcd__LeaseTtl"] = "00:00:05",
            ["Probes__RevisionKey"] = $"/monitor-test/{id}/probes/revision",
            ["Probes__ProberPrefix"] = $"/monitor-test/{id}/probes/probers",
        });
        await Manage.WaitHealthyAsync(http + "/health/ready", TimeSpan.FromSeconds(90), ct);
        Nginx = await NginxProcess.StartAsync("127.0.0.1:1", new Uri(http).Authority, "127.0.0.1:1", new Uri(grpc).Authority, ct);
        Http = new HttpClient { BaseAddress = new Uri(http), Timeout = TimeSpan.FromSeconds(30) };
    }

    public async Task CreateTargetAsync(object body, CancellationToken ct)
    {
        using var response = await Http.PostAsJsonAsync("/api/v1/manage/probes/targets", body, ct);
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"POST target answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(ct)}");
    }

    public async ValueTask DisposeAsync()
    {
        Http?.Dispose();
        if (Nginx is not null)
        {
            await Nginx.DisposeAsync();
        }
        if (Manage is not null)
        {
            await Manage.DisposeAsync();
        }
        await TestDatabases.DropAsync(Database);
    }
}

/// <summary>
/// A real prober process that takes its targets from the real manage service through nginx's gRPC port (no fake
/// configuration service), its results acknowledged by the real report services (so they reached Kafka).
/// </summary>
[Collection(AgentCollection.Name)]
public sealed class ProberThroughNginxTests(AgentPipelineFixture pipeline, ManageBehindNginxFixture fx) : IClassFixture<ManageBehindNginxFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private async Task<ServiceProcess> StartProberAsync(AgentRun run, CancellationToken ct)
    {
        await pipeline.EnsureReportsRunningAsync(ct);
        return pipeline.StartProber("nprober-" + run.HostId, run, new() { ["Probes__Manage__Address"] = fx.Nginx.GrpcUrl });
    }

    private static List<AgentRun.Acked> Results(AgentRun run, string target) =>
        run.AckedSamples().Where(a => a.Metric == "probe_success" && a.Labels["target"] == target).OrderBy(a => a.TimestampUnixMs).ToList();

    private static string ReadLog(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    [Fact]
    public async Task TargetCreatedOverTheManageApi_RunsThroughNginx_AndStopsWhenPaused()
    {
        // Arrange: a listening TCP port to probe.
        var ct = TestContext.Current.CancellationToken;
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var openPort = ((IPEndPoint)listener.LocalEndpoint).Port;
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var (name, marker) = ("nx-tcp-" + suffix, "nx-marker-" + suffix);
        using var run = new AgentRun("nxprober");
        await using var prober = await StartProberAsync(run, ct);

        // Act 1: the target is created over the manage HTTP API while the prober is connected through nginx.
        await fx.CreateTargetAsync(new { name, type = "tcp", config = new { host = "127.0.0.1", port = openPort }, intervalMs = 1000, timeoutMs = 800 }, ct);
        await Poll.UntilAsync(() => Results(run, name).Count(r => r.Value == 1) >= 2, Patience, $"2 successful results of {name}", ct);

        // Act 2: pause it, then add a marker target; once the marker runs, the paused target must have stopped.
        using (var request = new HttpRequestMessage(HttpMethod.Patch, $"/api/v1/manage/probes/targets/{name}") { Content = JsonContent.Create(new { enabled = false }) })
        using (var paused = await fx.Http.SendAsync(request, ct))
        {
            Assert.Equal(HttpStatusCode.OK, paused.StatusCode);
        }
        await fx.CreateTargetAsync(new { name = marker, type = "tcp", config = new { host = "127.0.0.1", port = openPort }, intervalMs = 1000, timeoutMs = 800 }, ct);
        await Poll.UntilAsync(() => Results(run, marker).Count >= 4, Patience, $"4 results of {marker}", ct);
        var runningThroughout = !prober.HasExited;
        await prober.StopAsync(TimeSpan.FromSeconds(30));

        // Assert
        Assert.True(runningThroughout, "the prober must follow the changes without restarting");
        var markerStart = Results(run, marker)[0].TimestampUnixMs;
        Assert.DoesNotContain(Results(run, name), r => r.TimestampUnixMs > markerStart + 1000);
        var log = ReadLog(prober.LogPath);
        Assert.Contains($"received from {fx.Nginx.GrpcUrl}", log, StringComparison.Ordinal);
        await Poll.UntilAsync(() => fx.Nginx.AccessLog().Contains("/monitor.v1.ProbeConfigService/WatchTargets", StringComparison.Ordinal),
            TimeSpan.FromSeconds(15), "the WatchTargets stream in nginx's access log", ct);
    }

    [Fact]
    public async Task FailingTargetWithSecrets_SecretsNeverLogged_FailureIs()
    {
        // Arrange: an HTTP target on a closed port, with a bearer token and a token header.
        var ct = TestContext.Current.CancellationToken;
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var name = "nx-secret-" + suffix;
        var bearer = "s3cr3t-bearer-" + Guid.NewGuid().ToString("N");
        var token = "s3cr3t-token-" + Guid.NewGuid().ToString("N");
        var closedPort = NativeProcess.FreePort();
        var headers = new Dictionary<string, string> { ["Authorization"] = "Bearer " + bearer, ["X-Auth-Token"] = token };
        using var run = new AgentRun("nxsecret");
        await using var prober = await StartProberAsync(run, ct);

        // Act: a rejected create (unknown field) and an accepted one carrying the secrets; the probe keeps failing.
        using (var rejected = await fx.Http.PostAsJsonAsync("/api/v1/manage/probes/targets",
            new { name = name + "-bad", type = "http", config = new Dictionary<string, object> { ["url"] = "http://127.0.0.1:1/", ["headers"] = headers, ["colour"] = token } }, ct))
        {
            Assert.Equal(HttpStatusCode.BadRequest, rejected.StatusCode);
            Assert.DoesNotContain(token, await rejected.Content.ReadAsStringAsync(ct), StringComparison.Ordinal);
        }
        await fx.CreateTargetAsync(new { name, type = "http", config = new { url = $"http://127.0.0.1:{closedPort}/health", headers }, intervalMs = 1000, timeoutMs = 800 }, ct);
        await Poll.UntilAsync(() => Results(run, name).Count(r => r.Value == 0) >= 2, Patience, $"2 failed results of {name}", ct);
        using (var got = await fx.Http.GetAsync($"/api/v1/manage/probes/targets/{name}", ct))
        {
            var text = await got.Content.ReadAsStringAsync(ct);
            Assert.DoesNotContain(bearer, text, StringComparison.Ordinal);
            Assert.DoesNotContain(token, text, StringComparison.Ordinal);
        }
        await prober.StopAsync(TimeSpan.FromSeconds(30));

        // Assert: the failure is in the prober's log, neither secret is in any log of the prober or the manage service.
        var proberLog = ReadLog(prober.LogPath);
        var manageLog = ReadLog(fx.Manage.LogPath);
        Assert.Contains($"Target {name}: failed (refused): Connection refused (127.0.0.1:{closedPort})", proberLog, StringComparison.OrdinalIgnoreCase);
        foreach (var (log, what) in new[] { (proberLog, "prober"), (manageLog, "manage service"), (fx.Nginx.AccessLog(), "nginx") })
        {
            Assert.False(log.Contains(bearer, StringComparison.Ordinal), $"the bearer token is in the {what}'s log");
            Assert.False(log.Contains(token, StringComparison.Ordinal), $"the token header is in the {what}'s log");
        }
    }
}
