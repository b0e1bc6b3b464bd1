using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace Monitor.ServiceDefaults.Kafka;

/// <summary>Routes librdkafka's own log lines into the service's logger instead of raw stderr.</summary>
public static partial class KafkaLog
{
    /// <summary>Logs one librdkafka message at the matching level.</summary>
    public static void Forward(ILogger logger, LogMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var level = message.Level switch
        {
            SyslogLevel.Emergency or SyslogLevel.Alert or SyslogLevel.Critical => LogLevel.Critical,
            SyslogLevel.Error => LogLevel.Error,
            SyslogLevel.Warning => LogLevel.Warning,
            SyslogLevel.Notice or SyslogLevel.Info => LogLevel.Information,
            _ => LogLevel.Debug,
        };
        Librdkafka(logger, level, message.Name, message.Facility, message.Message);
    }

    [LoggerMessage(EventId = 1101, EventName = "Librdkafka", Message = "librdkafka {Client} {Facility}: {Text}")]
    private static partial void Librdkafka(ILogger logger, LogLevel level, string client, string facility, string text);
}
