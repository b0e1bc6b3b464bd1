using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using Confluent.Kafka;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Monitor.Protos.V1;
using Monitor.ReportService.Extensions;
using Monitor.ReportService.Kafka;
using Monitor.ReportService.Options;
using Monitor.ReportService.Validation;

namespace Monitor.ReportService.Grpc;

/// <summary>
/// The one ingest path of both the streaming and the legacy RPC: validate, publish the valid
/// part to Kafka under a bounded in-flight budget, and build the ack only after the delivery report.
/// </summary>
internal sealed partial class BatchIngestor(
    BatchValidator validator,
    ISampleBatchPublisher publisher,
    ReportMetrics metrics,
    IOptions<ReportOptions> options,
    TimeProvider timeProvider,
    ILogger<BatchIngestor> logger) : IDisposable
{
    private readonly SemaphoreSlim _inFlight = new(options.Value.MaxInFlightBatches, options.Value.MaxInFlightBatches);
    private readonly TimeSpan _saturationTimeout = options.Value.SaturationTimeout;

    public async Task<ReportAck> IngestAsync(SampleBatch batch, CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        metrics.Received(batch.Samples.Count);
        var result = validator.Validate(batch, now);
        metrics.ClockSkew(batch.HostId, result.ClockSkewMs, result.ClockSkewed);
        foreach (var rejection in result.Rejections)
        {
            metrics.Rejected(rejection.Reason, rejection.Index < 0 ? Math.Max(1, batch.Samples.Count) : 1);
        }
        if (result.Rejections.Count > 0)
        {
            Log.SamplesRejected(logger, batch.HostId, batch.Sequence, result.Rejections.Count, result.Rejections[0].Detail);
        }
        if (result.ClockSkewed)
        {
            Log.ClockSkewed(logger, batch.HostId, result.ClockSkewMs);
        }

        if (result.AcceptedCount > 0)
        {
            await PublishAsync(result.Accepted!, now, cancellationToken).ConfigureAwait(false);
            metrics.Accepted(result.AcceptedCount);
        }

        var ack = new ReportAck
        {
            Sequence = batch.Sequence,
            AcceptedCount = (uint)result.AcceptedCount,
            ClockSkewMs = result.ClockSkewMs,
            ClockSkewed = result.ClockSkewed,
        };
        ack.Rejections.AddRange(result.Rejections);
        return ack;
    }

    private async Task PublishAsync(SampleBatch batch, long receivedAt, CancellationToken cancellationToken)
    {
        if (!await _inFlight.WaitAsync(_saturationTimeout, cancellationToken).ConfigureAwait(false))
        {
            metrics.Saturated();
            ThrowSaturated();
        }
        metrics.InFlight(1);
        var started = Stopwatch.GetTimestamp();
        try
        {
            await publisher.PublishAsync(batch, receivedAt, cancellationToken).ConfigureAwait(false);
            metrics.ProduceDuration(Stopwatch.GetElapsedTime(started));
        }
        catch (KafkaException ex)
        {
            Log.PublishFailed(logger, batch.HostId, batch.Sequence, ex.Error.Code, ex);
            ThrowUnavailable(ex.Error.Code);
        }
        finally
        {
            metrics.InFlight(-1);
            _inFlight.Release();
        }
    }

    [DoesNotReturn]
    private static void ThrowSaturated() =>
        throw new RpcException(new Status(StatusCode.ResourceExhausted, "report service saturated: too many batches waiting for Kafka; retry with backoff"));

    [DoesNotReturn]
    private static void ThrowUnavailable(ErrorCode code) =>
        throw new RpcException(new Status(StatusCode.Unavailable, $"Kafka did not confirm the batch ({code}); it was not acked, resend it"));

    public void Dispose() => _inFlight.Dispose();

    private static partial class Log
    {
        [LoggerMessage(EventId = 2001, EventName = "SamplesRejected", Level = LogLevel.Warning,
            Message = "Host {HostId} batch {Sequence}: {Count} rejection(s), first: {FirstDetail}")]
        public static partial void SamplesRejected(ILogger logger, string hostId, ulong sequence, int count, string firstDetail);

        [LoggerMessage(EventId = 2002, EventName = "ClockSkewed", Level = LogLevel.Warning,
            Message = "Host {HostId} clock is skewed by {SkewMs} ms")]
        public static partial void ClockSkewed(ILogger logger, string hostId, long skewMs);

        [LoggerMessage(EventId = 2003, EventName = "PublishFailed", Level = LogLevel.Error,
            Message = "Kafka did not confirm batch {Sequence} of host {HostId} ({Code}); answering Unavailable")]
        public static partial void PublishFailed(ILogger logger, string hostId, ulong sequence, ErrorCode code, Exception exception);
    }
}
