using Confluent.Kafka;
using Monitor.TestUtilities;
using Xunit;

namespace Monitor.IntegrationTests.Chaos;

/// <summary>
/// One chaos test's private pipeline: its own topics, consumer group and InfluxDB database (on the
/// shared server or a private influxd), report and persistence instances as real processes that the
/// test can kill (SIGKILL) and restart mid-stream.
/// </summary>
public sealed class ChaosPipeline : IAsyncDisposable
{
    private readonly List<ServiceProcess> _processes = [];
    private readonly string _influxUrl;

    private ChaosPipeline(string influxUrl, InfluxTestDatabase influx)
    {
        _influxUrl = influxUrl;
        Influx = influx;
    }

    public string Topic { get; } = KafkaTopics.NewName("monitor-chaos");
    public string DeadLetterTopic { get; } = KafkaTopics.NewName("monitor-chaos-dlq");
    public string GroupId { get; } = "monitor-persistent-chaos-" + Guid.NewGuid().ToString("N")[..8];
    public InfluxTestDatabase Influx { get; }
    public List<(ServiceProcess Process, string GrpcUrl, string HttpUrl)> Reports { get; } = [];
    public List<string> PersistenceHttpUrls { get; } = [];
    public int Partitions { get; private set; } = 8;
    public string EtcdPrefix { get; private set; } = "/monitor/services";
    public List<ServiceProcess> Persistence { get; } = [];

    public static async Task<ChaosPipeline> StartAsync(int reports, int persistence, string? influxUrl = null, int partitions = 8, Func<ChaosPipeline, Task>? beforeServices = null, string? etcdPrefix = null)
    {
        var ct = TestContext.Current.CancellationToken;
        influxUrl ??= StackEnvironment.Influx;
        var db = await InfluxTestDatabase.CreateAsync(influxUrl, ct);
        var pipeline = new ChaosPipeline(influxUrl, db);
        pipeline.Partitions = partitions;
        pipeline.EtcdPrefix = etcdPrefix ?? pipeline.EtcdPrefix;
        await KafkaTopics.CreateAsync(pipeline.Topic, partitions, ct);
        await KafkaTopics.CreateAsync(pipeline.DeadLetterTopic, 1, ct);
        if (beforeServices is not null)
        {
            await beforeServices(pipeline);
        }
        var waits = new List<Task>();
        for (int i = 0; i < reports; i++)
        {
            var grpc = $"http://127.0.0.1:{Ports.Free()}";
            var http = $"http://127.0.0.1:{Ports.Free()}";
            var p = pipeline.Start($"chaos-report{i}", Repo.Assembly("report-service", "Monitor.ReportService"), new()
            {
                ["Service__GrpcUrl"] = grpc,
                ["Service__HttpUrl"] = http,
                ["Service__InstanceId"] = $"chaos-report-{i}-{Guid.NewGuid():N}"[..22],
            });
            pipeline.Reports.Add((p, grpc, http));
            waits.Add(p.WaitHealthyAsync(http + "/health/ready", TimeSpan.FromSeconds(60), ct));
        }
        for (int i = 0; i < persistence; i++)
        {
            waits.Add(pipeline.StartPersistenceAsync());
        }
        await Task.WhenAll(waits);
        return pipeline;
    }

    public async Task StartPersistenceAsync()
    {
        var http = $"http://127.0.0.1:{Ports.Free()}";
        var p = Start($"chaos-persistent{Persistence.Count}", Repo.Assembly("persistent-service", "Monitor.PersistentService"), new()
        {
            ["Service__HttpUrl"] = http,
            ["Service__InstanceId"] = $"chaos-persistent-{Guid.NewGuid():N}"[..24],
            ["Persistence__GroupId"] = GroupId,
            ["Persistence__FlushInterval"] = "00:00:00.200",
            ["Persistence__RetryInitialDelay"] = "00:00:00.200",
            ["Persistence__RetryMaxDelay"] = "00:00:01",
            ["Influx__Url"] = _influxUrl,
            ["Influx__Database"] = Influx.Name,
            ["Influx__Timeout"] = "00:00:03",
            ["Kafka__Consumer__session.timeout.ms"] = "6000",
            ["Kafka__Consumer__heartbeat.interval.ms"] = "1000",
        });
        Persistence.Add(p);
        PersistenceHttpUrls.Add(http);
        await p.WaitHealthyAsync(http + "/health/ready", TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
    }

    private ServiceProcess Start(string name, string assembly, Dictionary<string, string> extra)
    {
        var process = ServiceProcess.Start(name, assembly, PipelineEnvironment.For(Topic, DeadLetterTopic, EtcdPrefix, extra));
        _processes.Add(process);
        return process;
    }

    /// <summary>Waits until InfluxDB holds every acknowledged sample of every client; then asserts the stored set equals the acked set.</summary>
    public async Task AssertStoredExactlyAsync(IEnumerable<TrafficClient> clients, TimeSpan timeout)
    {
        var ct = TestContext.Current.CancellationToken;
        foreach (var client in clients)
        {
            var expected = client.Acked.ToDictionary();
            Dictionary<string, double> stored = [];
            try
            {
                await Poll.UntilAsync(async () =>
                {
                    var points = await Influx.PointsAsync(client.HostId, ["chaos_a", "chaos_b"], ct);
                    stored = points.ToDictionary(p => $"{p.Measurement}@{p.TimestampUnixMs}", p => p.Value);
                    return stored.Count >= expected.Count;
                }, timeout, $"{expected.Count} points of {client.HostId} in InfluxDB", ct);
            }
            catch (TimeoutException ex)
            {
                var missing = expected.Keys.Except(stored.Keys).Take(5);
                throw new TimeoutException($"{ex.Message}; stored {stored.Count}, missing e.g. {string.Join(", ", missing)}\n{Logs()}", ex);
            }
            Assert.True(expected.Count > 0, $"{client.HostId} had no acknowledged samples");
            Assert.Equal(expected.OrderBy(kv => kv.Key), stored.OrderBy(kv => kv.Key));
        }
    }

    /// <summary>The group's committed offsets per partition (read without joining the group).</summary>
    public Dictionary<int, long> CommittedOffsets()
    {
        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig
        {
            BootstrapServers = StackEnvironment.Kafka,
            GroupId = GroupId,
            EnableAutoCommit = false,
        }).Build();
        var partitions = Enumerable.Range(0, Partitions).Select(p => new TopicPartition(Topic, p)).ToList();
        return consumer.Committed(partitions, TimeSpan.FromSeconds(10)).ToDictionary(o => o.Partition.Value, o => o.Offset.Value);
    }

    public string Logs() => string.Join("\n", _processes.Select(p => $"--- {p.Name} ---\n{p.Tail(15)}"));

    public async ValueTask DisposeAsync()
    {
        foreach (var p in _processes)
        {
            await p.DisposeAsync();
        }
        await Influx.DisposeAsync();
    }
}
