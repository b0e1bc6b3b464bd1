using Confluent.Kafka;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Monitor.Protos.Legacy;
using Monitor.Protos.V1;
using Monitor.ReportService.Extensions;
using Monitor.ReportService.Grpc;
using Monitor.ReportService.Kafka;
using Monitor.ReportService.Options;
using Monitor.ReportService.Validation;
using Xunit;
using MsOptions = Microsoft.Extensions.Options.Options;

namespace Monitor.ReportService.UnitTests;

public sealed class BatchIngestorTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000);

    private sealed class FakePublisher : ISampleBatchPublisher
    {
        public List<SampleBatch> Published { get; } = [];
        public List<byte[]> PublishedBytes { get; } = [];
        public TaskCompletionSource? Gate { get; set; }
        public Exception? Failure { get; set; }

        public async Task PublishAsync(string hostId, byte[] batch, long receivedAtUnixMs, CancellationToken cancellationToken)
        {
            if (Gate is not null)
            {
                await Gate.Task.WaitAsync(cancellationToken);
            }
            if (Failure is not null)
            {
                throw Failure;
            }
            PublishedBytes.Add(batch);
            var decoded = SampleBatch.Parser.ParseFrom(batch);
            Assert.Equal(decoded.HostId, hostId);
            Published.Add(decoded);
        }
    }

    private static (BatchIngestor Ingestor, FakePublisher Publisher, ReportMetrics Metrics, TestMeterFactory Meters) Create(Action<ReportOptions>? configure = null)
    {
        var options = new ReportOptions();
        configure?.Invoke(options);
        var wrapped = MsOptions.Create(options);
        var meters = new TestMeterFactory();
        var metrics = new ReportMetrics(meters);
        var publisher = new FakePublisher();
        var ingestor = new BatchIngestor(new BatchValidator(wrapped), publisher, metrics, wrapped, new FakeTimeProvider(Now), NullLogger<BatchIngestor>.Instance);
        return (ingestor, publisher, metrics, meters);
    }

    private static SampleBatch Batch(params (string Metric, double Value)[] samples)
    {
        var batch = new SampleBatch { HostId = "h1", Sequence = 42 };
        foreach (var (m, v) in samples)
        {
            batch.Samples.Add(new Sample { Metric = m, Value = v, TimestampUnixMs = Now.ToUnixTimeMilliseconds() });
        }
        return batch;
    }

    [Fact]
    public async Task IngestAsync_MixedBatch_PublishesValidPartAndAcksWithRejections()
    {
        // Arrange
        var (ingestor, publisher, _, meters) = Create();
        using var _ = meters;
        using var rejected = new MetricCollector<long>(meters.Meters[0], "monitor.report.samples.rejected");

        // Act
        var ack = await ingestor.IngestAsync(Batch(("cpu_rate", 1), ("BAD", 2), ("mem_rate", double.NaN)), TestContext.Current.CancellationToken);

        // Assert
        Assert.Equal(42UL, ack.Sequence);
        Assert.Equal(1U, ack.AcceptedCount);
        Assert.Equal(["invalid_metric_name", "non_finite_value"], ack.Rejections.Select(r => r.Reason));
        var published = Assert.Single(publisher.Published);
        Assert.Equal("cpu_rate", Assert.Single(published.Samples).Metric);
        Assert.Equal(2, rejected.GetMeasurementSnapshot().Sum(m => m.Value));
    }

    [Fact]
    public async Task Prepare_AllValidBytes_PublishesTheBytesAsReceived()
    {
        // Arrange
        var (ingestor, publisher, _, meters) = Create();
        using var _ = meters;
        using var received = new MetricCollector<long>(meters.Meters[0], "monitor.report.samples.received");
        var raw = new RawSampleBatch(Batch(("cpu_rate", 1), ("mem_rate", 2)).ToByteArray());

        // Act
        var prepared = ingestor.Prepare(raw);
        var ack = await ingestor.CompleteAsync(prepared, TestContext.Current.CancellationToken);

        // Assert: not decoded and encoded again, the same array goes to Kafka
        Assert.Same(raw.Bytes, Assert.Single(publisher.PublishedBytes));
        Assert.Equal((42UL, 2U), (ack.Sequence, ack.AcceptedCount));
        Assert.Empty(ack.Rejections);
        Assert.Equal(2, received.GetMeasurementSnapshot().Sum(m => m.Value));
    }

    [Fact]
    public async Task Prepare_BytesWithARejectedSample_PublishesOnlyTheValidSamples()
    {
        // Arrange
        var (ingestor, publisher, _, meters) = Create();
        using var _ = meters;
        var raw = new RawSampleBatch(Batch(("cpu_rate", 1), ("BAD", 2), ("mem_rate", 3)).ToByteArray());

        // Act
        var ack = await ingestor.CompleteAsync(ingestor.Prepare(raw), TestContext.Current.CancellationToken);

        // Assert
        Assert.Equal(2U, ack.AcceptedCount);
        Assert.Equal(1, Assert.Single(ack.Rejections).Index);
        Assert.Equal(["cpu_rate", "mem_rate"], Assert.Single(publisher.Published).Samples.Select(s => s.Metric));
        Assert.NotSame(raw.Bytes, publisher.PublishedBytes[0]);
    }

    [Fact]
    public void Prepare_BytesThatAreNotABatch_InvalidArgumentCountedNothingPublished()
    {
        // Arrange
        var (ingestor, publisher, _, meters) = Create();
        using var _ = meters;
        using var rejected = new MetricCollector<long>(meters.Meters[0], "monitor.report.samples.rejected");
        var valid = Batch(("cpu_rate", 1)).ToByteArray();

        // Act: a valid batch cut off inside its sample
        var ex = Assert.Throws<RpcException>(() => ingestor.Prepare(new RawSampleBatch(valid[..^3])));

        // Assert
        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.StartsWith($"batch: {valid.Length - 3} bytes that are not a monitor.v1.SampleBatch", ex.Status.Detail, StringComparison.Ordinal);
        Assert.Equal("malformed_batch", Assert.Single(rejected.GetMeasurementSnapshot()).Tags["reason"]);
        Assert.Empty(publisher.Published);
    }

    [Fact]
    public async Task IngestAsync_AckWaitsForDeliveryReport()
    {
        // Arrange
        var (ingestor, publisher, _, meters) = Create();
        using var _ = meters;
        publisher.Gate = new TaskCompletionSource();

        // Act
        var ackTask = ingestor.IngestAsync(Batch(("cpu_rate", 1)), TestContext.Current.CancellationToken);
        await Task.Delay(50, TestContext.Current.CancellationToken);
        var completedBeforeDelivery = ackTask.IsCompleted;
        publisher.Gate.SetResult();
        var ack = await ackTask;

        // Assert
        Assert.False(completedBeforeDelivery);
        Assert.Equal(1U, ack.AcceptedCount);
    }

    [Fact]
    public async Task IngestAsync_KafkaFails_ThrowsUnavailable()
    {
        // Arrange
        var (ingestor, publisher, _, meters) = Create();
        using var _ = meters;
        publisher.Failure = new KafkaException(ErrorCode.Local_MsgTimedOut);

        // Act
        var ex = await Assert.ThrowsAsync<RpcException>(() => ingestor.IngestAsync(Batch(("cpu_rate", 1)), TestContext.Current.CancellationToken));

        // Assert
        Assert.Equal(StatusCode.Unavailable, ex.StatusCode);
        Assert.Contains("not acked", ex.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task IngestAsync_InFlightBudgetExhausted_ThrowsResourceExhausted()
    {
        // Arrange
        var (ingestor, publisher, _, meters) = Create(o => { o.MaxInFlightBatches = 1; o.SaturationTimeout = TimeSpan.Zero; });
        using var _ = meters;
        publisher.Gate = new TaskCompletionSource();
        var first = ingestor.IngestAsync(Batch(("cpu_rate", 1)), TestContext.Current.CancellationToken);

        // Act
        var ex = await Assert.ThrowsAsync<RpcException>(() => ingestor.IngestAsync(Batch(("cpu_rate", 2)), TestContext.Current.CancellationToken));
        publisher.Gate.SetResult();
        await first;

        // Assert
        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
    }

    [Fact]
    public async Task IngestAsync_AllRejected_DoesNotPublish()
    {
        // Arrange
        var (ingestor, publisher, _, meters) = Create();
        using var _ = meters;

        // Act
        var ack = await ingestor.IngestAsync(Batch(("BAD", 1)), TestContext.Current.CancellationToken);

        // Assert
        Assert.Empty(publisher.Published);
        Assert.Equal(0U, ack.AcceptedCount);
    }

    [Fact]
    public async Task LegacyReport_ValidRequest_Returns200AndPublishesCpuAndMemRate()
    {
        // Arrange
        var (ingestor, publisher, _, meters) = Create();
        using var _ = meters;
        var service = new LegacyReportGrpcService(ingestor);

        // Act
        var response = await service.Report(new reportReq { HostID = "old-host", CpuRate = 12.5f, MemRate = 50f, TimeStamp = Now.ToUnixTimeSeconds() }, new TestServerCallContext());

        // Assert
        Assert.Equal(200, response.Code);
        var batch = Assert.Single(publisher.Published);
        Assert.Equal("old-host", batch.HostId);
        Assert.Equal([("cpu_rate", 12.5, Now.ToUnixTimeSeconds() * 1000), ("mem_rate", 50.0, Now.ToUnixTimeSeconds() * 1000)],
            batch.Samples.Select(s => (s.Metric, s.Value, s.TimestampUnixMs)));
    }

    [Fact]
    public async Task LegacyReport_MissingHostId_Returns400WithReason()
    {
        // Arrange
        var (ingestor, publisher, _, meters) = Create();
        using var _ = meters;
        var service = new LegacyReportGrpcService(ingestor);

        // Act
        var response = await service.Report(new reportReq { CpuRate = 1, MemRate = 1, TimeStamp = Now.ToUnixTimeSeconds() }, new TestServerCallContext());

        // Assert
        Assert.Equal(400, response.Code);
        Assert.Contains("host_id_missing", response.Value, StringComparison.Ordinal);
        Assert.Empty(publisher.Published);
    }

    [Fact]
    public async Task LegacyReport_KafkaDown_Returns503()
    {
        // Arrange
        var (ingestor, publisher, _, meters) = Create();
        using var _ = meters;
        publisher.Failure = new KafkaException(ErrorCode.Local_AllBrokersDown);
        var service = new LegacyReportGrpcService(ingestor);

        // Act
        var response = await service.Report(new reportReq { HostID = "h", CpuRate = 1, MemRate = 1, TimeStamp = Now.ToUnixTimeSeconds() }, new TestServerCallContext());

        // Assert
        Assert.Equal(503, response.Code);
    }
}
