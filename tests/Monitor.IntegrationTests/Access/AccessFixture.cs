using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Monitor.TestUtilities;
using MySqlConnector;
using Xunit;

namespace Monitor.IntegrationTests.Access;

/// <summary>
/// Access control switched on across real processes: a manage service (fresh MariaDB database, bootstrap admin with
/// a random password), a report service and an analyze service that validate credentials against it, all watching
/// this fixture's own revocation key in etcd. Credential caches last 30 s here, so a revocation seen sooner proves
/// the etcd announcement (docs/access.md).
/// </summary>
public sealed class AccessFixture : IAsyncLifetime
{
    public const string AdminName = "root-admin";
    private readonly List<ServiceProcess> _processes = [];
    private readonly string _id = Guid.NewGuid().ToString("N")[..10];

    public string AdminPassword { get; } = "pw-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(12));
    public string Database => "monitor_test_" + _id;
    public string RevocationKey => $"/monitor-test/{_id}/auth/revision";
    public string EtcdPrefix => $"/monitor-test/{_id}/services";
    public string Topic { get; } = KafkaTopics.NewName("monitor-test-access");
    public string DeadLetterTopic { get; } = KafkaTopics.NewName("monitor-test-access-dlq");
    public InfluxTestDatabase Influx { get; private set; } = null!;

    public string ManageHttp { get; } = $"http://127.0.0.1:{Ports.Free()}";
    public string ManageGrpc { get; } = $"http://127.0.0.1:{Ports.Free()}";
    public string ReportHttp { get; } = $"http://127.0.0.1:{Ports.Free()}";
    public string ReportGrpc { get; } = $"http://127.0.0.1:{Ports.Free()}";
    public string AnalyzeHttp { get; } = $"http://127.0.0.1:{Ports.Free()}";
    public string AnalyzeGrpc { get; } = $"http://127.0.0.1:{Ports.Free()}";
    public string WarningHttp { get; } = $"http://127.0.0.1:{Ports.Free()}";
    public string WarningGrpc { get; } = $"http://127.0.0.1:{Ports.Free()}";
    public string WarningDatabase => "monitor_test_w" + _id;
    public string WarningConnectionString => new MySqlConnectionStringBuilder(StackEnvironment.MariaDb) { Database = WarningDatabase }.ConnectionString;

    /// <summary>Every secret handed out in this fixture (passwords, tokens, session cookies): none may appear in a log or a listing.</summary>
    public List<string> Secrets { get; } = [];

    public IReadOnlyList<ServiceProcess> Processes => _processes;

    /// <summary>An admin API token.</summary>
    public string AdminToken { get; private set; } = "";

    public string ConnectionString => new MySqlConnectionStringBuilder(StackEnvironment.MariaDb) { Database = Database }.ConnectionString;

    public async ValueTask InitializeAsync()
    {
        var ct = TestContext.Current.CancellationToken;
        Secrets.Add(AdminPassword);
        await KafkaTopics.CreateAsync(Topic, 2, ct);
        await KafkaTopics.CreateAsync(DeadLetterTopic, 1, ct);
        Influx = await InfluxTestDatabase.CreateAsync(ct);

        var manage = Start("access-manage", Repo.Assembly("manage-service", "Monitor.ManageService"), new()
        {
            ["Service__GrpcUrl"] = ManageGrpc,
            ["Service__HttpUrl"] = ManageHttp,
            ["ConnectionStrings__Manage"] = ConnectionString,
            ["Influx__Url"] = StackEnvironment.Influx,
            ["Influx__Database"] = Influx.Name,
            ["Manage__ApplyMigrationsOnStartup"] = "true",
            ["Manage__HostDeletedEventPrefix"] = $"/monitor-test/{_id}/host-deleted",
            ["Auth__BootstrapAdmin__Name"] = AdminName,
            ["Auth__BootstrapAdmin__Password"] = AdminPassword,
            ["Auth__MaxFailedLoginsPerUser"] = "3",
        });
        await manage.WaitHealthyAsync(ManageHttp + "/health/ready", TimeSpan.FromSeconds(90), ct);

        var session = await LoginAsync(AdminName, AdminPassword, ct);
        AdminToken = await CreateTokenAsync(new { name = "fixture-admin", role = "admin" }, ct, session: session);
        var serviceToken = await CreateTokenAsync(new { name = "analyze-service", role = "viewer" }, ct);

        var report = Start("access-report", Repo.Assembly("report-service", "Monitor.ReportService"), new()
        {
            ["Service__GrpcUrl"] = ReportGrpc,
            ["Service__HttpUrl"] = ReportHttp,
        });
        var analyze = Start("access-analyze", Repo.Assembly("analyze-service", "Monitor.AnalyzeService"), new()
        {
            ["Service__GrpcUrl"] = AnalyzeGrpc,
            ["Service__HttpUrl"] = AnalyzeHttp,
            ["Influx__Url"] = StackEnvironment.Influx,
            ["Influx__Database"] = Influx.Name,
            ["Manage__Address"] = ManageGrpc,
            ["Auth__ServiceToken"] = serviceToken,
        });
        var warning = Start("access-warning", Repo.Assembly("warning-service", "Monitor.WarningService"), new()
        {
            ["Service__GrpcUrl"] = WarningGrpc,
            ["Service__HttpUrl"] = WarningHttp,
            ["ConnectionStrings__Warning"] = WarningConnectionString,
            ["Influx__Url"] = StackEnvironment.Influx,
            ["Manage__Address"] = ManageGrpc,
            ["Warning__GroupId"] = "monitor-warning-access-" + _id,
            ["Warning__LeaderKey"] = $"/monitor-test/{_id}/warning-leader",
            ["Auth__ServiceToken"] = serviceToken,
        });
        await report.WaitHealthyAsync(ReportHttp + "/health/ready", TimeSpan.FromSeconds(60), ct);
        await warning.WaitHealthyAsync(WarningHttp + "/health/live", TimeSpan.FromSeconds(60), ct);
        await analyze.WaitHealthyAsync(AnalyzeHttp + "/health/live", TimeSpan.FromSeconds(60), ct);
    }

    /// <summary>Starts a process with access control on, against this fixture's manage service and revocation key.</summary>
    public ServiceProcess Start(string name, string assembly, Dictionary<string, string> extra)
    {
        var env = PipelineEnvironment.For(Topic, DeadLetterTopic, EtcdPrefix, new Dictionary<string, string>
        {
            ["Auth__Enabled"] = "true",
            ["Auth__AllowAnonymousLegacy"] = "false",
            ["Auth__ManageUrl"] = ManageHttp,
            ["Auth__RevocationKey"] = RevocationKey,
            ["Auth__CacheDuration"] = "00:00:30",
            ["Service__InstanceId"] = $"{name}-{_id}",
        });
        foreach (var (k, v) in extra)
        {
            env[k] = v;
        }
        var process = ServiceProcess.Start(name, assembly, env);
        _processes.Add(process);
        return process;
    }

    /// <summary>Logs in; returns the session cookie value.</summary>
    public async Task<string> LoginAsync(string user, string password, CancellationToken ct)
    {
        using var response = await PostLoginAsync(user, password, ct);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        var cookie = response.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("monitor_session=", StringComparison.Ordinal));
        var value = cookie["monitor_session=".Length..cookie.IndexOf(';', StringComparison.Ordinal)];
        Secrets.Add(value);
        return value;
    }

    public async Task<HttpResponseMessage> PostLoginAsync(string user, string password, CancellationToken ct)
    {
        using var http = new HttpClient(new HttpClientHandler { UseCookies = false }) { BaseAddress = new Uri(ManageHttp) };
        return await http.PostAsJsonAsync("/api/v1/manage/auth/login", new { username = user, password }, ct);
    }

    /// <summary>Creates a token as admin and returns its secret.</summary>
    public async Task<string> CreateTokenAsync(object body, CancellationToken ct, string? session = null)
    {
        var created = await CreateTokenWithIdAsync(body, ct, session);
        return created.Secret;
    }

    public async Task<(long Id, string Secret)> CreateTokenWithIdAsync(object body, CancellationToken ct, string? session = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, ManageHttp + "/api/v1/manage/tokens") { Content = JsonContent.Create(body) };
        if (session is not null)
        {
            request.Headers.Add("Cookie", "monitor_session=" + session);
        }
        else
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
        }
        using var http = new HttpClient(new HttpClientHandler { UseCookies = false });
        using var response = await http.SendAsync(request, ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"creating a token answered {(int)response.StatusCode}: {text}");
        var json = JsonDocument.Parse(text).RootElement;
        var secret = json.GetProperty("secret").GetString()!;
        Secrets.Add(secret);
        return (json.GetProperty("token").GetProperty("id").GetInt64(), secret);
    }

    /// <summary>Sends a request with an optional bearer token or session cookie.</summary>
    public static async Task<HttpResponseMessage> SendAsync(HttpMethod method, string url, string? token, object? body, CancellationToken ct, string? session = null)
    {
        using var request = new HttpRequestMessage(method, url);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        if (session is not null)
        {
            request.Headers.Add("Cookie", "monitor_session=" + session);
        }
        using var http = new HttpClient(new HttpClientHandler { UseCookies = false }) { Timeout = TimeSpan.FromSeconds(30) };
        return await http.SendAsync(request, ct);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var p in _processes)
        {
            await p.DisposeAsync();
        }
        if (Influx is not null)
        {
            await Influx.DisposeAsync();
        }
        await TestDatabases.DropAsync(Database, WarningDatabase);
    }
}

[CollectionDefinition(Name)]
public sealed class AccessCollection : ICollectionFixture<AccessFixture>
{
    public const string Name = "Access";
}
