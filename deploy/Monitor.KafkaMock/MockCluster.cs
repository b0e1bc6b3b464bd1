using System.Net;
using System.Runtime.InteropServices;
using Confluent.Kafka;

namespace Monitor.KafkaMock;

/// <summary>Result of a topic creation in the mock cluster.</summary>
internal sealed record TopicCreateResult(string Topic, int Partitions, int ReplicationFactor, bool Created, string? Error);

/// <summary>
/// librdkafka's in-memory mock cluster, owned by an AdminClient created with <c>test.mock.num.brokers</c>.
/// The mock lives as long as that client; its brokers listen on random 127.0.0.1 ports.
/// </summary>
internal sealed class MockCluster : IDisposable
{
    private readonly IAdminClient _admin;
    private readonly IntPtr _mcluster;

    private MockCluster(IAdminClient admin, IntPtr mcluster, IReadOnlyList<BrokerMetadata> brokers, string nativeBootstrap)
    {
        _admin = admin;
        _mcluster = mcluster;
        Brokers = brokers;
        NativeBootstrap = nativeBootstrap;
    }

    /// <summary>The mock brokers as they listen (random ports), ordered by id (1..N).</summary>
    public IReadOnlyList<BrokerMetadata> Brokers { get; }

    /// <summary>The mock's own bootstrap string (random ports).</summary>
    public string NativeBootstrap { get; }

    public static MockCluster Start(int brokerCount, bool verbose)
    {
        var config = new AdminClientConfig();
        config.Set("test.mock.num.brokers", brokerCount.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (verbose)
        {
            config.Set("debug", "mock");
        }

        var admin = new AdminClientBuilder(config)
            .SetLogHandler((_, m) => Console.Error.WriteLine($"[rdkafka {m.Level}] {m.Facility}: {m.Message}"))
            .Build();
        try
        {
            NativeMethods.BindToLoadedLibrdkafka();
            var mcluster = NativeMethods.HandleMockCluster(NativeMethods.GetRdKafkaHandle(admin.Handle));
            if (mcluster == IntPtr.Zero)
            {
                throw new InvalidOperationException("rd_kafka_handle_mock_cluster returned NULL: the client has no mock cluster");
            }

            var nativeBootstrap = Marshal.PtrToStringUTF8(NativeMethods.MockClusterBootstraps(mcluster)) ?? "";
            var brokers = admin.GetMetadata(TimeSpan.FromSeconds(15)).Brokers.OrderBy(b => b.BrokerId).ToList();
            if (brokers.Count != brokerCount)
            {
                throw new InvalidOperationException($"mock cluster reports {brokers.Count} brokers, expected {brokerCount}");
            }

            return new MockCluster(admin, mcluster, brokers, nativeBootstrap);
        }
        catch
        {
            admin.Dispose();
            throw;
        }
    }

    /// <summary>The loopback address a mock broker listens on.</summary>
    public static IPAddress ListenAddress(BrokerMetadata broker) =>
        IPAddress.TryParse(broker.Host, out var address) ? address : IPAddress.Loopback;

    /// <summary>Makes broker <paramref name="brokerId"/> advertise <paramref name="host"/>:<paramref name="port"/> in Metadata.</summary>
    public void Advertise(int brokerId, string host, int port) =>
        NativeMethods.MockBrokerSetHostPort(_mcluster, brokerId, host, port);

    /// <summary>Sets the consumer-group initial rebalance delay (the mock's default is 3000 ms).</summary>
    public void SetInitialRebalanceDelay(int delayMs) =>
        NativeMethods.MockGroupInitialRebalanceDelayMs(_mcluster, delayMs);

    /// <summary>Creates a topic (thread-safe: the call is handed to the mock's own thread and awaited).</summary>
    public TopicCreateResult CreateTopic(string name, int partitions, int replicationFactor)
    {
        var err = NativeMethods.MockTopicCreate(_mcluster, name, partitions, replicationFactor);
        if (err == 0)
        {
            return new TopicCreateResult(name, partitions, replicationFactor, Created: true, Error: null);
        }

        // TOPIC_ALREADY_EXISTS -> "TopicAlreadyExists"; the partition count stays what the existing topic has.
        var code = (ErrorCode)err;
        var error = Enum.IsDefined(code) ? code.ToString() : $"librdkafka error {err}";
        return new TopicCreateResult(name, partitions, replicationFactor, Created: false, Error: error);
    }

    /// <summary>Partition count of an existing topic, or null if the topic is unknown (does not auto-create it).</summary>
    public int? PartitionCount(string topic)
    {
        var metadata = _admin.GetMetadata(TimeSpan.FromSeconds(5));
        var found = metadata.Topics.FirstOrDefault(t => t.Topic == topic && t.Error.Code == ErrorCode.NoError);
        return found?.Partitions.Count;
    }

    public void Dispose() => _admin.Dispose();
}
