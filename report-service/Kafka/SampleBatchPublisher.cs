using System.Globalization;
using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Options;
using Monitor.ServiceDefaults.Hosting;
using Monitor.ServiceDefaults.Kafka;

namespace Monitor.ReportService.Kafka;

/// <summary>Publishes accepted batches to <c>monitor.samples</c>, keyed by host id; completes only after Kafka's delivery report.</summary>
internal interface ISampleBatchPublisher
{
    /// <param name="hostId">The batch's host id, the message key.</param>
    /// <param name="batch">The message value: a protobuf <c>SampleBatch</c> of that host's accepted samples.</param>
    /// <param name="receivedAtUnixMs">When the report service received it.</param>
    /// <param name="cancellationToken">Cancels the wait for the delivery report.</param>
    Task PublishAsync(string hostId, byte[] batch, long receivedAtUnixMs, CancellationToken cancellationToken);
}

internal sealed partial class SampleBatchPublisher : ISampleBatchPublisher, IDisposable
{
    private readonly IProducer<string, byte[]> _producer;
    private readonly string _topic;
    private readonly byte[] _instance;
    private readonly ILogger<SampleBatchPublisher> _logger;

    public SampleBatchPublisher(IOptions<KafkaOptions> kafka, IOptions<ServiceOptions> service, ILogger<SampleBatchPublisher> logger)
    {
        var instance = service.Value.EffectiveInstanceId;
        _topic = kafka.Value.SamplesTopic;
        _instance = Encoding.UTF8.GetBytes(instance);
        _logger = logger;
        _producer = new ProducerBuilder<string, byte[]>(KafkaConventions.CreateProducerConfig(kafka.Value, $"report-{instance}"))
            .SetErrorHandler((_, e) => Log.KafkaError(_logger, e.Code, e.Reason, e.IsFatal))
            .SetLogHandler((_, m) => KafkaLog.Forward(_logger, m))
            .Build();
        Log.ProducerCreated(_logger, kafka.Value.BootstrapServers, _topic);
    }

    public async Task PublishAsync(string hostId, byte[] batch, long receivedAtUnixMs, CancellationToken cancellationToken)
    {
        var message = new Message<string, byte[]>
        {
            Key = hostId,
            Value = batch,
            Headers = new Headers
            {
                { KafkaConventions.ReceivedAtHeader, Encoding.ASCII.GetBytes(receivedAtUnixMs.ToString(CultureInfo.InvariantCulture)) },
                { KafkaConventions.ReportInstanceHeader, _instance },
            },
        };
        // Completes with the delivery report: with acks=all the batch is on every in-sync replica.
        await _producer.ProduceAsync(_topic, message, cancellationToken).ConfigureAwait(false);
    }

    public void Dispose()
    {
        var remaining = _producer.Flush(TimeSpan.FromSeconds(10));
        if (remaining > 0)
        {
            Log.FlushIncomplete(_logger, remaining);
        }
        _producer.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 2101, EventName = "KafkaProducerCreated", Level = LogLevel.Information,
            Message = "Kafka producer for topic {Topic} on {BootstrapServers} (idempotent, acks=all)")]
        public static partial void ProducerCreated(ILogger logger, string bootstrapServers, string topic);

        [LoggerMessage(EventId = 2102, EventName = "KafkaProducerError", Level = LogLevel.Warning,
            Message = "Kafka producer error {Code}: {Reason} (fatal: {IsFatal})")]
        public static partial void KafkaError(ILogger logger, ErrorCode code, string reason, bool isFatal);

        [LoggerMessage(EventId = 2103, EventName = "KafkaFlushIncomplete", Level = LogLevel.Error,
            Message = "{Remaining} messages were still unconfirmed at shutdown; their agents did not get an ack and will resend them")]
        public static partial void FlushIncomplete(ILogger logger, int remaining);
    }
}
