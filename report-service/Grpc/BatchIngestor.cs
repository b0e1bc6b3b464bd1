using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using Confluent.Kafka;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Monitor.Protos.V1;
using Monitor.ReportService.Extensions;
using Monitor.ReportService.Kafka;
using Monitor.ReportService.Options;
using Monitor.ReportService.Validation;

namespace Monitor.ReportService.Grpc;

/// <summary>A validated batch on its way to Kafka and the agent's ack.</summary>
/// <param name="HostId">The batch's host id (the Kafka key).</param>
/// <param name="Sequence">The agent's sequence number.</param>
/// <param name="Value">The Kafka message value, a <c>SampleBatch</c> of the accepted samples; null when none was accepted.</param>
/// <param name="AcceptedCount">Accepted samples.</param>
/// <param name="Rejections">Rejected samples with reasons.</param>
/// <param name="ClockSkewMs">Agent clock minus ours, milliseconds.</param>
/// <param name="ClockSkewed">True when the skew is beyond the warning threshold.</param>
/// <param name="ReceivedAtUnixMs">When the report service received it (the <c>received-at-ms</c> header).</param>
internal sealed record PreparedBatch(string HostId, ulong Sequence, byte[]? Value, int AcceptedCount, IReadOnlyList<SampleRejection> Rejections, long ClockSkewMs, bool ClockSkewed, long ReceivedAtUnixMs);

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

    /// <summary>The legacy RPC's path: a batch built in memory, validated, published, acked.</summary>
    public Task<ReportAck> IngestAsync(SampleBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        return CompleteAsync(Prepare(batch, timeProvider.GetUtcNow().ToUnixTimeMilliseconds(), original: null), cancellationToken);
    }

    /// <summary>
    /// Validates a batch as it arrived. When every sample is valid, its bytes are what goes to Kafka; otherwise it is
    /// decoded, validated sample by sample, and the accepted part is encoded again.
    /// </summary>
    /// <exception cref="RpcException">InvalidArgument: the bytes are not a <c>monitor.v1.SampleBatch</c>.</exception>
    public PreparedBatch Prepare(RawSampleBatch raw)
    {
        ArgumentNullException.ThrowIfNull(raw);
        var now = timeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        if (validator.TryAcceptWire(raw.Bytes, now, out var wire))
        {
            CountReceived(wire.HostId, wire.SampleCount, wire.ClockSkewMs, wire.ClockSkewed);
            return new PreparedBatch(wire.HostId, wire.Sequence, wire.SampleCount > 0 ? raw.Bytes : null, wire.SampleCount, [], wire.ClockSkewMs, wire.ClockSkewed, now);
        }
        SampleBatch batch;
        try
        {
            batch = SampleBatch.Parser.ParseFrom(raw.Bytes);
        }
        catch (InvalidProtocolBufferException ex)
        {
            metrics.Rejected(RejectionReasons.MalformedBatch);
            Log.MalformedBatch(logger, raw.Bytes.Length, ex.Message);
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"batch: {raw.Bytes.Length} bytes that are not a monitor.v1.SampleBatch ({ex.Message})"));
        }
        return Prepare(batch, now, raw.Bytes);
    }

    // original: the batch's bytes as they arrived, forwarded when nothing was rejected.
    private PreparedBatch Prepare(SampleBatch batch, long now, byte[]? original)
    {
        var result = validator.Validate(batch, now);
        foreach (var rejection in result.Rejections)
        {
            metrics.Rejected(rejection.Reason, rejection.Index < 0 ? Math.Max(1, batch.Samples.Count) : 1);
        }
        if (result.Rejections.Count > 0)
        {
            Log.SamplesRejected(logger, batch.HostId, batch.Sequence, result.Rejections.Count, result.Rejections[0].Detail);
        }
        CountReceived(batch.HostId, batch.Samples.Count, result.ClockSkewMs, result.ClockSkewed);
        var value = result.AcceptedCount == 0 ? null : result.Rejections.Count == 0 && original is not null ? original : result.Accepted!.ToByteArray();
        return new PreparedBatch(batch.HostId, batch.Sequence, value, result.AcceptedCount, result.Rejections, result.ClockSkewMs, result.ClockSkewed, now);
    }

    private void CountReceived(string hostId, int samples, long clockSkewMs, bool clockSkewed)
    {
        metrics.Received(samples);
        metrics.ClockSkew(hostId, clockSkewMs, clockSkewed);
        if (clockSkewed)
        {
            Log.ClockSkewed(logger, hostId, clockSkewMs);
        }
    }

    /// <summary>Publishes the accepted part (if any) and builds the ack once Kafka confirmed it.</summary>
    public async Task<ReportAck> CompleteAsync(PreparedBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Value is not null)
        {
            await PublishAsync(batch, cancellationToken).ConfigureAwait(false);
            metrics.Accepted(batch.AcceptedCount);
        }

        var ack = new ReportAck
        {
            Sequence = batch.Sequence,
            AcceptedCount = (uint)batch.AcceptedCount,
            ClockSkewMs = batch.ClockSkewMs,
            ClockSkewed = batch.ClockSkewed,
        };
        ack.Rejections.AddRange(batch.Rejections);
        return ack;
    }

    private async Task PublishAsync(PreparedBatch batch, CancellationToken cancellationToken)
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
            await publisher.PublishAsync(batch.HostId, batch.Value!, batch.ReceivedAtUnixMs, cancellationToken).ConfigureAwait(false);
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

        [LoggerMessage(EventId = 2004, EventName = "MalformedBatch", Level = LogLevel.Warning,
            Message = "A batch of {Length} bytes is not a monitor.v1.SampleBatch ({Problem}); ending the stream with InvalidArgument")]
        public static partial void MalformedBatch(ILogger logger, int length, string problem);

        [LoggerMessage(EventId = 2003, EventName = "PublishFailed", Level = LogLevel.Error,
            Message = "Kafka did not confirm batch {Sequence} of host {HostId} ({Code}); answering Unavailable")]
        public static partial void PublishFailed(ILogger logger, string hostId, ulong sequence, ErrorCode code, Exception exception);
    }
}
