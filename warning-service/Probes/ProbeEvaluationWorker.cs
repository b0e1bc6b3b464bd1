using Confluent.Kafka;
using Google.Protobuf;
using Microsoft.Extensions.Options;
using Monitor.Protos.V1;
using Monitor.ServiceDefaults.Hosting;
using Monitor.ServiceDefaults.Kafka;
using Monitor.WarningService.Evaluation;
using Monitor.WarningService.Notifications;
using Monitor.WarningService.Options;
using Monitor.WarningService.Rules;
using Polly;

namespace Monitor.WarningService.Probes;

/// <summary>
/// Evaluates probe rules from <c>monitor.samples</c> in its own consumer group (<c>{Warning:GroupId}-probes</c>), beside
/// the metric-rule evaluator: each instance handles the hosts of its partitions. State is loaded from MySQL on
/// assignment, persisted with the alert records and outbox rows of every transition in one transaction, and only then
/// are the offsets committed, so a restart neither re-sends nor forgets.
/// </summary>
internal sealed partial class ProbeEvaluationWorker(
    IOptions<KafkaOptions> kafkaOptions,
    IOptions<WarningOptions> warningOptions,
    IOptions<ServiceOptions> serviceOptions,
    RuleCatalog catalog,
    ProbeAlertStore store,
    ProbeTargetDirectory targets,
    [FromKeyedServices(ResiliencePipelines.StatePersist)] ResiliencePipeline persistPipeline,
    NotificationSignal signal,
    IHostLocationResolver locations,
    TimeProvider timeProvider,
    ILogger<ProbeEvaluationWorker> logger) : BackgroundService
{
    private static readonly byte[] ProbeMetricUtf8 = System.Text.Encoding.UTF8.GetBytes(ProbeRules.Metric);

    private readonly KafkaOptions _kafka = kafkaOptions.Value;
    private readonly WarningOptions _options = warningOptions.Value;
    private readonly ProbeEvaluator _evaluator = new(locations);
    private readonly List<ProbeStateEvent> _events = [];
    private readonly OffsetCommitter _committer = new(warningOptions.Value.CommitInterval, timeProvider);
    private RetiredTargets _retired = RetiredTargets.None;
    private int _pendingMessages;
    private long _firstPendingTimestamp;
    private CancellationToken _stoppingToken;

    public string GroupId => _options.GroupId + "-probes";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _stoppingToken = stoppingToken;
        while (!catalog.Loaded && !stoppingToken.IsCancellationRequested)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(200), timeProvider, stoppingToken).ConfigureAwait(false);
        }
        var config = KafkaConventions.CreateConsumerConfig(_kafka, GroupId, $"warning-probes-{serviceOptions.Value.EffectiveInstanceId}");
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(config)
            .SetErrorHandler((_, e) => Log.KafkaError(logger, e.Code, e.Reason, e.IsFatal))
            .SetLogHandler((_, m) => KafkaLog.Forward(logger, m))
            .SetPartitionsAssignedHandler(OnAssigned)
            .SetPartitionsRevokedHandler(OnRevoked)
            .SetPartitionsLostHandler((_, partitions) => Forget())
            .Build();
        consumer.Subscribe(_kafka.SamplesTopic);
        Log.Started(logger, _kafka.SamplesTopic, GroupId);
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
        // Nearly every batch on the topic is plain metrics: a vectorised byte search for the metric name (protobuf
        // strings are raw UTF-8) skips them without parsing; a batch that merely mentions it is parsed and checked.
        if (result.Message.Value is not { } bytes || bytes.AsSpan().IndexOf(ProbeMetricUtf8) < 0)
        {
            return;
        }
        SampleBatch batch;
        try
        {
            batch = SampleBatch.Parser.ParseFrom(result.Message.Value ?? []);
        }
        catch (InvalidProtocolBufferException)
        {
            return; // the metric evaluator logs these; persistence dead-letters them
        }
        if (string.IsNullOrEmpty(batch.HostId) || !ProbeEvaluator.HasProbeSamples(batch))
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
        if (!ReferenceEquals(targets.Retired, _retired))
        {
            // Their alerts were ended and their states deleted in MySQL: forget them here too, so a late result
            // neither resolves the ended alert again nor keeps a stale firing state that would never fire anew.
            _retired = targets.Retired;
            _evaluator.Drop(_retired);
        }
        _evaluator.Evaluate(batch, result.Partition.Value, catalog.Rules, _events, _retired);
    }

    private async Task FlushAsync(IConsumer<byte[]?, byte[]?> consumer, CancellationToken cancellationToken, bool force = false)
    {
        if (_pendingMessages == 0 && _events.Count == 0)
        {
            // Nothing new consumed; what is tracked was persisted by an earlier flush.
            Commit(consumer, force);
            return;
        }
        var dirty = _evaluator.DirtyEntries();
        var events = _events.ToList();
        var queued = await persistPipeline.ExecuteAsync(
            static async (s, ct) => await s.store.PersistAsync(s.events, s.dirty, ct).ConfigureAwait(false),
            (store, events, dirty), cancellationToken).ConfigureAwait(false);
        foreach (var e in events)
        {
            Log.Transition(logger, e.Kind, e.Rule.Id, e.Entry.HostId, e.Entry.Target, e.Failures, e.Entry.State.AlertId ?? 0);
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
            Log.CommitFailed(logger, ex.Error.Code, ex.Error.Reason);
        }
    }

    private void OnAssigned(IConsumer<byte[]?, byte[]?> consumer, List<TopicPartition> partitions)
    {
        if (partitions.Count == 0)
        {
            return;
        }
        try
        {
            var numbers = partitions.Select(p => p.Partition.Value).ToList();
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

    private void Forget()
    {
        _evaluator.Clear();
        _events.Clear();
        _committer.Clear();
        _pendingMessages = 0;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 7610, EventName = "ProbeEvaluationStarted", Level = LogLevel.Information, Message = "Evaluating probe rules from {Topic} as group {GroupId}")]
        public static partial void Started(ILogger logger, string topic, string groupId);

        [LoggerMessage(EventId = 7611, EventName = "ProbeKafkaConsumerError", Level = LogLevel.Warning, Message = "Kafka consumer error {Code}: {Reason} (fatal: {IsFatal})")]
        public static partial void KafkaError(ILogger logger, ErrorCode code, string reason, bool isFatal);

        [LoggerMessage(EventId = 7612, EventName = "ProbeConsumeFailed", Level = LogLevel.Warning, Message = "Consume failed {Code}: {Reason}")]
        public static partial void ConsumeFailed(ILogger logger, ErrorCode code, string reason);

        [LoggerMessage(EventId = 7613, EventName = "ProbeAlertTransition", Level = LogLevel.Information,
            Message = "{Transition}: probe rule {RuleId} host {HostId} target {Target} after {Failures} failure(s) (alert {AlertId})")]
        public static partial void Transition(ILogger logger, TransitionKind transition, long ruleId, string hostId, string target, int failures, long alertId);

        [LoggerMessage(EventId = 7614, EventName = "ProbeCommitFailed", Level = LogLevel.Warning, Message = "Offset commit failed {Code}: {Reason}; redelivered samples will be recognised and ignored")]
        public static partial void CommitFailed(ILogger logger, ErrorCode code, string reason);

        [LoggerMessage(EventId = 7615, EventName = "ProbeStateLoaded", Level = LogLevel.Information, Message = "Loaded {Rows} probe state row(s) for {Partitions} assigned partition(s)")]
        public static partial void StateLoaded(ILogger logger, int rows, int partitions);

        [LoggerMessage(EventId = 7616, EventName = "ProbeShutdownFlushIncomplete", Level = LogLevel.Warning,
            Message = "Stopped before the probe state of {Pending} consumed message(s) was persisted; they will be redelivered")]
        public static partial void ShutdownFlushIncomplete(ILogger logger, int pending);

        [LoggerMessage(EventId = 7617, EventName = "ProbeConsumerCloseFailed", Level = LogLevel.Warning, Message = "Closing the probe Kafka consumer failed")]
        public static partial void CloseFailed(ILogger logger, Exception exception);
    }
}
