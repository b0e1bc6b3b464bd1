using System.ComponentModel.DataAnnotations;

namespace Monitor.ServiceDefaults.Kafka;

/// <summary>Kafka connection and topic settings (section <c>Kafka</c>).</summary>
public sealed class KafkaOptions
{
    /// <summary>Configuration section name.</summary>
    public const string SectionName = "Kafka";

    /// <summary>Comma-separated broker list (<c>Kafka__BootstrapServers</c>); shared by producers and consumers.</summary>
    [Required]
    public string BootstrapServers { get; set; } = "";

    /// <summary>Topic carrying one protobuf <c>SampleBatch</c> per message. The default is <c>monitor.samples</c>.</summary>
    [Required]
    [RegularExpression("^[A-Za-z0-9._-]{1,200}$")]
    public string SamplesTopic { get; set; } = "monitor.samples";

    /// <summary>Dead-letter topic for undecodable or rejected messages. The default is <c>monitor.samples.dlq</c>.</summary>
    [Required]
    [RegularExpression("^[A-Za-z0-9._-]{1,200}$")]
    public string DeadLetterTopic { get; set; } = "monitor.samples.dlq";

    /// <summary>Extra librdkafka producer properties (<c>Kafka:Producer:*</c>), applied over Monitor's defaults.</summary>
    public Dictionary<string, string> Producer { get; set; } = [];

    /// <summary>Extra librdkafka consumer properties (<c>Kafka:Consumer:*</c>), applied over Monitor's defaults.</summary>
    public Dictionary<string, string> Consumer { get; set; } = [];
}

[Microsoft.Extensions.Options.OptionsValidator]
internal sealed partial class KafkaOptionsValidator : Microsoft.Extensions.Options.IValidateOptions<KafkaOptions>;
