using Confluent.Kafka;
using Monitor.Prober.Probes;
using Monitor.TestUtilities;
using Xunit;

namespace Monitor.IntegrationTests.Probes;

/// <summary>The Kafka consumer-group lag probe against the stack's Kafka (the mock cluster locally), with known offsets.</summary>
public sealed class KafkaLagProbeTests
{
    [Fact]
    public async Task CommittedGroup_LagPerPartitionAndTotal_NeverCommittedPartitionIsMinusOne()
    {
        // Arrange: 10 messages in partition 0, 5 in partition 1; the group committed offset 4 on partition 0 only.
        var ct = TestContext.Current.CancellationToken;
        var topic = KafkaTopics.NewName("monitor-test-probe-lag");
        var group = "monitor-test-probe-group-" + Guid.NewGuid().ToString("N")[..8];
        await KafkaTopics.CreateAsync(topic, 2, ct);
        using (var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = StackEnvironment.Kafka, Acks = Acks.All }).Build())
        {
            for (int i = 0; i < 15; i++)
            {
                await producer.ProduceAsync(new TopicPartition(topic, i < 10 ? 0 : 1), new Message<Null, string> { Value = "m" + i }, ct);
            }
        }
        using (var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = StackEnvironment.Kafka, GroupId = group, EnableAutoCommit = false }).Build())
        {
            consumer.Assign(new TopicPartition(topic, 0));
            consumer.Commit([new TopicPartitionOffset(topic, 0, 4)]);
            consumer.Close();
        }
        var json = $$"""{"bootstrapServers":"{{StackEnvironment.Kafka}}","groupId":"{{group}}","topics":["{{topic}}"]}""";

        // Act
        var result = await ProbeHarness.RunAsync("kafka", json, timeoutSeconds: 10);

        // Assert
        Assert.True(result.Success, result.Describe());
        Assert.Equal(6, result.Metric("probe_kafka_lag", "partition", "0"));
        Assert.Equal(-1, result.Metric("probe_kafka_lag", "partition", "1"));
        Assert.Equal(6, result.Metric("probe_kafka_lag_total"));
        Assert.Equal(1, result.Metric("probe_kafka_partitions_uncommitted"));
        Assert.Contains("lag unknown", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GroupThatNeverCommitted_TotalIsMinusOne()
    {
        // Arrange
        var ct = TestContext.Current.CancellationToken;
        var topic = KafkaTopics.NewName("monitor-test-probe-lag");
        await KafkaTopics.CreateAsync(topic, 2, ct);
        var json = $$"""{"bootstrapServers":"{{StackEnvironment.Kafka}}","groupId":"never-{{Guid.NewGuid():N}}","topics":["{{topic}}"]}""";

        // Act
        var result = await ProbeHarness.RunAsync("kafka", json, timeoutSeconds: 10);

        // Assert
        Assert.True(result.Success, result.Describe());
        Assert.Equal(-1, result.Metric("probe_kafka_lag_total"));
        Assert.Equal(-1, result.Metric("probe_kafka_lag", "partition", "0"));
    }

    [Fact]
    public async Task NoBroker_ReturnsWithinTimeoutPlusOneSecond()
    {
        // Arrange: nothing listens at the bootstrap address; librdkafka's calls block until their own timeouts.
        var json = $$"""{"bootstrapServers":"127.0.0.1:{{NativeProcess.FreePort()}}","groupId":"g","topics":["t"]}""";

        // Act
        var result = await ProbeHarness.RunAsync("kafka", json, timeoutSeconds: 2);

        // Assert
        Assert.False(result.Success);
        Assert.True(result.Duration <= TimeSpan.FromSeconds(3), $"the probe returned after {result.Duration}; timeout 2 s + 1 s");
        Assert.Contains(result.Failure, new ProbeFailure?[] { ProbeFailure.Timeout, ProbeFailure.Refused });
    }
}
