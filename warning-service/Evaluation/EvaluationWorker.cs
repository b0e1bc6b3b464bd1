using Confluent.Kafka;
using Google.Protobuf;
using Microsoft.Extensions.Options;
using Monitor.Protos.V1;
using Monitor.ServiceDefaults.Hosting;
using Monitor.ServiceDefaults.Kafka;
using Monitor.WarningService.Extensions;
using Monitor.WarningService.Hosts;
using Monitor.WarningService.Notifications;
using Monitor.WarningService.Options;
using Monitor.WarningService.Rules;
using MySqlConnector;
using Polly;

namespace Monitor.WarningService.Evaluation;

/// <summary>
/// Consumes <c>monitor.samples</c> in group <c>monitor-warning</c>: each instance evaluates the per-host
/// rules for the hosts of its partitions. State is loaded from MySQL on assignment, persisted (with the
/// alert records and outbox rows of every transition) in one transaction, and only then are the offsets
/// committed, so a restart neither re-sends nor forgets.
/// </summary>
internal sealed partial class EvaluationWorker(
    IOptions<KafkaOptions> kafkaOptions,
    IOptions<WarningOptions> warningOptions,
    IOptions<ServiceOptions> serviceOptions,
    RuleCatalog catalog,
    AlertStore store,
    [FromKeyedServices(ResiliencePipelines.StatePersist)] ResiliencePipeline persistPipeline,
    WarningMetrics metrics,
    NotificationSignal signal,
    IHostLocationResolver locations,
    DeletedHosts deletedHosts,
    TimeProvider timeProvider,
    ILogger<EvaluationWorker> logger) : BackgroundService
{
    private readonly KafkaOptions _kafka = kafkaOptions.Value;
    private readonly WarningOptions _options = warningOptions.Value;
    private readonly StreamEvaluator _evaluator = new(warningOptions.Value, locations, deletedHosts);
    private readonly List<StateEvent> _events = [];
    private readonly OffsetCommitter _committer = new(warningOptions.Value.CommitInterval, timeProvider);
    private int _pendingMessages;
    private long _firstPendingTimestamp;
    private CancellationToken _stoppingToken;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _stoppingToken = stoppingToken;
        while (!catalog.Loaded && !stoppingToken.IsCancellationRequested)
        {
            try
            {
                await catalog.ReloadAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is MySqlException or InvalidOperationException or TimeoutException)
            {
                Log.RulesUnavailable(logger, ex);
                await Task.Delay(TimeSpan.FromSeconds(1), timeProvider, stoppingToken).ConfigureAwait(false);
            }
        }
        var config = KafkaConventions.CreateConsumerConfig(_kafka, _options.GroupId, $"warning-{serviceOptions.Value.EffectiveInstanceId}");
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(config)
            .SetErrorHandler((_, e) => Log.KafkaError(logger, e.Code, e.Reason, e.IsFatal))
            .SetLogHandler((_, m) => KafkaLog.Forward(logger, m))
            .SetPartitionsAssignedHandler(OnAssigned)
            .SetPartitionsRevokedHandler(OnRevoked)
            .SetPartitionsLostHandler(OnLost)
            .Build();
        consumer.Subscribe(_kafka.SamplesTopic);
        Log.Started(logger, _kafka.SamplesTopic, _options.GroupId);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                ConsumeResult<byte[]?, byte[]?>? result;
                try
                {
                    result = consumer.Consume(_pendingMessages == 0 ? TimeSpan.FromMilliseconds(500) : TimeSpan.Zero);
                }
                catch (ConsumeException ex) when (!ex.Error.IsFatal)
                {
                    Log.ConsumeFailed(logger, ex.Error.Code, ex.Error.Reason);
                    continue;
                }
                if (result is { IsPartitionEOF: false, Message: not null })
                {
                    await HandleAsync(result, stoppingToken).ConfigureAwait(false);
                }
                // Persist as soon as the partition has nothing more for us right now, or the batch is big or old enough:
                // detection latency stays at one consume + one transaction, throughput batches under load.
                if (_pendingMessages > 0 && (result is null || _pendingMessages >= _options.MaxBatchMessages
                    || timeProvider.GetElapsedTime(_firstPendingTimestamp) >= _options.FlushInterval))
                {
                    await FlushAsync(consumer, stoppingToken).ConfigureAwait(false);
                }
                else if (_pendingMessages == 0)
                {
                    // Idle: the last flush persisted everything tracked; commit it once the interval allows.
                    Commit(consumer, force: false);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            using var budget = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await FlushAsync(consumer, budget.Token, force: true).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                Log.ShutdownFlushIncomplete(logger, _pendingMessages);
            }
            try
            {
                _stoppingToken = budget.Token;
                consumer.Close();
            }
            catch (KafkaException ex)
            {
                Log.CloseFailed(logger, ex);
            }
        }
    }

    private async Task HandleAsync(ConsumeResult<byte[]?, byte[]?> result, CancellationToken cancellationToken)
    {
        if (_pendingMessages == 0)
        {
            _firstPendingTimestamp = timeProvider.GetTimestamp();
        }
        _pendingMessages++;
        _committer.Track(result.TopicPartitionOffset);
        SampleBatch batch;
        try
        {
            batch = SampleBatch.Parser.ParseFrom(result.Message.Value ?? []);
        }
        catch (InvalidProtocolBufferException ex)
        {
            // The persistence service dead-letters these; for alerting they simply carry no samples.
            Log.Undecodable(logger, result.TopicPartitionOffset.ToString(), ex.Message);
            return;
        }
        if (string.IsNullOrEmpty(batch.HostId))
        {
            return;
        }
        if (!_evaluator.IsHostLoaded(batch.HostId, result.Partition.Value))
        {
            var rows = await persistPipeline.ExecuteAsync(
                static async (s, ct) => await s.store.LoadHostAsync(s.HostId, ct).ConfigureAwait(false),
                (store, batch.HostId), cancellationToken).ConfigureAwait(false);
            _evaluator.Install(rows, [batch.HostId]);
        }
        var evaluated = _evaluator.Evaluate(batch, result.Partition.Value, catalog.Rules, _events);
        metrics.Evaluated(evaluated);
        metrics.Evaluated(batch);
    }

    /// <summary>Persists state and transitions (retrying while MySQL is unavailable), then commits the offsets.</summary>
    private async Task FlushAsync(IConsumer<byte[]?, byte[]?> consumer, CancellationToken cancellationToken, bool force = false)
    {
        if (_pendingMessages == 0 && _events.Count == 0)
        {
            // Nothing new consumed; what is tracked was persisted by an earlier flush.
            Commit(consumer, force);
            return;
        }
        var dirty = _evaluator.DirtyEntries();
        var events = deletedHosts.Count == 0 ? _events.ToList() : _events.Where(e => !deletedHosts.Contains(e.Entry.HostId)).ToList();
        var queued = await persistPipeline.ExecuteAsync(
            static async (s, ct) => await s.store.PersistAsync(s.events, s.dirty, ct).ConfigureAwait(false),
            (store, events, dirty), cancellationToken).ConfigureAwait(false);
        _evaluator.Persisted();
        var nowMs = timeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        foreach (var e in events)
        {
            if (e.Transition.Kind == TransitionKind.Fired)
            {
                metrics.DetectionLatency(nowMs - e.SampleMs);
            }
            Log.Transition(logger, e.Transition.Kind, e.Rule.Id, e.Rule.Version, e.Entry.HostId, e.Transition.Severity ?? "", e.Transition.Value, e.Entry.State.AlertId ?? 0);
            metrics.Transition(e.Transition.Kind);
        }
        if (queued > 0)
        {
            signal.Pulse();
        }
        _events.Clear();
        Commit(consumer, force);
        _pendingMessages = 0;
    }

    private void Commit(IConsumer<byte[]?, byte[]?> consumer, bool force)
    {
        if (_committer.CommitIfDue(consumer, force) is { } ex)
        {
            // e.g. RebalanceInProgress: the state is persisted, so redelivered samples are recognised by their timestamps and change nothing.
            Log.CommitFailed(logger, ex.Error.Code, ex.Error.Reason);
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
            var numbers = partitions.Select(p => p.Partition.Value).ToList();
            // Runs inside Consume() on the worker's own thread, so blocking here is safe.
            var rows = persistPipeline.ExecuteAsync(
                static async (s, ct) => await s.store.LoadPartitionsAsync(s.numbers, ct).ConfigureAwait(false),
                (store, numbers), _stoppingToken).AsTask().GetAwaiter().GetResult();
            _evaluator.Install(rows, rows.Select(r => r.HostId).Distinct());
            _evaluator.PartitionsLoaded(numbers);
            Log.StateLoaded(logger, rows.Count, numbers.Count);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void OnRevoked(IConsumer<byte[]?, byte[]?> consumer, List<TopicPartitionOffset> partitions)
    {
        Log.Revoked(logger, partitions.Count, _pendingMessages);
        try
        {
            FlushAsync(consumer, _stoppingToken, force: true).GetAwaiter().GetResult();
        }
        catch (OperationCanceledException)
        {
            Log.ShutdownFlushIncomplete(logger, _pendingMessages);
        }
        Forget();
    }

    private void OnLost(IConsumer<byte[]?, byte[]?> consumer, List<TopicPartitionOffset> partitions)
    {
        Log.Lost(logger, partitions.Count, _pendingMessages);
        Forget();
    }

    private void Forget()
    {
        // The next owner loads the persisted state; whatever was not persisted is redelivered to it.
        _evaluator.Clear();
        metrics.Lag.PartitionsReleased();
        _events.Clear();
        _committer.Clear();
        _pendingMessages = 0;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 7001, EventName = "EvaluationStarted", Level = LogLevel.Information,
            Message = "Evaluating rules from {Topic} as group {GroupId}")]
        public static partial void Started(ILogger logger, string topic, string groupId);

        [LoggerMessage(EventId = 7002, EventName = "KafkaConsumerError", Level = LogLevel.Warning,
            Message = "Kafka consumer error {Code}: {Reason} (fatal: {IsFatal})")]
        public static partial void KafkaError(ILogger logger, ErrorCode code, string reason, bool isFatal);

        [LoggerMessage(EventId = 7003, EventName = "ConsumeFailed", Level = LogLevel.Warning, Message = "Consume failed {Code}: {Reason}")]
        public static partial void ConsumeFailed(ILogger logger, ErrorCode code, string reason);

        [LoggerMessage(EventId = 7004, EventName = "UndecodableBatch", Level = LogLevel.Warning, Message = "Message {Source} is not a SampleBatch: {Error}")]
        public static partial void Undecodable(ILogger logger, string source, string error);

        [LoggerMessage(EventId = 7005, EventName = "AlertTransition", Level = LogLevel.Information,
            Message = "{Transition}: rule {RuleId} v{RuleVersion} host {HostId} severity {Severity} value {Value} (alert {AlertId})")]
        public static partial void Transition(ILogger logger, TransitionKind transition, long ruleId, int ruleVersion, string hostId, string severity, double value, long alertId);

        [LoggerMessage(EventId = 7006, EventName = "CommitFailed", Level = LogLevel.Warning,
            Message = "Offset commit failed {Code}: {Reason}; redelivered samples will be recognised and ignored")]
        public static partial void CommitFailed(ILogger logger, ErrorCode code, string reason);

        [LoggerMessage(EventId = 7007, EventName = "PartitionsAssigned", Level = LogLevel.Information, Message = "Assigned {Count} partition(s): {Partitions}")]
        public static partial void Assigned(ILogger logger, int count, List<TopicPartition> partitions);

        [LoggerMessage(EventId = 7008, EventName = "PartitionsRevoked", Level = LogLevel.Information,
            Message = "Revoked {Count} partition(s); persisting {Pending} pending message(s)")]
        public static partial void Revoked(ILogger logger, int count, int pending);

        [LoggerMessage(EventId = 7009, EventName = "PartitionsLost", Level = LogLevel.Warning,
            Message = "Lost {Count} partition(s); {Pending} unpersisted message(s) will be redelivered to the new owner")]
        public static partial void Lost(ILogger logger, int count, int pending);

        [LoggerMessage(EventId = 7010, EventName = "AlertStateLoaded", Level = LogLevel.Information,
            Message = "Loaded {Rows} alert state row(s) for {Partitions} assigned partition(s)")]
        public static partial void StateLoaded(ILogger logger, int rows, int partitions);

        [LoggerMessage(EventId = 7011, EventName = "ShutdownFlushIncomplete", Level = LogLevel.Warning,
            Message = "Stopped before the state of {Pending} consumed message(s) was persisted; they stay uncommitted and will be redelivered")]
        public static partial void ShutdownFlushIncomplete(ILogger logger, int pending);

        [LoggerMessage(EventId = 7012, EventName = "ConsumerCloseFailed", Level = LogLevel.Warning, Message = "Closing the Kafka consumer failed")]
        public static partial void CloseFailed(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 7013, EventName = "RulesUnavailable", Level = LogLevel.Warning, Message = "Cannot load the rules from MySQL yet; retrying")]
        public static partial void RulesUnavailable(ILogger logger, Exception exception);
    }
}
