using Grpc.Net.Client;
using Microsoft.Extensions.Logging.Abstractions;
using Monitor.Influx;
using Monitor.Protos.V1;
using Monitor.TestUtilities;
using Xunit;

namespace Monitor.IntegrationTests.Analyze;

[CollectionDefinition(Name)]
public sealed class AnalyzeCollection : ICollectionFixture<AnalyzeFixture>
{
    public const string Name = "analyze";
}

/// <summary>One stored sample, as the test wrote it (the source of every expected value).</summary>
public sealed record Written(string HostId, string Metric, string? Mount, long TimeMs, double Value);

/// <summary>
/// A fresh InfluxDB database filled through the line-protocol client with three hours of 10 s samples for a few
/// hosts, a fake manage service that knows their locations, and the analyze service as a real process pointed at both.
/// </summary>
public sealed class AnalyzeFixture : IAsyncLifetime
{
    public const long StepMs = 10_000;
    private readonly List<ServiceProcess> _processes = [];

    public string Run { get; } = Guid.NewGuid().ToString("N")[..8];
    public string Location => $"dc-{Run}";
    public string OtherLocation => $"other-{Run}";
    public string EvilLocation => $"evil-{Run}";
    public IReadOnlyList<string> LocationHosts => [$"an-{Run}-a", $"an-{Run}-b", $"an-{Run}-c"];
    public string OtherHost => $"an-{Run}-other";
    /// <summary>A real host whose id is full of InfluxQL and regex metacharacters.</summary>
    public string EvilHost => $"an-{Run}-e'v\"i\\l/;.*|(x)";
    public IReadOnlyList<string> AllHosts => [.. LocationHosts, OtherHost, EvilHost];

    public long T0Ms { get; private set; }
    public long EndMs { get; private set; }
    public List<Written> Samples { get; } = [];
    public InfluxTestDatabase Influx { get; private set; } = null!;
    public FakeManageService Manage { get; private set; } = null!;
    public string HttpUrl { get; private set; } = "";
    public string GrpcUrl { get; private set; } = "";
    public ServiceProcess Service { get; private set; } = null!;
    public HttpClient Http { get; private set; } = null!;
    public GrpcChannel Channel { get; private set; } = null!;
    public AnalyzeService.AnalyzeServiceClient Grpc { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        var ct = TestContext.Current.CancellationToken;
        Influx = await InfluxTestDatabase.CreateAsync(ct);
        await WriteSamplesAsync(ct);

        var hosts = new List<Host>();
        hosts.AddRange(LocationHosts.Select(h => new Host { HostId = h, Location = Location }));
        hosts.Add(new Host { HostId = OtherHost, Location = OtherLocation });
        hosts.Add(new Host { HostId = EvilHost, Location = EvilLocation });
        Manage = await FakeManageService.StartAsync(hosts, ct);

        GrpcUrl = $"http://127.0.0.1:{Ports.Free()}";
        HttpUrl = $"http://127.0.0.1:{Ports.Free()}";
        Service = Start("analyze", new()
        {
            ["Service__GrpcUrl"] = GrpcUrl,
            ["Service__HttpUrl"] = HttpUrl,
            ["Influx__Url"] = StackEnvironment.Influx,
            ["Influx__Database"] = Influx.Name,
            ["Manage__Address"] = Manage.Address,
            ["Retention__RollupInterval"] = "00:00:00.500",
            ["Retention__RollupLag"] = "00:00:00",
            ["Retention__RollupBackfill"] = "04:00:00",
        });
        await Service.WaitHealthyAsync(HttpUrl + "/health/ready", TimeSpan.FromSeconds(60), ct);
        Http = new HttpClient { BaseAddress = new Uri(HttpUrl), Timeout = TimeSpan.FromSeconds(30) };
        Channel = GrpcChannel.ForAddress(GrpcUrl);
        Grpc = new AnalyzeService.AnalyzeServiceClient(Channel);
    }

    /// <summary>Starts an analyze process with the fixture's etcd settings plus <paramref name="environment"/>.</summary>
    public ServiceProcess Start(string name, Dictionary<string, string> environment)
    {
        var env = new Dictionary<string, string>
        {
            ["Etcd__Endpoints__0"] = StackEnvironment.Etcd,
            ["Etcd__LeaseTtl"] = "00:00:05",
            ["Service__InstanceId"] = $"test-{name}-{Guid.NewGuid():N}"[..24],
        };
        foreach (var (k, v) in environment)
        {
            env[k] = v;
        }
        var process = ServiceProcess.Start(name, Repo.Assembly("analyze-service", "Monitor.AnalyzeService"), env);
        _processes.Add(process);
        return process;
    }

    private async Task WriteSamplesAsync(CancellationToken ct)
    {
        var now = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds();
        T0Ms = ((now - (3 * 3_600_000)) / 3_600_000) * 3_600_000;
        EndMs = (now / StepMs) * StepMs;
        var hostIndex = 0;
        foreach (var host in AllHosts)
        {
            hostIndex++;
            for (var t = T0Ms; t < EndMs; t += StepMs)
            {
                var k = (t - T0Ms) / StepMs;
                // Deterministic, uneven values; each host sits 10 points higher than the previous one.
                Samples.Add(new Written(host, "cpu_rate", null, t, (hostIndex * 10) + ((k * 37) % 97 / 4.0)));
                Samples.Add(new Written(host, "mem_rate", null, t, 30 + hostIndex + ((k * 11) % 13 / 8.0)));
                Samples.Add(new Written(host, "disk_used_percent", "/", t, 40 + hostIndex));
                Samples.Add(new Written(host, "disk_used_percent", "/data", t, 70 + hostIndex + (k % 3)));
            }
        }

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        var writer = new InfluxWriter(http, Microsoft.Extensions.Options.Options.Create(new InfluxOptions { Url = new Uri(StackEnvironment.Influx), Database = Influx.Name }), NullLogger<InfluxWriter>.Instance);
        var batch = new LineProtocolBuilder();
        foreach (var s in Samples)
        {
            KeyValuePair<string, string>[] tags = s.Mount is null
                ? [new("host_id", s.HostId)]
                : [new("host_id", s.HostId), new("mount", s.Mount)];
            batch.AppendPoint(s.Metric, tags, "value", s.Value, s.TimeMs);
            if (batch.PointCount >= 5000)
            {
                await writer.WriteAsync(batch, ct);
                batch.Reset();
            }
        }
        await writer.WriteAsync(batch, ct);
    }

    /// <summary>The written values of one series in [from, to).</summary>
    public List<Written> Points(string host, string metric, long from, long to, string? mount = null) =>
        [.. Samples.Where(s => s.HostId == host && s.Metric == metric && s.TimeMs >= from && s.TimeMs < to && (mount is null || s.Mount == mount)).OrderBy(s => s.TimeMs)];

    public async ValueTask DisposeAsync()
    {
        Channel?.Dispose();
        Http?.Dispose();
        foreach (var p in _processes)
        {
            await p.DisposeAsync();
        }
        if (Manage is not null)
        {
            await Manage.DisposeAsync();
        }
        if (Influx is not null)
        {
            await Influx.DisposeAsync();
        }
    }
}
