using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Grpc.Net.Client;
using Monitor.TestUtilities;
using MySqlConnector;
using Xunit;

namespace Monitor.IntegrationTests.Manage;

/// <summary>
/// The manage service as a real process on free ports, against a fresh MariaDB database (<c>monitor_test_xxx</c>,
/// created by the service's own migrations and dropped afterwards), a fresh InfluxDB database, and the shared etcd.
/// Liveness runs on a 1 s interval (window 3 s) so that states change within seconds. The process runs with
/// <c>TZ=Asia/Shanghai</c> so the legacy API's local-offset dates are visible.
/// </summary>
public sealed class ManageFixture : IAsyncLifetime
{
    public const string TimeZone = "Asia/Shanghai";
    private readonly List<ServiceProcess> _processes = [];

    public string Database { get; } = "monitor_test_" + Guid.NewGuid().ToString("N")[..12];
    public string EventPrefix { get; } = $"/monitor-test/{Guid.NewGuid():N}/host-deleted";
    public string InstanceId { get; } = "test-manage-" + Guid.NewGuid().ToString("N")[..8];
    public InfluxTestDatabase Influx { get; private set; } = null!;
    public ServiceProcess Process { get; private set; } = null!;
    public string HttpUrl { get; private set; } = "";
    public string GrpcUrl { get; private set; } = "";
    public HttpClient Http { get; private set; } = null!;
    public GrpcChannel Channel { get; private set; } = null!;
    public Monitor.Protos.V1.ManageService.ManageServiceClient Grpc { get; private set; } = null!;

    public string ConnectionString => new MySqlConnectionStringBuilder(StackEnvironment.MariaDb) { Database = Database }.ConnectionString;

    public async ValueTask InitializeAsync()
    {
        var ct = TestContext.Current.CancellationToken;
        Influx = await InfluxTestDatabase.CreateAsync(ct);
        GrpcUrl = $"http://127.0.0.1:{Ports.Free()}";
        HttpUrl = $"http://127.0.0.1:{Ports.Free()}";
        Process = StartManage("manage", InstanceId, GrpcUrl, HttpUrl, new() { ["Manage__ApplyMigrationsOnStartup"] = "true" });
        await Process.WaitHealthyAsync(HttpUrl + "/health/ready", TimeSpan.FromSeconds(90), ct);
        Http = new HttpClient { BaseAddress = new Uri(HttpUrl), Timeout = TimeSpan.FromSeconds(30) };
        Channel = GrpcChannel.ForAddress(GrpcUrl);
        Grpc = new Monitor.Protos.V1.ManageService.ManageServiceClient(Channel);
    }

    /// <summary>Starts a manage process on this fixture's databases (used again for throwaway registry instances).</summary>
    public ServiceProcess StartManage(string name, string instanceId, string grpcUrl, string httpUrl, Dictionary<string, string> extra)
    {
        var env = new Dictionary<string, string>
        {
            ["TZ"] = TimeZone,
            ["Service__GrpcUrl"] = grpcUrl,
            ["Service__HttpUrl"] = httpUrl,
            ["Service__InstanceId"] = instanceId,
            ["ConnectionStrings__Manage"] = ConnectionString,
            ["Influx__Url"] = StackEnvironment.Influx,
            ["Influx__Database"] = Influx.Name,
            ["Etcd__Endpoints__0"] = StackEnvironment.Etcd,
            ["Etcd__LeaseTtl"] = "00:00:05",
            ["Manage__Liveness__Interval"] = "00:00:01",
            ["Manage__Liveness__Intervals"] = "3",
            ["Manage__Liveness__RefreshInterval"] = "00:00:00.300",
            ["Manage__Liveness__LookBack"] = "01:00:00",
            ["Manage__HostDeletedEventPrefix"] = EventPrefix,
            ["Manage__Registry__KeepGoneFor"] = "00:05:00",
        };
        foreach (var (k, v) in extra)
        {
            env[k] = v;
        }
        var process = ServiceProcess.Start(name, Repo.Assembly("manage-service", "Monitor.ManageService"), env);
        _processes.Add(process);
        return process;
    }

    /// <summary>Writes one <c>cpu_rate</c> and one <c>mem_rate</c> point per host at <paramref name="at"/> (line protocol over /write).</summary>
    public async Task WriteSamplesAsync(IEnumerable<string> hostIds, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var body = new StringBuilder();
        var ms = at.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
        foreach (var host in hostIds)
        {
            var tag = host.Replace(",", "\\,", StringComparison.Ordinal).Replace(" ", "\\ ", StringComparison.Ordinal).Replace("=", "\\=", StringComparison.Ordinal);
            body.Append("cpu_rate,host_id=").Append(tag).Append(" value=12.5 ").Append(ms).Append('\n');
            body.Append("mem_rate,host_id=").Append(tag).Append(" value=40 ").Append(ms).Append('\n');
        }
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var content = new StringContent(body.ToString(), Encoding.UTF8, "text/plain");
        using var response = await http.PostAsync($"{StackEnvironment.Influx}/write?db={Influx.Name}&precision=ms", content, cancellationToken);
        Assert.True(response.IsSuccessStatusCode, $"InfluxDB /write answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellationToken)}");
    }

    public async Task<JsonElement> GetJsonAsync(string path, CancellationToken cancellationToken)
    {
        using var response = await Http.GetAsync(path, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        Assert.True(response.IsSuccessStatusCode, $"GET {path} answered {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    public async Task<HttpResponseMessage> PostJsonAsync(string path, object body, CancellationToken cancellationToken) =>
        await Http.PostAsJsonAsync(path, body, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        Http?.Dispose();
        Channel?.Dispose();
        foreach (var p in _processes)
        {
            await p.DisposeAsync();
        }
        if (Influx is not null)
        {
            await Influx.DisposeAsync();
        }
        await TestDatabases.DropAsync(Database);
    }
}

[CollectionDefinition(Name)]
public sealed class ManageCollection : ICollectionFixture<ManageFixture>
{
    public const string Name = "Manage";
}
