using Monitor.TestUtilities;
using Xunit;

namespace Monitor.IntegrationTests;

/// <summary>
/// A private pipeline on the real stack: its own Kafka topics, consumer group and InfluxDB database,
/// two report services and one persistence service as real processes on free ports.
/// </summary>
public sealed class PipelineFixture : IAsyncLifetime
{
    private readonly List<ServiceProcess> _processes = [];

    public string Topic { get; } = KafkaTopics.NewName("monitor-test-samples");
    public string DeadLetterTopic { get; } = KafkaTopics.NewName("monitor-test-dlq");
    public string GroupId { get; } = "monitor-persistent-test-" + Guid.NewGuid().ToString("N")[..8];
    public InfluxTestDatabase Influx { get; private set; } = null!;
    public List<ReportInstance> Reports { get; } = [];
    public ServiceProcess Persistence { get; private set; } = null!;

    public sealed record ReportInstance(ServiceProcess Process, string GrpcUrl, string HttpUrl, string InstanceId);

    public async ValueTask InitializeAsync()
    {
        var ct = TestContext.Current.CancellationToken;
        await KafkaTopics.CreateAsync(Topic, 8, ct);
        await KafkaTopics.CreateAsync(DeadLetterTopic, 2, ct);
        Influx = await InfluxTestDatabase.CreateAsync(ct);

        for (int i = 0; i < 2; i++)
        {
            Reports.Add(StartReport(i));
        }
        var persistenceHttp = $"http://127.0.0.1:{Ports.Free()}";
        Persistence = Start("persistent", Repo.Assembly("persistent-service", "Monitor.PersistentService"), new()
        {
            ["Service__HttpUrl"] = persistenceHttp,
            ["Service__InstanceId"] = "test-persistent-" + Guid.NewGuid().ToString("N")[..6],
            ["Persistence__GroupId"] = GroupId,
            ["Persistence__FlushInterval"] = "00:00:00.200",
            ["Persistence__RetryMaxDelay"] = "00:00:02",
            ["Influx__Url"] = StackEnvironment.Influx,
            ["Influx__Database"] = Influx.Name,
            ["Kafka__Consumer__session.timeout.ms"] = "6000",
            ["Kafka__Consumer__heartbeat.interval.ms"] = "1000",
        });

        foreach (var r in Reports)
        {
            await r.Process.WaitHealthyAsync(r.HttpUrl + "/health/ready", TimeSpan.FromSeconds(60), ct);
        }
        await Persistence.WaitHealthyAsync(persistenceHttp + "/health/ready", TimeSpan.FromSeconds(60), ct);
    }

    private ReportInstance StartReport(int index)
    {
        var grpc = $"http://127.0.0.1:{Ports.Free()}";
        var http = $"http://127.0.0.1:{Ports.Free()}";
        var instance = $"test-report-{index}-{Guid.NewGuid():N}"[..24];
        var process = Start($"report{index}", Repo.Assembly("report-service", "Monitor.ReportService"), new()
        {
            ["Service__GrpcUrl"] = grpc,
            ["Service__HttpUrl"] = http,
            ["Service__InstanceId"] = instance,
        });
        return new ReportInstance(process, grpc, http, instance);
    }

    /// <summary>Starts a process with the fixture's Kafka, etcd and topic settings plus <paramref name="extra"/>.</summary>
    public ServiceProcess Start(string name, string assembly, Dictionary<string, string> extra)
    {
        var process = ServiceProcess.Start(name, assembly, PipelineEnvironment.For(Topic, DeadLetterTopic, "/monitor/services", extra));
        _processes.Add(process);
        return process;
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
    }
}
