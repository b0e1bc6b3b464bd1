using System.Text;
using Confluent.Kafka;
using Grpc.Core;
using Grpc.Net.Client;
using Monitor.Protos.V1;
using Monitor.TestUtilities;
using Xunit;

namespace Monitor.IntegrationTests.Chaos;

/// <summary>
/// Failure injection against real processes and servers. Each test keeps a ledger of what the
/// report services acknowledged and asserts InfluxDB holds exactly that: nothing acknowledged is
/// ever lost. Runs serially (the project disables parallel collections).
/// </summary>
[Collection(ChaosCollection.Name)]
public sealed class ChaosTests
{
    private static readonly TimeSpan StoreTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task PersistenceKilledMidStream_Restarted_EveryAckedSampleStored()
    {
        // Arrange
        await using var pipeline = await ChaosPipeline.StartAsync(reports: 2, persistence: 1);
        await using var client = new TrafficClient("chaos-kp-" + Guid.NewGuid().ToString("N")[..8], pipeline.Reports.Select(r => r.GrpcUrl), TimeSpan.FromMilliseconds(50));
        await Poll.UntilAsync(() => client.Acked.Count >= 200, TimeSpan.FromSeconds(30), "traffic to flow", TestContext.Current.CancellationToken);

        // Act: SIGKILL persistence while traffic flows, keep sending, then start a fresh instance.
        pipeline.Persistence[0].Kill();
        await Task.Delay(TimeSpan.FromSeconds(2), TestContext.Current.CancellationToken);
        await pipeline.StartPersistenceAsync();
        await Task.Delay(TimeSpan.FromSeconds(2), TestContext.Current.CancellationToken);
        await client.StopProducingAndDrainAsync(TimeSpan.FromSeconds(30));

        // Assert
        await pipeline.AssertStoredExactlyAsync([client], StoreTimeout);
    }

    [Fact]
    public async Task InfluxDownFor20Seconds_NothingCommittedPastUnwrittenData_NoLoss()
    {
        // Arrange: a private influxd that the test can stop and start.
        await using var influx = await InfluxServerProcess.StartAsync(TestContext.Current.CancellationToken);
        await using var pipeline = await ChaosPipeline.StartAsync(reports: 2, persistence: 1, influx.Url);
        await using var client = new TrafficClient("chaos-id-" + Guid.NewGuid().ToString("N")[..8], pipeline.Reports.Select(r => r.GrpcUrl), TimeSpan.FromMilliseconds(100));
        await Poll.UntilAsync(() => client.Acked.Count >= 100, TimeSpan.FromSeconds(30), "traffic to flow", TestContext.Current.CancellationToken);

        // Act: InfluxDB goes away for 20 s while agents keep reporting.
        influx.Stop();
        await Task.Delay(TimeSpan.FromSeconds(3), TestContext.Current.CancellationToken);
        var committedEarly = pipeline.CommittedOffsets();
        await Task.Delay(TimeSpan.FromSeconds(17), TestContext.Current.CancellationToken);
        var committedLate = pipeline.CommittedOffsets();
        var ackedDuringOutage = client.Acked.Count;
        await influx.StartAgainAsync(TestContext.Current.CancellationToken);
        await client.StopProducingAndDrainAsync(TimeSpan.FromSeconds(30));

        // Assert: while InfluxDB was down the group committed nothing, even though Kafka kept receiving.
        Assert.Equal(committedEarly, committedLate);
        Assert.True(ackedDuringOutage > 100, "traffic kept flowing into Kafka during the outage");
        await pipeline.AssertStoredExactlyAsync([client], StoreTimeout);
        Assert.Contains("nothing committed; retrying", string.Join("\n", pipeline.Persistence.Select(p => p.Tail(400))), StringComparison.Ordinal);
    }

    [Fact]
    public async Task OneOfThreeReportInstancesKilled_AgentsFailOver_NoLoss()
    {
        // Arrange: three clients, each starting on a different instance.
        await using var pipeline = await ChaosPipeline.StartAsync(reports: 3, persistence: 1);
        var urls = pipeline.Reports.Select(r => r.GrpcUrl).ToArray();
        var clients = Enumerable.Range(0, 3)
            .Select(i => new TrafficClient($"chaos-kr{i}-" + Guid.NewGuid().ToString("N")[..6], urls.Skip(i).Concat(urls.Take(i)), TimeSpan.FromMilliseconds(50)))
            .ToList();
        try
        {
            await Poll.UntilAsync(() => clients.All(c => c.Acked.Count >= 50), TimeSpan.FromSeconds(30), "traffic to flow", TestContext.Current.CancellationToken);

            // Act
            pipeline.Reports[0].Process.Kill();
            await Task.Delay(TimeSpan.FromSeconds(3), TestContext.Current.CancellationToken);
            foreach (var c in clients)
            {
                await c.StopProducingAndDrainAsync(TimeSpan.FromSeconds(30));
            }

            // Assert
            Assert.True(clients[0].Failovers >= 1, "the client on the killed instance moved to another one");
            await pipeline.AssertStoredExactlyAsync(clients, StoreTimeout);
        }
        finally
        {
            foreach (var c in clients)
            {
                await c.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task PoisonMessageInTopic_DeadLettered_PipelineKeepsFlowing()
    {
        // Arrange
        await using var pipeline = await ChaosPipeline.StartAsync(reports: 1, persistence: 1);
        await using var client = new TrafficClient("chaos-poison-" + Guid.NewGuid().ToString("N")[..6], [pipeline.Reports[0].GrpcUrl], TimeSpan.FromMilliseconds(100));
        await Poll.UntilAsync(() => client.Acked.Count >= 50, TimeSpan.FromSeconds(30), "traffic to flow", TestContext.Current.CancellationToken);

        // Act: bytes that are no SampleBatch land in the samples topic.
        var poison = Encoding.UTF8.GetBytes("\u00ff\u00fe this is not protobuf \u0001\u0002");
        using (var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = StackEnvironment.Kafka }).Build())
        {
            await producer.ProduceAsync(pipeline.Topic, new Message<byte[], byte[]> { Key = Encoding.UTF8.GetBytes("poison"), Value = poison }, TestContext.Current.CancellationToken);
        }
        var ackedAtPoison = client.Acked.Count;
        await Poll.UntilAsync(() => client.Acked.Count >= ackedAtPoison + 50, TimeSpan.FromSeconds(30), "traffic after the poison message", TestContext.Current.CancellationToken);
        await client.StopProducingAndDrainAsync(TimeSpan.FromSeconds(30));

        // Assert: the poison is in the DLQ with a reason, and everything after it was stored.
        await pipeline.AssertStoredExactlyAsync([client], StoreTimeout);
        var dead = KafkaTopics.ReadAll(pipeline.DeadLetterTopic, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(20));
        var letter = Assert.Single(dead);
        Assert.Equal(poison, letter.Message.Value);
        var reason = Encoding.UTF8.GetString(letter.Message.Headers.GetLastBytes("reason"));
        Assert.StartsWith("undecodable", reason, StringComparison.Ordinal);
        Assert.Contains(pipeline.Topic, Encoding.UTF8.GetString(letter.Message.Headers.GetLastBytes("source")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task MalformedBatchesFromClient_PreciseRejections_StreamStaysOpen()
    {
        // Arrange
        await using var pipeline = await ChaosPipeline.StartAsync(reports: 1, persistence: 0);
        using var channel = GrpcChannel.ForAddress(pipeline.Reports[0].GrpcUrl);
        using var call = new ReportService.ReportServiceClient(channel).Report(cancellationToken: TestContext.Current.CancellationToken);
        var now = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds();
        var noHost = new SampleBatch { Sequence = 1 };
        noHost.Samples.Add(new Sample { Metric = "cpu_rate", Value = 1, TimestampUnixMs = now });
        var mixed = new SampleBatch { HostId = "chaos-malformed", Sequence = 2 };
        mixed.Samples.Add(new Sample { Metric = "Bad-Name", Value = 1, TimestampUnixMs = now });
        mixed.Samples.Add(new Sample { Metric = "cpu_rate", Value = double.NaN, TimestampUnixMs = now });
        mixed.Samples.Add(new Sample { Metric = "cpu_rate", Value = 3, TimestampUnixMs = now });
        var valid = new SampleBatch { HostId = "chaos-malformed", Sequence = 3 };
        valid.Samples.Add(new Sample { Metric = "mem_rate", Value = 4, TimestampUnixMs = now });

        // Act: three batches on one stream, each answered before the next is sent.
        var acks = new List<ReportAck>();
        foreach (var batch in new[] { noHost, mixed, valid })
        {
            await call.RequestStream.WriteAsync(batch, TestContext.Current.CancellationToken);
            Assert.True(await call.ResponseStream.MoveNext(TestContext.Current.CancellationToken), "the stream stayed open");
            acks.Add(call.ResponseStream.Current);
        }
        await call.RequestStream.CompleteAsync();

        // Assert
        var whole = Assert.Single(acks[0].Rejections);
        Assert.Equal((1UL, -1, "host_id_missing"), (acks[0].Sequence, whole.Index, whole.Reason));
        Assert.Contains("host_id", whole.Detail, StringComparison.Ordinal);
        Assert.Equal(2UL, acks[1].Sequence);
        Assert.Equal(1U, acks[1].AcceptedCount);
        Assert.Equal([(0, "invalid_metric_name"), (1, "non_finite_value")], acks[1].Rejections.Select(r => (r.Index, r.Reason)));
        Assert.Contains("samples[0].metric", acks[1].Rejections[0].Detail, StringComparison.Ordinal);
        Assert.Equal((3UL, 1U, 0), (acks[2].Sequence, acks[2].AcceptedCount, acks[2].Rejections.Count));
        Assert.False(await call.ResponseStream.MoveNext(TestContext.Current.CancellationToken));
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);

        // ... and every rejection is counted by reason on /metrics.
        using var http = new HttpClient();
        var metrics = await http.GetStringAsync(pipeline.Reports[0].HttpUrl + "/metrics", TestContext.Current.CancellationToken);
        Assert.Matches("monitor_report_samples_rejected_total\\{[^}]*reason=\"invalid_metric_name\"[^}]*\\} 1", metrics);
        Assert.Matches("monitor_report_samples_rejected_total\\{[^}]*reason=\"host_id_missing\"[^}]*\\} 1", metrics);
        Assert.Matches("monitor_report_samples_accepted_total\\{[^}]*\\} 2", metrics);
    }

    [Fact]
    public async Task CommittedOffsetBelowLowWatermark_PersistenceReportsDataLossLoudly()
    {
        // Arrange: the group's committed offset is 0, then the broker's retention drops the head of
        // the partition (the mock keeps ~5 MiB per partition; a real broker's retention.bytes does the same).
        var padding = new string('x', 64 * 1024);
        await using var pipeline = await ChaosPipeline.StartAsync(reports: 0, persistence: 0, partitions: 1);
        var tp = new TopicPartition(pipeline.Topic, 0);
        using (var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = StackEnvironment.Kafka, LingerMs = 5 }).Build())
        {
            var now = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds();
            for (int i = 0; i < 160; i++)
            {
                var batch = new SampleBatch { HostId = "chaos-wm", Sequence = (ulong)i + 1, AgentVersion = padding };
                batch.Samples.Add(new Sample { Metric = "chaos_a", Value = i, TimestampUnixMs = now + i });
                producer.Produce(pipeline.Topic, new Message<string, byte[]> { Key = "chaos-wm", Value = Google.Protobuf.MessageExtensions.ToByteArray(batch) });
            }
            producer.Flush(TimeSpan.FromSeconds(30));
        }
        using (var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig { BootstrapServers = StackEnvironment.Kafka, GroupId = pipeline.GroupId }).Build())
        {
            consumer.Commit([new TopicPartitionOffset(tp, 0)]);
            var low = consumer.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(10)).Low.Value;
            Assert.True(low > 0, $"the broker dropped the head of the partition (low watermark {low})");
        }

        // Act
        await pipeline.StartPersistenceAsync();

        // Assert
        await Poll.UntilAsync(() => pipeline.Persistence[0].Tail(200).Contains("DATA LOSS", StringComparison.Ordinal),
            TimeSpan.FromSeconds(30), "the DATA LOSS log line", TestContext.Current.CancellationToken);
        using var http = new HttpClient();
        await Poll.UntilAsync(async () =>
        {
            var metrics = await http.GetStringAsync(pipeline.PersistenceHttpUrls[0] + "/metrics", TestContext.Current.CancellationToken);
            return System.Text.RegularExpressions.Regex.IsMatch(metrics, "monitor_persistence_lost_below_watermark_total\\{[^}]*\\} [1-9]");
        }, TimeSpan.FromSeconds(15), "the lost-below-watermark counter", TestContext.Current.CancellationToken);
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ChaosCollection
{
    public const string Name = "chaos";
}
