using System.Net.Http.Json;
using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Monitor.TestUtilities;

/// <summary>Per-test topics: through the mock launcher's control endpoint, or the admin API on a real broker.</summary>
public static class KafkaTopics
{
    public static string NewName(string prefix = "monitor-test") => $"{prefix}-{Guid.NewGuid():N}";

    public static async Task CreateAsync(string name, int partitions, CancellationToken cancellationToken = default)
    {
        if (StackEnvironment.KafkaControl is { } control)
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            using var response = await http.PostAsync($"{control}/topics?name={Uri.EscapeDataString(name)}&partitions={partitions}", null, cancellationToken);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"creating topic {name} failed: {(int)response.StatusCode} {body}");
            }
            return;
        }
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = StackEnvironment.Kafka }).Build();
        await admin.CreateTopicsAsync([new TopicSpecification { Name = name, NumPartitions = partitions, ReplicationFactor = 1 }]);
    }

    /// <summary>Reads every message currently in <paramref name="topic"/> (from the beginning) until the topic is idle for a moment.</summary>
    public static List<ConsumeResult<byte[]?, byte[]?>> ReadAll(string topic, TimeSpan idle, TimeSpan timeout)
    {
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(new ConsumerConfig
        {
            BootstrapServers = StackEnvironment.Kafka,
            GroupId = "test-reader-" + Guid.NewGuid().ToString("N"),
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = false,
        }).Build();
        consumer.Subscribe(topic);
        var results = new List<ConsumeResult<byte[]?, byte[]?>>();
        var total = System.Diagnostics.Stopwatch.StartNew();
        var sinceLast = System.Diagnostics.Stopwatch.StartNew();
        while (total.Elapsed < timeout && (results.Count == 0 || sinceLast.Elapsed < idle))
        {
            var r = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (r?.Message is not null)
            {
                results.Add(r);
                sinceLast.Restart();
            }
        }
        consumer.Close();
        return results;
    }
}
