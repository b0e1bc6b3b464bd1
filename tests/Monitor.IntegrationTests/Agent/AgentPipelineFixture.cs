using Monitor.TestUtilities;
using Xunit;

namespace Monitor.IntegrationTests.Agent;

/// <summary>
/// A private pipeline for the agent tests, which stop and kill report services: its own Kafka
/// topics, consumer group, InfluxDB database and etcd prefix, two report services (registered
/// under that prefix) and one persistence service as real processes on free ports. Report services
/// can be stopped, killed and restarted on the same ports without disturbing other tests.
/// </summary>
public sealed class AgentPipelineFixture : IAsyncLifetime
{
    private readonly List<ServiceProcess> _processes = [];
    private readonly string _id = Guid.NewGuid().ToString("N")[..10];

    public string Topic { get; } = KafkaTopics.NewName("monitor-test-agent-samples");
    public string DeadLetterTopic { get; } = KafkaTopics.NewName("monitor-test-agent-dlq");
    public InfluxTestDatabase Influx { get; private set; } = null!;
    public ReportSlot[] Reports { get; } = new ReportSlot[2];
    public string EtcdPrefix => $"/monitor-test-{_id}/services";
    public string DiscoveryPrefix => EtcdPrefix + "/report/";

    /// <summary>One report-service instance: fixed ports, a process that can be replaced.</summary>
    public sealed class ReportSlot(int index, string grpcUrl, string httpUrl)
    {
        public int Index => index;
        public string GrpcUrl => grpcUrl;
        public string HttpUrl => httpUrl;
        public ServiceProcess? Process { get; set; }
        public bool Running => Process is { HasExited: false };
    }

    public async ValueTask InitializeAsync()
    {
        var ct = TestContext.Current.CancellationToken;
        await KafkaTopics.CreateAsync(Topic, 8, ct);
        await KafkaTopics.CreateAsync(DeadLetterTopic, 2, ct);
        Influx = await InfluxTestDatabase.CreateAsync(ct);
        for (int i = 0; i < Reports.Length; i++)
        {
            Reports[i] = new ReportSlot(i, $"http://127.0.0.1:{Ports.Free()}", $"http://127.0.0.1:{Ports.Free()}");
            StartReport(Reports[i]);
        }
        var persistenceHttp = $"http://127.0.0.1:{Ports.Free()}";
        var persistence = Start("agent-persistent", Repo.Assembly("persistent-service", "Monitor.PersistentService"), new()
        {
            ["Service__HttpUrl"] = persistenceHttp,
            ["Service__InstanceId"] = "test-agent-persistent-" + _id,
            ["Persistence__GroupId"] = "monitor-persistent-agent-test-" + _id,
            ["Persistence__FlushInterval"] = "00:00:00.200",
            ["Persistence__RetryMaxDelay"] = "00:00:02",
            ["Influx__Url"] = StackEnvironment.Influx,
            ["Influx__Database"] = Influx.Name,
            ["Kafka__Consumer__session.timeout.ms"] = "6000",
            ["Kafka__Consumer__heartbeat.interval.ms"] = "1000",
        });
        await EnsureReportsRunningAsync(ct);
        await persistence.WaitHealthyAsync(persistenceHttp + "/health/ready", TimeSpan.FromSeconds(60), ct);
    }

    /// <summary>Restarts every report service that a test stopped or killed, and waits until all are ready.</summary>
    public async Task EnsureReportsRunningAsync(CancellationToken ct)
    {
        foreach (var slot in Reports.Where(s => !s.Running))
        {
            StartReport(slot);
        }
        foreach (var slot in Reports)
        {
            await slot.Process!.WaitHealthyAsync(slot.HttpUrl + "/health/ready", TimeSpan.FromSeconds(60), ct);
        }
    }

    private void StartReport(ReportSlot slot)
    {
        slot.Process = Start($"agent-report{slot.Index}", Repo.Assembly("report-service", "Monitor.ReportService"), new()
        {
            ["Service__GrpcUrl"] = slot.GrpcUrl,
            ["Service__HttpUrl"] = slot.HttpUrl,
            ["Service__InstanceId"] = $"agent-test-report-{slot.Index}-{Guid.NewGuid():N}"[..32],
        });
    }

    /// <summary>
    /// Starts an agent at a 1 s interval with its own spool, ack ledger and spool ledger. With
    /// <paramref name="useEtcd"/> it finds the report services through this fixture's etcd prefix,
    /// else it is given their fixed addresses.
    /// </summary>
    public ServiceProcess StartAgent(AgentRun run, bool useEtcd)
    {
        var env = new Dictionary<string, string>
        {
            ["Agent__HostId"] = run.HostId,
            ["Agent__Interval"] = "00:00:01",
            ["Agent__SpoolDirectory"] = run.SpoolDirectory,
            ["Agent__LedgerPath"] = run.LedgerPath,
            ["Agent__SpoolLedgerPath"] = run.SpoolLedgerPath,
            ["Agent__ReconnectInitialDelay"] = "00:00:00.200",
            ["Agent__ReconnectMaxDelay"] = "00:00:01",
            ["Agent__DrainTimeout"] = "00:00:10",
        };
        if (useEtcd)
        {
            env["Agent__Discovery__EtcdEndpoints__0"] = StackEnvironment.Etcd;
            env["Agent__Discovery__Prefix"] = DiscoveryPrefix;
        }
        else
        {
            for (int i = 0; i < Reports.Length; i++)
            {
                env[$"Agent__ReportAddresses__{i}"] = Reports[i].GrpcUrl;
            }
        }
        return Start("agent-" + run.HostId, Repo.Assembly("agent", "monitor-agent"), env);
    }

    /// <summary>
    /// Starts a prober that reports to this fixture's report services with the run's spool and ack ledger, plus
    /// <paramref name="extra"/> settings (targets, a manage address, …). The caller owns (disposes) the process.
    /// </summary>
    public ServiceProcess StartProber(string name, AgentRun run, Dictionary<string, string> extra)
    {
        var env = new Dictionary<string, string>
        {
            ["Agent__HostId"] = run.HostId,
            ["Agent__SpoolDirectory"] = run.SpoolDirectory,
            ["Agent__LedgerPath"] = run.LedgerPath,
            ["Agent__ReconnectInitialDelay"] = "00:00:00.200",
            ["Agent__ReconnectMaxDelay"] = "00:00:01",
        };
        for (int i = 0; i < Reports.Length; i++)
        {
            env[$"Agent__ReportAddresses__{i}"] = Reports[i].GrpcUrl;
        }
        foreach (var (key, value) in extra)
        {
            env[key] = value;
        }
        return ServiceProcess.Start(name, Repo.Assembly("agent/prober", "monitor-prober"), PipelineEnvironment.For(Topic, DeadLetterTopic, EtcdPrefix, env));
    }

    private ServiceProcess Start(string name, string assembly, Dictionary<string, string> extra)
    {
        var process = ServiceProcess.Start(name, assembly, PipelineEnvironment.For(Topic, DeadLetterTopic, EtcdPrefix, extra));
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

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AgentCollection : ICollectionFixture<AgentPipelineFixture>
{
    public const string Name = "agent";
}
