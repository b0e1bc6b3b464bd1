using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Confluent.Kafka;
using Google.Protobuf;
using Monitor.Protos.V1;
using Monitor.TestUtilities;
using MySqlConnector;
using Xunit;

namespace Monitor.IntegrationTests.Warning;

/// <summary>
/// One test's private warning deployment: its own MariaDB database (monitor_test_…, created by the
/// service's migrations and dropped afterwards), Kafka topic and consumer group, a local HTTP receiver
/// and SMTP sink, and warning-service instances as real processes that a test can kill and restart.
/// </summary>
public sealed class WarningHarness : IAsyncDisposable
{
    /// <summary>Rule used as a barrier: its transitions prove that everything produced before for the host was evaluated.</summary>
    public const string ProbeMetric = "load15";

    private readonly List<ServiceProcess> _processes = [];
    private readonly IProducer<string, byte[]> _producer;
    private long _lastMs;
    private long _probeRuleId;
    private readonly Dictionary<string, bool> _probeHigh = [];

    private WarningHarness(WebhookReceiver receiver)
    {
        Receiver = receiver;
        _producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = StackEnvironment.Kafka, EnableIdempotence = true, Acks = Acks.All }).Build();
        _lastMs = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds();
        var builder = new MySqlConnectionStringBuilder(StackEnvironment.MariaDb) { Database = Database };
        ConnectionString = builder.ConnectionString;
    }

    public string Database { get; } = "monitor_test_" + Guid.NewGuid().ToString("N")[..12];
    public string ConnectionString { get; }
    public string Topic { get; } = KafkaTopics.NewName("monitor-warning-test");
    public string GroupId { get; } = "monitor-warning-test-" + Guid.NewGuid().ToString("N")[..8];
    public string LeaderKey { get; } = "/monitor/test-leaders/warning-" + Guid.NewGuid().ToString("N")[..12];
    public WebhookReceiver Receiver { get; }
    public SmtpSink Smtp { get; } = new();
    public List<(ServiceProcess Process, HttpClient Http)> Instances { get; } = [];
    public List<string> GrpcUrls { get; } = [];
    public HttpClient Api => Instances.First(i => !i.Process.HasExited).Http;

    public static async Task<WarningHarness> StartAsync(int instances = 1, Dictionary<string, string>? settings = null)
    {
        var harness = new WarningHarness(await WebhookReceiver.StartAsync());
        await KafkaTopics.CreateAsync(harness.Topic, 4, TestContext.Current.CancellationToken);
        for (int i = 0; i < instances; i++)
        {
            await harness.StartInstanceAsync(settings);
        }
        return harness;
    }

    public async Task<(ServiceProcess Process, HttpClient Http)> StartInstanceAsync(Dictionary<string, string>? settings = null)
    {
        var http = $"http://127.0.0.1:{Ports.Free()}";
        var grpc = $"http://127.0.0.1:{Ports.Free()}";
        GrpcUrls.Add(grpc);
        var env = new Dictionary<string, string>
        {
            ["Service__HttpUrl"] = http,
            ["Service__GrpcUrl"] = grpc,
            ["Service__InstanceId"] = $"warning-test-{Guid.NewGuid():N}"[..24],
            ["ConnectionStrings__Warning"] = ConnectionString,
            ["Kafka__BootstrapServers"] = StackEnvironment.Kafka,
            ["Kafka__SamplesTopic"] = Topic,
            ["Kafka__Consumer__session.timeout.ms"] = "6000",
            ["Kafka__Consumer__heartbeat.interval.ms"] = "1000",
            ["Etcd__Endpoints__0"] = StackEnvironment.Etcd,
            ["Etcd__LeaseTtl"] = "00:00:05",
            ["Warning__GroupId"] = GroupId,
            ["Warning__RuleRefreshInterval"] = "00:00:01",
            ["Warning__DispatchInterval"] = "00:00:00.100",
            ["Warning__SendRetryInitialDelay"] = "00:00:00.100",
            ["Warning__SendTimeout"] = "00:00:05",
            ["Logging__LogLevel__Default"] = "Information",
            ["Influx__Url"] = StackEnvironment.Influx,
            // Each test elects its own evaluator, apart from any warning-service of the running stack.
            ["Warning__LeaderKey"] = LeaderKey,
            ["Warning__LeaderLeaseTtl"] = "00:00:03",
            ["Warning__ElectedEvaluationInterval"] = "00:00:00.500",
        };
        foreach (var (k, v) in settings ?? [])
        {
            env[k] = v;
        }
        var process = ServiceProcess.Start($"warning{_processes.Count}", Repo.Assembly("warning-service", "Monitor.WarningService"), env);
        _processes.Add(process);
        await process.WaitHealthyAsync(http + "/health/ready", TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
        var client = new HttpClient { BaseAddress = new Uri(http), Timeout = TimeSpan.FromSeconds(30) };
        Instances.Add((process, client));
        return (process, client);
    }

    // ---- API helpers -------------------------------------------------------------------------

    public async Task<JsonElement> PostAsync(string path, object body, int expectedStatus = 201)
    {
        using var response = await Api.PostAsJsonAsync(path, body, TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True((int)response.StatusCode == expectedStatus, $"POST {path} answered {(int)response.StatusCode}: {text}");
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    public async Task<JsonElement> GetAsync(string path)
    {
        using var response = await Api.GetAsync(path, TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.IsSuccessStatusCode, $"GET {path} answered {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    public Task<JsonElement> WebhookChannelAsync(string name, string path) =>
        PostAsync("/api/v1/warning/channels", new { name, type = "webhook", url = Receiver.BaseUrl + path });

    /// <summary>Creates a cpu_rate rule (> 70 warning, > 90 critical) for one host and returns its id.</summary>
    public async Task<long> CpuRuleAsync(string hostId, int consecutive, string[] channels, double? recovery = null, double repeatSeconds = 0, string? name = null)
    {
        var rule = await PostAsync("/api/v1/warning/rules", new
        {
            name = name ?? $"cpu high {hostId}",
            metric = "cpu_rate",
            scope = new { kind = "host", value = hostId },
            aggregation = "last",
            comparator = "gt",
            bands = new { warning = 70.0, critical = 90.0 },
            consecutiveBreaches = consecutive,
            recoveryThreshold = recovery,
            channels,
            notifyOnResolve = true,
            repeatIntervalSeconds = repeatSeconds,
        });
        return rule.GetProperty("id").GetInt64();
    }

    public async Task<List<JsonElement>> AlertsAsync(long ruleId, string? hostId = null)
    {
        var page = await GetAsync($"/api/v1/warning/alerts?ruleId={ruleId}" + (hostId is null ? "" : $"&hostId={Uri.EscapeDataString(hostId)}"));
        return page.GetProperty("items").EnumerateArray().ToList();
    }

    public async Task<List<JsonElement>> PushLogAsync(long alertId)
    {
        var page = await GetAsync($"/api/v1/warning/push-log?alertId={alertId}");
        return page.GetProperty("items").EnumerateArray().ToList();
    }

    public async Task<JsonElement?> StateAsync(long ruleId, string hostId)
    {
        var states = await GetAsync($"/api/v1/warning/states?ruleId={ruleId}&hostId={Uri.EscapeDataString(hostId)}");
        return states.GetArrayLength() == 0 ? null : states[0];
    }

    // ---- samples -----------------------------------------------------------------------------

    /// <summary>Produces one batch for <paramref name="hostId"/> with one sample per metric, at a strictly increasing timestamp; returns it.</summary>
    public async Task<long> ProduceAsync(string hostId, params (string Metric, double Value)[] samples)
    {
        var ms = Interlocked.Increment(ref _lastMs);
        ms = Math.Max(ms, TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds());
        _lastMs = ms;
        return await ProduceAtAsync(hostId, ms, samples);
    }

    /// <summary>Produces one batch for <paramref name="hostId"/> stamped <paramref name="ms"/> (unix milliseconds).</summary>
    public async Task<long> ProduceAtAsync(string hostId, long ms, params (string Metric, double Value)[] samples)
    {
        var batch = new SampleBatch { HostId = hostId, Sequence = (ulong)ms, SentAtUnixMs = ms };
        foreach (var (metric, value) in samples)
        {
            batch.Samples.Add(new Sample { Metric = metric, Value = value, TimestampUnixMs = ms });
        }
        await _producer.ProduceAsync(Topic, new Message<string, byte[]> { Key = hostId, Value = batch.ToByteArray() }, TestContext.Current.CancellationToken);
        return ms;
    }

    public Task<long> CpuAsync(string hostId, double value) => ProduceAsync(hostId, ("cpu_rate", value));

    /// <summary>
    /// Waits until every sample produced so far for <paramref name="hostId"/> has been evaluated and persisted:
    /// produces a probe sample that flips the probe rule's state and polls for that exact sample in MySQL
    /// (samples of one host share a partition, so they are evaluated in order).
    /// </summary>
    public async Task BarrierAsync(string hostId, TimeSpan? timeout = null)
    {
        if (_probeRuleId == 0)
        {
            var rule = await PostAsync("/api/v1/warning/rules", new
            {
                name = "probe " + Guid.NewGuid().ToString("N")[..6],
                metric = ProbeMetric,
                scope = new { kind = "all" },
                comparator = "gt",
                bands = new { info = 1.0 },
                consecutiveBreaches = 1,
                channels = Array.Empty<string>(),
            });
            _probeRuleId = rule.GetProperty("id").GetInt64();
            await RulesPropagatedAsync();
        }
        // Per host the probe alternates between breaching and healthy, so every probe is a transition that gets persisted.
        var high = _probeHigh[hostId] = !_probeHigh.GetValueOrDefault(hostId);
        var ms = await ProduceAsync(hostId, (ProbeMetric, high ? 2 : 0));
        await Poll.UntilAsync(async () => await StateAsync(_probeRuleId, hostId) is { } s && s.GetProperty("lastSampleUnixMs").GetInt64() >= ms,
            timeout ?? TimeSpan.FromSeconds(30), $"probe sample {ms} of {hostId} to be evaluated\n{Logs()}", TestContext.Current.CancellationToken);
    }

    /// <summary>With several instances, waits out one rule-refresh period (1 s here) so every instance evaluates a new rule.</summary>
    public async Task RulesPropagatedAsync()
    {
        if (Instances.Count(i => !i.Process.HasExited) > 1)
        {
            await Task.Delay(TimeSpan.FromSeconds(1.5), TestContext.Current.CancellationToken);
        }
    }

    public string Logs() => string.Join("\n", _processes.Select(p => $"--- {p.Name} ---\n{p.Tail(25)}"));

    public async ValueTask DisposeAsync()
    {
        foreach (var p in _processes)
        {
            await p.DisposeAsync();
        }
        foreach (var (_, http) in Instances)
        {
            http.Dispose();
        }
        _producer.Dispose();
        await Receiver.DisposeAsync();
        await Smtp.DisposeAsync();
        await TestDatabases.DropAsync(Database);
    }
}
