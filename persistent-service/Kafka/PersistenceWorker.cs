using System.Diagnostics;
using Confluent.Kafka;
using Google.Protobuf;
using Microsoft.Extensions.Options;
using Monitor.Influx;
using Polly;
using Monitor.PersistentService.Extensions;
using Monitor.PersistentService.Influx;
using Monitor.PersistentService.Options;
using Monitor.Protos.V1;
using Monitor.ServiceDefaults.Hosting;
using Monitor.ServiceDefaults.Kafka;

namespace Monitor.PersistentService.Kafka;

/// <summary>
/// Consumes <c>monitor.samples</c> in group <c>monitor-persistent</c> and writes InfluxDB in large
/// batches. Offsets are committed only after InfluxDB answered 2xx for every point before them;
/// while InfluxDB is down the worker retries with backoff and consumes nothing further.
/// Undecodable messages and points InfluxDB rejects as malformed are dead-lettered and committed past.
/// </summary>
internal sealed partial class PersistenceWorker(
    IOptions<KafkaOptions> kafkaOptions,
    IOptions<PersistenceOptions> persistenceOptions,
    IOptions<ServiceOptions> serviceOptions,
    InfluxWriter influx,
    [FromKeyedServices(ResiliencePipelines.InfluxWrite)] ResiliencePipeline writePipeline,
    DeadLetterPublisher deadLetters,
    PersistenceMetrics metrics,
    TimeProvider timeProvider,
    ILogger<PersistenceWorker> logger) : BackgroundService
{
    private readonly KafkaOptions _kafka = kafkaOptions.Value;
    private readonly PersistenceOptions _options = persistenceOptions.Value;
    // The batch being filled from Kafka...
    private List<Pending> _pending = [];
    private LineProtocolBuilder _lines = new();
    // ... and up to Persistence:MaxWritesInFlight batches being written to InfluxDB meanwhile, oldest first.
    // A batch's offsets are committed when its write and every older one completed, so commits stay in order
    // even when a younger write finishes first.
    private readonly InFlightWrites<(LineProtocolBuilder Lines, List<Pending> Pending)> _inFlight = new();
    private readonly Stack<(LineProtocolBuilder Lines, List<Pending> Pending)> _spare = new();
    private readonly BatchLineEncoder _encoder = new();
    private long _firstPendingTimestamp;
    // Writes outlive the stopping token by Persistence:ShutdownFlushTimeout so a graceful stop can finish them.
    private readonly CancellationTokenSource _writeCts = new();

    /// <summary>A consumed message not yet committed; <see cref="Batch"/> is null once it was dead-lettered.</summary>
    private readonly record struct Pending(TopicPartitionOffset Offset, SampleBatch? Batch);

    private int InFlightMessages => _inFlight.Items.Sum(w => w.Pending.Count);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var stopping = stoppingToken.Register(() => _writeCts.CancelAfter(_options.ShutdownFlushTimeout));
        var config = KafkaConventions.CreateConsumerConfig(_kafka, _options.GroupId, $"persistent-{serviceOptions.Value.EffectiveInstanceId}");
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(config)
            .SetErrorHandler((_, e) => Log.KafkaError(logger, e.Code, e.Reason, e.IsFatal))
            .SetLogHandler((_, m) => KafkaLog.Forward(logger, m))
            .SetPartitionsAssignedHandler(OnAssigned)
            .SetPartitionsRevokedHandler(OnRevoked)
            .SetPartitionsLostHandler(OnLost)
            .Build();
        consumer.Subscribe(_kafka.SamplesTopic);
        Log.Started(logger, _kafka.SamplesTopic, _options.GroupId, _kafka.BootstrapServers);

        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                ConsumeResult<byte[]?, byte[]?>? result;
                try
                {
                    result = consumer.Consume(NextConsumeTimeout());
                }
                catch (ConsumeException ex) when (!ex.Error.IsFatal)
                {
                    Log.ConsumeFailed(logger, ex.Error.Code, ex.Error.Reason);
                    continue;
                }
                if (result is { IsPartitionEOF: false, Message: not null })
                {
                    await AcceptAsync(result, stoppingToken).ConfigureAwait(false);
                }
                while (_inFlight.OldestEnded)
                {
                    await CompleteOldestAsync(consumer).ConfigureAwait(false);
                }
                if (_lines.PointCount >= _options.MaxBatchPoints || FlushIntervalElapsed())
                {
                    await StartWriteAsync(consumer).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            await ShutdownAsync(consumer).ConfigureAwait(false);
        }
    }

    private async Task ShutdownAsync(IConsumer<byte[]?, byte[]?> consumer)
    {
        _writeCts.CancelAfter(_options.ShutdownFlushTimeout);
        try
        {
            await FlushAllAsync(consumer).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Log.ShutdownFlushIncomplete(logger, _pending.Count + InFlightMessages);
        }
        try
        {
            // Leaves the group; the revoke handler commits whatever is still written but uncommitted.
            consumer.Close();
        }
        catch (KafkaException ex)
        {
            Log.CloseFailed(logger, ex);
        }
    }

    private TimeSpan NextConsumeTimeout()
    {
        if (_pending.Count == 0)
        {
            return TimeSpan.FromMilliseconds(500);
        }
        var left = _options.FlushInterval - timeProvider.GetElapsedTime(_firstPendingTimestamp);
        return left > TimeSpan.Zero ? left : TimeSpan.Zero;
    }

    private bool FlushIntervalElapsed() =>
        _pending.Count > 0 && timeProvider.GetElapsedTime(_firstPendingTimestamp) >= _options.FlushInterval;

    private async Task AcceptAsync(ConsumeResult<byte[]?, byte[]?> result, CancellationToken cancellationToken)
    {
        if (_pending.Count == 0)
        {
            _firstPendingTimestamp = timeProvider.GetTimestamp();
        }
        SampleBatch batch;
        try
        {
            batch = SampleBatch.Parser.ParseFrom(result.Message.Value ?? []);
        }
        catch (InvalidProtocolBufferException ex)
        {
            await DeadLetterAsync(result, $"undecodable: {ex.Message}", "undecodable", cancellationToken).ConfigureAwait(false);
            return;
        }
        if (string.IsNullOrEmpty(batch.HostId))
        {
            await DeadLetterAsync(result, "undecodable: host_id is empty", "undecodable", cancellationToken).ConfigureAwait(false);
            return;
        }
        try
        {
            _encoder.Append(_lines, batch);
        }
        catch (ArgumentException ex)
        {
            // Part of the batch may already be in the buffer: rebuild it from the pending batches.
            RebuildLines();
            await DeadLetterAsync(result, $"unencodable: {ex.Message}", "unencodable", cancellationToken).ConfigureAwait(false);
            return;
        }
        _pending.Add(new Pending(result.TopicPartitionOffset, batch));
    }

    private async Task DeadLetterAsync(ConsumeResult<byte[]?, byte[]?> result, string reason, string kind, CancellationToken cancellationToken)
    {
        await deadLetters.PublishAsync(result, reason, cancellationToken).ConfigureAwait(false);
        metrics.DeadLettered(kind);
        Log.DeadLettered(logger, result.TopicPartitionOffset.ToString(), reason);
        _pending.Add(new Pending(result.TopicPartitionOffset, null));
    }

    private void RebuildLines()
    {
        _lines.Reset();
        foreach (var p in _pending)
        {
            if (p.Batch is not null)
            {
                _encoder.Append(_lines, p.Batch);
            }
        }
    }

    /// <summary>
    /// Hands the filled batch to a writer and starts filling an empty one. When
    /// <see cref="PersistenceOptions.MaxWritesInFlight"/> writes are already in flight it first waits for the oldest
    /// (and commits it): consumption pauses instead of buffering without bound, and commits stay in order.
    /// </summary>
    private async Task StartWriteAsync(IConsumer<byte[]?, byte[]?> consumer)
    {
        while (_inFlight.Count >= _options.MaxWritesInFlight)
        {
            await CompleteOldestAsync(consumer).ConfigureAwait(false);
        }
        if (_pending.Count == 0)
        {
            return;
        }
        var (lines, pending) = (_lines, _pending);
        (_lines, _pending) = _spare.TryPop(out var spare) ? spare : (new LineProtocolBuilder(), []);
        _inFlight.Add(WriteBatchAsync(lines, pending, _writeCts.Token), (lines, pending));
    }

    /// <summary>Awaits the oldest write in flight, then commits its offsets. Throws (committing nothing) if the write was cancelled.</summary>
    private async Task CompleteOldestAsync(IConsumer<byte[]?, byte[]?> consumer)
    {
        // A failed write stays at the head, so nothing younger is ever committed past it: the caller stops
        // (shutdown) or forgets every uncommitted message (revocation), and they are redelivered.
        var done = await _inFlight.CompleteOldestAsync().ConfigureAwait(false);
        Commit(consumer, done.Pending);
        Recycle(done);
    }

    private void Recycle((LineProtocolBuilder Lines, List<Pending> Pending) done)
    {
        done.Lines.Reset();
        done.Pending.Clear();
        _spare.Push(done);
    }

    /// <summary>Writes and commits everything consumed so far (revocation, shutdown).</summary>
    private async Task FlushAllAsync(IConsumer<byte[]?, byte[]?> consumer)
    {
        await StartWriteAsync(consumer).ConfigureAwait(false);
        while (_inFlight.Count > 0)
        {
            await CompleteOldestAsync(consumer).ConfigureAwait(false);
        }
    }

    /// <summary>Writes one batch, retrying while InfluxDB is unavailable; a batch InfluxDB calls malformed is split to dead-letter only the bad messages.</summary>
    private async Task WriteBatchAsync(LineProtocolBuilder lines, List<Pending> pending, CancellationToken cancellationToken)
    {
        if (lines.PointCount > 0 && !await WriteWithRetryAsync(lines, cancellationToken).ConfigureAwait(false))
        {
            await WriteOneByOneAsync(pending, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Returns false when InfluxDB rejected the points as malformed (400); anything else is retried by the pipeline until it succeeds or is cancelled.</summary>
    private async Task<bool> WriteWithRetryAsync(LineProtocolBuilder lines, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            await writePipeline.ExecuteAsync(
                static async (state, ct) => await state.influx.WriteAsync(state.lines.WrittenMemory, ct).ConfigureAwait(false),
                (influx, lines),
                cancellationToken).ConfigureAwait(false);
            metrics.Written(lines.PointCount, Stopwatch.GetElapsedTime(started));
            return true;
        }
        catch (InfluxWriteException ex) when (ex.IsMalformed)
        {
            metrics.WriteFailed("malformed");
            Log.WriteMalformed(logger, lines.PointCount, ex.Message);
            return false;
        }
    }

    /// <summary>After a 400 for a whole batch: find the message(s) InfluxDB refuses and dead-letter only those.</summary>
    private async Task WriteOneByOneAsync(List<Pending> pending, CancellationToken cancellationToken)
    {
        var single = new LineProtocolBuilder();
        for (int i = 0; i < pending.Count; i++)
        {
            var p = pending[i];
            if (p.Batch is null)
            {
                continue;
            }
            single.Reset();
            _encoder.Append(single, p.Batch);
            if (!await WriteWithRetryAsync(single, cancellationToken).ConfigureAwait(false))
            {
                var copy = new ConsumeResult<byte[]?, byte[]?>
                {
                    TopicPartitionOffset = p.Offset,
                    Message = new Message<byte[]?, byte[]?> { Key = System.Text.Encoding.UTF8.GetBytes(p.Batch.HostId), Value = p.Batch.ToByteArray() },
                };
                await deadLetters.PublishAsync(copy, "influx_rejected: InfluxDB answered 400 for these points", cancellationToken).ConfigureAwait(false);
                metrics.DeadLettered("influx_rejected");
                Log.DeadLettered(logger, p.Offset.ToString(), "influx_rejected");
                pending[i] = p with { Batch = null };
            }
        }
    }

    private void Commit(IConsumer<byte[]?, byte[]?> consumer, List<Pending> pending)
    {
        if (pending.Count == 0)
        {
            return;
        }
        var next = new Dictionary<TopicPartition, long>();
        foreach (var p in pending)
        {
            var tp = p.Offset.TopicPartition;
            var candidate = p.Offset.Offset.Value + 1;
            if (!next.TryGetValue(tp, out var current) || candidate > current)
            {
                next[tp] = candidate;
            }
        }
        var offsets = next.Select(kv => new TopicPartitionOffset(kv.Key, new Offset(kv.Value))).ToList();
        try
        {
            consumer.Commit(offsets);
            metrics.Committed(pending.Count);
        }
        catch (KafkaException ex)
        {
            // e.g. RebalanceInProgress: the points are written, so redelivery only overwrites them identically.
            Log.CommitFailed(logger, ex.Error.Code, ex.Error.Reason);
        }
        foreach (var tp in next.Keys)
        {
            var watermarks = consumer.GetWatermarkOffsets(tp);
            if (watermarks.High.Value >= 0)
            {
                metrics.Lag(tp.Partition.Value, Math.Max(0, watermarks.High.Value - next[tp]));
            }
        }
    }

    private void OnAssigned(IConsumer<byte[]?, byte[]?> consumer, List<TopicPartition> partitions)
    {
        Log.Assigned(logger, partitions.Count, partitions);
        if (partitions.Count == 0)
        {
            return;
        }
        try
        {
            foreach (var committed in consumer.Committed(partitions, TimeSpan.FromSeconds(5)))
            {
                if (committed.Offset.Value < 0)
                {
                    continue;
                }
                var watermarks = consumer.QueryWatermarkOffsets(committed.TopicPartition, TimeSpan.FromSeconds(5));
                if (committed.Offset.Value < watermarks.Low.Value)
                {
                    var lost = watermarks.Low.Value - committed.Offset.Value;
                    metrics.LostBelowWatermark(lost);
                    Log.CommittedBelowLowWatermark(logger, committed.TopicPartition, committed.Offset.Value, watermarks.Low.Value, lost);
                }
            }
        }
        catch (KafkaException ex)
        {
            Log.WatermarkCheckFailed(logger, ex.Error.Code, ex.Error.Reason);
        }
    }

    private void OnRevoked(IConsumer<byte[]?, byte[]?> consumer, List<TopicPartitionOffset> partitions)
    {
        Log.Revoked(logger, partitions.Count, _pending.Count + InFlightMessages);
        try
        {
            // Runs inside Consume() on the worker's own thread, so blocking here is safe.
            FlushAllAsync(consumer).GetAwaiter().GetResult();
        }
        catch (OperationCanceledException)
        {
            Log.ShutdownFlushIncomplete(logger, _pending.Count + InFlightMessages);
        }
        ForgetPending(partitions.Select(p => p.Partition.Value));
    }

    private void OnLost(IConsumer<byte[]?, byte[]?> consumer, List<TopicPartitionOffset> partitions)
    {
        Log.Lost(logger, partitions.Count, _pending.Count + InFlightMessages);
        ForgetPending(partitions.Select(p => p.Partition.Value));
    }

    private void ForgetPending(IEnumerable<int> partitions)
    {
        // Whatever was not committed belongs to the next owner now; it will be redelivered there.
        foreach (var p in partitions)
        {
            metrics.ForgetPartition(p);
        }
        // The next owner gets the uncommitted messages again; buffers still on the wire are reused only after their write ended.
        foreach (var abandoned in _inFlight.Abandon(static ex => ex is OperationCanceledException or InfluxWriteException or KafkaException))
        {
            Recycle(abandoned);
        }
        _pending.Clear();
        _lines.Reset();
    }

    public override void Dispose()
    {
        _writeCts.Dispose();
        base.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 3001, EventName = "PersistenceStarted", Level = LogLevel.Information,
            Message = "Consuming {Topic} as group {GroupId} from {BootstrapServers}")]
        public static partial void Started(ILogger logger, string topic, string groupId, string bootstrapServers);

        [LoggerMessage(EventId = 3002, EventName = "KafkaConsumerError", Level = LogLevel.Warning,
            Message = "Kafka consumer error {Code}: {Reason} (fatal: {IsFatal})")]
        public static partial void KafkaError(ILogger logger, ErrorCode code, string reason, bool isFatal);

        [LoggerMessage(EventId = 3003, EventName = "ConsumeFailed", Level = LogLevel.Warning,
            Message = "Consume failed {Code}: {Reason}")]
        public static partial void ConsumeFailed(ILogger logger, ErrorCode code, string reason);

        [LoggerMessage(EventId = 3004, EventName = "DeadLettered", Level = LogLevel.Error,
            Message = "Message {Source} dead-lettered: {Reason}")]
        public static partial void DeadLettered(ILogger logger, string source, string reason);



        [LoggerMessage(EventId = 3007, EventName = "InfluxWriteMalformed", Level = LogLevel.Error,
            Message = "InfluxDB rejected a write of {Points} points as malformed: {Error}; isolating the bad message(s)")]
        public static partial void WriteMalformed(ILogger logger, int points, string error);

        [LoggerMessage(EventId = 3008, EventName = "CommitFailed", Level = LogLevel.Warning,
            Message = "Offset commit failed {Code}: {Reason}; the written messages will be redelivered and overwrite identically")]
        public static partial void CommitFailed(ILogger logger, ErrorCode code, string reason);

        [LoggerMessage(EventId = 3009, EventName = "PartitionsAssigned", Level = LogLevel.Information,
            Message = "Assigned {Count} partition(s): {Partitions}")]
        public static partial void Assigned(ILogger logger, int count, List<TopicPartition> partitions);

        [LoggerMessage(EventId = 3010, EventName = "PartitionsRevoked", Level = LogLevel.Information,
            Message = "Revoked {Count} partition(s); flushing and committing {Pending} pending message(s)")]
        public static partial void Revoked(ILogger logger, int count, int pending);

        [LoggerMessage(EventId = 3011, EventName = "PartitionsLost", Level = LogLevel.Warning,
            Message = "Lost {Count} partition(s); {Pending} uncommitted message(s) will be redelivered to the new owner")]
        public static partial void Lost(ILogger logger, int count, int pending);

        [LoggerMessage(EventId = 3012, EventName = "CommittedBelowLowWatermark", Level = LogLevel.Critical,
            Message = "DATA LOSS: committed offset {Committed} of {Partition} is below the broker's low watermark {Low}: the broker dropped {Lost} message(s) before they were written")]
        public static partial void CommittedBelowLowWatermark(ILogger logger, TopicPartition partition, long committed, long low, long lost);

        [LoggerMessage(EventId = 3013, EventName = "WatermarkCheckFailed", Level = LogLevel.Warning,
            Message = "Could not compare committed offsets with the low watermark {Code}: {Reason}")]
        public static partial void WatermarkCheckFailed(ILogger logger, ErrorCode code, string reason);

        [LoggerMessage(EventId = 3014, EventName = "ShutdownFlushIncomplete", Level = LogLevel.Warning,
            Message = "Stopped before {Pending} consumed message(s) were written; they stay uncommitted and will be redelivered")]
        public static partial void ShutdownFlushIncomplete(ILogger logger, int pending);

        [LoggerMessage(EventId = 3015, EventName = "ConsumerCloseFailed", Level = LogLevel.Warning,
            Message = "Closing the Kafka consumer failed")]
        public static partial void CloseFailed(ILogger logger, Exception exception);
    }
}
