using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;
using Google.Protobuf;
using Grpc.Core;
using Monitor.Protos.V1;
using Xunit;

namespace Monitor.ReportService.FunctionalTests;

public sealed class ReportStreamTests : IClassFixture<ReportApiFixture>
{
    private readonly ReportApiFixture _fixture;

    public ReportStreamTests(ReportApiFixture fixture)
    {
        _fixture = fixture;
        _fixture.Publisher.OnPublish = null;
    }

    private static SampleBatch Batch(string host, ulong sequence, int samples = 2)
    {
        var now = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds();
        var batch = new SampleBatch { HostId = host, Sequence = sequence };
        for (int i = 0; i < samples; i++)
        {
            batch.Samples.Add(new Sample { Metric = "cpu_rate", Value = i, TimestampUnixMs = now + i });
        }
        return batch;
    }

    [Fact]
    public async Task Report_SlowDeliveryForOneBatch_LaterBatchesAckedFirst_EveryBatchAckedOnce()
    {
        // Arrange: batch 1's delivery report is held back.
        var host = "ft-" + Guid.NewGuid().ToString("N")[..8];
        var release = new TaskCompletionSource();
        _fixture.Publisher.OnPublish = b => b.HostId == host && b.Sequence == 1 ? release.Task : Task.CompletedTask;
        var client = _fixture.CreateClient(out var channel);
        using var _ = channel;
        using var call = client.Report(cancellationToken: TestContext.Current.CancellationToken);

        // Act
        for (ulong seq = 1; seq <= 3; seq++)
        {
            await call.RequestStream.WriteAsync(Batch(host, seq), TestContext.Current.CancellationToken);
        }
        var acks = new List<ulong>();
        for (int i = 0; i < 2; i++)
        {
            Assert.True(await call.ResponseStream.MoveNext(TestContext.Current.CancellationToken));
            acks.Add(call.ResponseStream.Current.Sequence);
        }
        release.SetResult();
        Assert.True(await call.ResponseStream.MoveNext(TestContext.Current.CancellationToken));
        acks.Add(call.ResponseStream.Current.Sequence);
        await call.RequestStream.CompleteAsync();

        // Assert
        Assert.Equal([2UL, 3UL, 1UL], acks);
        Assert.False(await call.ResponseStream.MoveNext(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Report_ManyBatchesWithDeliveriesInBursts_EveryBatchAckedExactlyOnce()
    {
        // Arrange: delivery reports complete in bursts on other threads, as Kafka's do, so several handlers of the
        // stream finish at once and race to write their acks.
        var host = "ft-" + Guid.NewGuid().ToString("N")[..8];
        _fixture.Publisher.OnPublish = b => b.HostId == host ? Task.Run(() => Thread.SpinWait(1_000 * (int)(b.Sequence % 7))) : Task.CompletedTask;
        var client = _fixture.CreateClient(out var channel);
        using var _ = channel;
        using var call = client.Report(cancellationToken: TestContext.Current.CancellationToken);
        const int Batches = 400;

        // Act
        var reading = Task.Run(async () =>
        {
            var seen = new List<ulong>();
            while (await call.ResponseStream.MoveNext(TestContext.Current.CancellationToken))
            {
                seen.Add(call.ResponseStream.Current.Sequence);
            }
            return seen;
        }, TestContext.Current.CancellationToken);
        for (ulong seq = 1; seq <= Batches; seq++)
        {
            await call.RequestStream.WriteAsync(Batch(host, seq), TestContext.Current.CancellationToken);
        }
        await call.RequestStream.CompleteAsync();
        var acks = await reading;

        // Assert
        Assert.Equal(Batches, acks.Count);
        Assert.Equal(Enumerable.Range(1, Batches).Select(i => (ulong)i), acks.Order());
    }

    [Fact]
    public async Task Report_BytesThatAreNotABatch_StreamEndsWithInvalidArgument_EarlierBatchAckedAndStored()
    {
        // Arrange: a client that sends raw message bytes on the agents' method.
        var host = "ft-" + Guid.NewGuid().ToString("N")[..8];
        _fixture.CreateClient(out var channel);
        using var _ = channel;
        using var call = channel.CreateCallInvoker().AsyncDuplexStreamingCall(Grpc.RawReportServiceBase.ReportMethod, null, new CallOptions(cancellationToken: TestContext.Current.CancellationToken));
        var valid = Batch(host, 1).ToByteArray();

        // Act: a valid batch, then one cut off inside its last sample
        await call.RequestStream.WriteAsync(new Grpc.RawSampleBatch(valid), TestContext.Current.CancellationToken);
        Assert.True(await call.ResponseStream.MoveNext(TestContext.Current.CancellationToken));
        var ack = call.ResponseStream.Current;
        await call.RequestStream.WriteAsync(new Grpc.RawSampleBatch(valid[..^2]), TestContext.Current.CancellationToken);
        var ex = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(TestContext.Current.CancellationToken));

        // Assert
        Assert.Equal((1UL, 2U), (ack.Sequence, ack.AcceptedCount));
        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Contains("not a monitor.v1.SampleBatch", ex.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(2, Assert.Single(_fixture.Publisher.Published, b => b.HostId == host).Samples.Count);
    }

    [Fact]
    public async Task Report_KafkaFailsForABatch_StreamEndsWithUnavailable_BatchNotAcked()
    {
        // Arrange
        var host = "ft-" + Guid.NewGuid().ToString("N")[..8];
        _fixture.Publisher.OnPublish = b => b.HostId == host && b.Sequence == 2
            ? Task.FromException(new KafkaException(ErrorCode.Local_MsgTimedOut))
            : Task.CompletedTask;
        var client = _fixture.CreateClient(out var channel);
        using var _ = channel;
        using var call = client.Report(cancellationToken: TestContext.Current.CancellationToken);

        // Act
        await call.RequestStream.WriteAsync(Batch(host, 1), TestContext.Current.CancellationToken);
        Assert.True(await call.ResponseStream.MoveNext(TestContext.Current.CancellationToken));
        var first = call.ResponseStream.Current;
        await call.RequestStream.WriteAsync(Batch(host, 2), TestContext.Current.CancellationToken);
        var ex = await Assert.ThrowsAsync<RpcException>(async () => await call.ResponseStream.MoveNext(TestContext.Current.CancellationToken));

        // Assert
        Assert.Equal(1UL, first.Sequence);
        Assert.Equal(StatusCode.Unavailable, ex.StatusCode);
        Assert.Contains("resend", ex.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Report_KafkaSaturated_StreamEndsWithResourceExhausted()
    {
        // Arrange: deliveries never complete, so the instance-wide in-flight budget (8) runs out.
        var host = "ft-" + Guid.NewGuid().ToString("N")[..8];
        var never = new TaskCompletionSource();
        _fixture.Publisher.OnPublish = b => b.HostId.StartsWith(host, StringComparison.Ordinal) ? never.Task : Task.CompletedTask;
        var calls = new List<AsyncDuplexStreamingCall<SampleBatch, ReportAck>>();
        var client = _fixture.CreateClient(out var channel);
        using var _ = channel;
        try
        {
            // Act: 3 streams x 4 in flight = 12 > 8.
            for (int s = 0; s < 3; s++)
            {
                var call = client.Report(cancellationToken: TestContext.Current.CancellationToken);
                calls.Add(call);
                for (ulong seq = 1; seq <= 4; seq++)
                {
                    await call.RequestStream.WriteAsync(Batch($"{host}-{s}", seq), TestContext.Current.CancellationToken);
                }
            }
            var statuses = new List<StatusCode>();
            foreach (var call in calls)
            {
                try
                {
                    using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
                    timeout.CancelAfter(TimeSpan.FromSeconds(5));
                    await call.ResponseStream.MoveNext(timeout.Token);
                }
                catch (RpcException ex)
                {
                    statuses.Add(ex.StatusCode);
                }
            }

            // Assert
            Assert.Contains(StatusCode.ResourceExhausted, statuses);
        }
        finally
        {
            never.SetResult();
            foreach (var call in calls)
            {
                call.Dispose();
            }
        }
    }

    [Fact]
    public async Task Report_ServiceStopping_OpenStreamEndsWithUnavailableAfterAckingWhatItGot()
    {
        // Arrange: a host of its own, since this test stops it.
        await using var factory = new ReportApiFixture();
        var client = factory.CreateClient(out var channel);
        using var _ = channel;
        using var call = client.Report(cancellationToken: TestContext.Current.CancellationToken);
        await call.RequestStream.WriteAsync(Batch("ft-stop", 1), TestContext.Current.CancellationToken);
        Assert.True(await call.ResponseStream.MoveNext(TestContext.Current.CancellationToken));
        var ack = call.ResponseStream.Current;

        // Act
        factory.Services.GetRequiredService<Microsoft.Extensions.Hosting.IHostApplicationLifetime>().StopApplication();
        var ex = await Assert.ThrowsAsync<RpcException>(async () => await call.ResponseStream.MoveNext(TestContext.Current.CancellationToken));

        // Assert
        Assert.Equal(1UL, ack.Sequence);
        Assert.Equal(StatusCode.Unavailable, ex.StatusCode);
        Assert.Contains("shutting down", ex.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Health_KafkaUnreachable_LiveButNotReady()
    {
        // Arrange: the fixture's Kafka bootstrap address resolves nowhere.
        using var http = _fixture.CreateDefaultClient();

        // Act
        using var live = await http.GetAsync("/health/live", TestContext.Current.CancellationToken);
        using var ready = await http.GetAsync("/health/ready", TestContext.Current.CancellationToken);

        // Assert
        Assert.Equal(System.Net.HttpStatusCode.OK, live.StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, ready.StatusCode);
    }
}
