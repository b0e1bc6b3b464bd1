using Confluent.Kafka;

namespace Monitor.ServiceDefaults.Kafka;

/// <summary>The Kafka conventions of ARCHITECTURE.md in one place: header names and client defaults.</summary>
public static class KafkaConventions
{
    /// <summary>Header: report-service receive time, unix milliseconds as decimal ASCII.</summary>
    public const string ReceivedAtHeader = "received-at-ms";

    /// <summary>Header: instance id of the report service that produced the message.</summary>
    public const string ReportInstanceHeader = "report-instance";

    /// <summary>Header on dead letters: why the message was dead-lettered.</summary>
    public const string ReasonHeader = "reason";

    /// <summary>Header on dead letters: topic/partition@offset the message came from.</summary>
    public const string SourceHeader = "source";

    /// <summary>
    /// Producer defaults: idempotent, acks=all (a delivery report means the broker has it),
    /// small linger so concurrent batches share requests; <c>Kafka:Producer:*</c> overrides.
    /// </summary>
    public static ProducerConfig CreateProducerConfig(KafkaOptions options, string clientId)
    {
        ArgumentNullException.ThrowIfNull(options);
        var config = new ProducerConfig
        {
            BootstrapServers = options.BootstrapServers,
            ClientId = clientId,
            EnableIdempotence = true,
            Acks = Acks.All,
            LingerMs = 20,
            CompressionType = CompressionType.Lz4,
            MessageTimeoutMs = 30_000,
        };
        foreach (var (key, value) in options.Producer)
        {
            config.Set(key, value);
        }
        return config;
    }

    /// <summary>
    /// Consumer defaults: auto-commit off (offsets are committed explicitly after the work is
    /// durable), Range assignment (CooperativeSticky is broken on librdkafka's mock cluster),
    /// start from the earliest offset for a new group; <c>Kafka:Consumer:*</c> overrides.
    /// </summary>
    public static ConsumerConfig CreateConsumerConfig(KafkaOptions options, string groupId, string clientId)
    {
        ArgumentNullException.ThrowIfNull(options);
        var config = new ConsumerConfig
        {
            BootstrapServers = options.BootstrapServers,
            GroupId = groupId,
            ClientId = clientId,
            EnableAutoCommit = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            PartitionAssignmentStrategy = PartitionAssignmentStrategy.Range,
            EnablePartitionEof = false,
            // Bounds the delay a quiet partition adds to end-to-end latency (librdkafka's default is 500 ms).
            FetchWaitMaxMs = 100,
        };
        foreach (var (key, value) in options.Consumer)
        {
            config.Set(key, value);
        }
        return config;
    }
}
