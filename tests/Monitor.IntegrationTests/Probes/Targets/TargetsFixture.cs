using System.Net.Http.Json;
using System.Text.Json;
using Grpc.Core;
using Grpc.Net.Client;
using Monitor.Protos.V1;
using Monitor.TestUtilities;
using MySqlConnector;
using Xunit;

namespace Monitor.IntegrationTests.Probes.Targets;

/// <summary>
/// Two manage processes (A and B) on one fresh MariaDB database, a fresh InfluxDB database and the shared etcd (with a
/// private revision key), access control off. The watch streams resync only every 10 minutes, so a test that sees a
/// change within seconds proves it was pushed.
/// </summary>
public sealed class TargetsFixture : IAsyncLifetime
{
    private readonly List<ServiceProcess> _processes = [];

    public string Database { get; } = "monitor_test_" + Guid.NewGuid().ToString("N")[..12];
    public string RevisionKey { get; } = $"/monitor-test/{Guid.NewGuid():N}/probes/revision";
    public string ProberPrefix { get; } = $"/monitor-test/{Guid.NewGuid():N}/probes/probers";
    public InfluxTestDatabase Influx { get; private set; } = null!;
    public HttpClient Http { get; private set; } = null!;
    public string GrpcUrlA { get; private set; } = "";
    public GrpcChannel ChannelA { get; private set; } = null!;
    public GrpcChannel ChannelB { get; private set; } = null!;
    public ProbeConfigService.ProbeConfigServiceClient GrpcA { get; private set; } = null!;
    public ProbeConfigService.ProbeConfigServiceClient GrpcB { get; private set; } = null!;

    public string ConnectionString => new MySqlConnectionStringBuilder(StackEnvironment.MariaDb) { Database = Database }.ConnectionString;

    public async ValueTask InitializeAsync()
    {
        var ct = TestContext.Current.CancellationToken;
        Influx = await InfluxTestDatabase.CreateAsync(ct);
        var (grpcA, httpA) = ($"http://127.0.0.1:{Ports.Free()}", $"http://127.0.0.1:{Ports.Free()}");
        GrpcUrlA = grpcA;
        var a = Start("manage-a", grpcA, httpA);
        await a.WaitHealthyAsync(httpA + "/health/ready", TimeSpan.FromSeconds(90), ct);
        // B starts after A has migrated the database.
        var (grpcB, httpB) = ($"http://127.0.0.1:{Ports.Free()}", $"http://127.0.0.1:{Ports.Free()}");
        var b = Start("manage-b", grpcB, httpB);
        await b.WaitHealthyAsync(httpB + "/health/ready", TimeSpan.FromSeconds(90), ct);
        Http = new HttpClient { BaseAddress = new Uri(httpA), Timeout = TimeSpan.FromSeconds(30) };
        ChannelA = GrpcChannel.ForAddress(grpcA);
        ChannelB = GrpcChannel.ForAddress(grpcB);
        GrpcA = new ProbeConfigService.ProbeConfigServiceClient(ChannelA);
        GrpcB = new ProbeConfigService.ProbeConfigServiceClient(ChannelB);
    }

    private ServiceProcess Start(string name, string grpcUrl, string httpUrl)
    {
        var env = new Dictionary<string, string>
        {
            ["Auth__Enabled"] = "false",
            ["Service__GrpcUrl"] = grpcUrl,
            ["Service__HttpUrl"] = httpUrl,
            ["Service__InstanceId"] = $"test-{name}-{Guid.NewGuid():N}"[..24],
            ["ConnectionStrings__Manage"] = ConnectionString,
            ["Manage__ApplyMigrationsOnStartup"] = "true",
            ["Influx__Url"] = StackEnvironment.Influx,
            ["Influx__Database"] = Influx.Name,
            ["Etcd__Endpoints__0"] = StackEnvironment.Etcd,
            ["Etcd__LeaseTtl"] = "00:00:05",
            ["Probes__RevisionKey"] = RevisionKey,
            ["Probes__ProberPrefix"] = ProberPrefix,
            ["Probes__ResyncInterval"] = "00:10:00",
        };
        var process = ServiceProcess.Start(name, Repo.Assembly("manage-service", "Monitor.ManageService"), env);
        _processes.Add(process);
        return process;
    }

    public async Task<HttpResponseMessage> PostAsync(object body, CancellationToken cancellationToken) =>
        await Http.PostAsJsonAsync("/api/v1/manage/probes/targets", body, cancellationToken);

    public async Task<HttpResponseMessage> PatchAsync(string name, object body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Patch, $"/api/v1/manage/probes/targets/{name}") { Content = JsonContent.Create(body) };
        return await Http.SendAsync(request, cancellationToken);
    }

    public async Task<JsonElement> GetAsync(string name, CancellationToken cancellationToken)
    {
        using var response = await Http.GetAsync($"/api/v1/manage/probes/targets/{name}", cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        Assert.True(response.IsSuccessStatusCode, $"GET {name} answered {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>The stored config_json column of a target, straight from MariaDB.</summary>
    public async Task<string> StoredConfigAsync(string name, CancellationToken cancellationToken)
    {
        await using var connection = new MySqlConnection(ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT config_json FROM probe_targets WHERE name = @name";
        command.Parameters.AddWithValue("@name", name);
        return (string)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    public async ValueTask DisposeAsync()
    {
        Http?.Dispose();
        ChannelA?.Dispose();
        ChannelB?.Dispose();
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
public sealed class TargetsCollection : ICollectionFixture<TargetsFixture>
{
    public const string Name = "ProbeTargets";
}

/// <summary>A prober's WatchTargets stream, read in the background; <see cref="Latest"/> is the last set received.</summary>
public sealed class TargetWatch : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly AsyncServerStreamingCall<TargetSet> _call;
    private readonly Task _reader;
    private volatile TargetSet? _latest;

    public TargetWatch(ProbeConfigService.ProbeConfigServiceClient client, string hostId, string location = "")
    {
        _call = client.WatchTargets(new WatchTargetsRequest { HostId = hostId, Location = location, ProberVersion = "test" }, cancellationToken: _stop.Token);
        _reader = Task.Run(async () =>
        {
            try
            {
                await foreach (var set in _call.ResponseStream.ReadAllAsync(_stop.Token))
                {
                    _latest = set;
                }
            }
            catch (Exception ex) when (ex is RpcException or OperationCanceledException)
            {
            }
        });
    }

    /// <summary>The latest set received so far (null before the first). Every set is the prober's complete assignment.</summary>
    public TargetSet? Latest => _latest;

    /// <summary>Waits until the latest set satisfies <paramref name="condition"/> (fails after 15 s).</summary>
    public async Task<TargetSet> NextMatchingAsync(Func<TargetSet, bool> condition, string what, CancellationToken cancellationToken)
    {
        await Poll.UntilAsync(() => _latest is { } set && condition(set), TimeSpan.FromSeconds(15), $"{what} (latest set: {_latest})", cancellationToken);
        return _latest!;
    }

    public static bool Has(TargetSet? set, string name) => set is not null && set.Targets.Any(t => t.Spec.Name == name);

    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested)
        {
            return;
        }
        await _stop.CancelAsync();
        try
        {
            await _reader;
        }
        catch (OperationCanceledException)
        {
        }
        _call.Dispose();
    }
}
