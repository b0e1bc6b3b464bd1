using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Options;
using Monitor.ServiceDefaults.Hosting;
using Monitor.ServiceDefaults.Kafka;

namespace Monitor.PersistentService.Kafka;

/// <summary>Sends messages that can never be written to <c>monitor.samples.dlq</c> with a <c>reason</c> header; completes after the delivery report.</summary>
internal sealed class DeadLetterPublisher : IDisposable
{
    private readonly IProducer<byte[]?, byte[]?> _producer;
    private readonly string _topic;

    public DeadLetterPublisher(IOptions<KafkaOptions> kafka, IOptions<ServiceOptions> service, ILogger<DeadLetterPublisher> logger)
    {
        _topic = kafka.Value.DeadLetterTopic;
        _producer = new ProducerBuilder<byte[]?, byte[]?>(
            KafkaConventions.CreateProducerConfig(kafka.Value, $"persistent-dlq-{service.Value.EffectiveInstanceId}"))
            .SetLogHandler((_, m) => KafkaLog.Forward(logger, m))
            .Build();
    }

    public async Task PublishAsync(ConsumeResult<byte[]?, byte[]?> source, string reason, CancellationToken cancellationToken)
    {
        var headers = new Headers();
        if (source.Message.Headers is not null)
        {
            foreach (var header in source.Message.Headers)
            {
                headers.Add(header.Key, header.GetValueBytes());
            }
        }
        headers.Add(KafkaConventions.ReasonHeader, Encoding.UTF8.GetBytes(reason.Length <= 1000 ? reason : reason[..1000]));
        headers.Add(KafkaConventions.SourceHeader, Encoding.UTF8.GetBytes(source.TopicPartitionOffset.ToString()));
        await _producer.ProduceAsync(_topic, new Message<byte[]?, byte[]?>
        {
            Key = source.Message.Key,
            Value = source.Message.Value,
            Headers = headers,
        }, cancellationToken).ConfigureAwait(false);
    }

    public void Dispose()
    {
        _producer.Flush(TimeSpan.FromSeconds(5));
        _producer.Dispose();
    }
}
