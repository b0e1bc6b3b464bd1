using System.Globalization;
using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Monitor.Prober.Probes;

/// <summary>
/// Lag of a consumer group: for every partition of the configured topics, the high watermark minus
/// the group's committed offset (read with OffsetFetch; the prober never joins the group). A
/// partition the group never committed reports -1 (unknown); the total sums the known lags and is
/// -1 when no partition has a commit. librdkafka's calls block, so the run happens on a pool
/// thread and the runner's deadline abandons it if the cluster does not answer.
/// </summary>
internal sealed class KafkaLagProbe(KafkaLagProbeConfig config, TimeSpan timeout) : IProbe
{
    public Task<ProbeResult> RunAsync(CancellationToken cancellationToken) => Task.Run(() => Run(cancellationToken), cancellationToken);

    private ProbeResult Run(CancellationToken cancellationToken)
    {
        var settings = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["bootstrap.servers"] = config.BootstrapServers!,
            ["group.id"] = config.GroupId!,
            ["enable.auto.commit"] = "false",
            ["client.id"] = "monitor-prober",
            ["socket.timeout.ms"] = Math.Max(100, (int)timeout.TotalMilliseconds).ToString(CultureInfo.InvariantCulture),
            ["log_level"] = "3",
        };
        if (config.SaslUsername.Length > 0)
        {
            settings["security.protocol"] = "SASL_PLAINTEXT";
            settings["sasl.mechanism"] = "PLAIN";
            settings["sasl.username"] = config.SaslUsername;
            settings["sasl.password"] = config.SaslPassword;
        }
        var call = TimeSpan.FromMilliseconds(Math.Max(100, timeout.TotalMilliseconds * 0.8));
        var metrics = new List<ProbeMetric>();
        try
        {
            using var admin = new AdminClientBuilder(settings.Where(kv => kv.Key is not ("group.id" or "enable.auto.commit")))
                .SetLogHandler(static (_, _) => { })
                .Build();
            var topics = config.Topics.Count > 0 ? config.Topics : CommittedTopics(admin, call);
            if (topics.Count == 0)
            {
                metrics.Add(new("probe_kafka_lag_total", -1));
                return ProbeResult.Ok(metrics, [$"group {config.GroupId} has committed no offset and no topics are configured: lag unknown (-1)"]);
            }
            var partitions = new List<TopicPartition>();
            foreach (var topic in topics)
            {
                var meta = admin.GetMetadata(topic, call).Topics.FirstOrDefault(t => t.Topic == topic);
                if (meta is null || meta.Error.IsError || meta.Partitions.Count == 0)
                {
                    return ProbeResult.Fail(ProbeFailure.Status, $"topic {topic} not found ({meta?.Error.Reason ?? "no metadata"})");
                }
                partitions.AddRange(meta.Partitions.Select(p => new TopicPartition(topic, p.PartitionId)));
            }
            cancellationToken.ThrowIfCancellationRequested();
            using var consumer = new ConsumerBuilder<Ignore, Ignore>(settings).SetLogHandler(static (_, _) => { }).Build();
            var committed = consumer.Committed(partitions, call).ToDictionary(c => c.TopicPartition, c => c.Offset);
            long total = 0;
            var known = 0;
            foreach (var tp in partitions.OrderBy(p => p.Topic, StringComparer.Ordinal).ThenBy(p => p.Partition.Value))
            {
                cancellationToken.ThrowIfCancellationRequested();
                var high = consumer.QueryWatermarkOffsets(tp, call).High;
                long lag = -1;
                if (committed.TryGetValue(tp, out var offset) && offset.Value >= 0)
                {
                    lag = Math.Max(0, high.Value - offset.Value);
                    total += lag;
                    known++;
                }
                metrics.Add(new("probe_kafka_lag", lag, new Dictionary<string, string>
                {
                    ["topic"] = tp.Topic,
                    ["partition"] = tp.Partition.Value.ToString(CultureInfo.InvariantCulture),
                }));
            }
            var totalLag = known == 0 ? -1 : total;
            metrics.Add(new("probe_kafka_lag_total", totalLag));
            metrics.Add(new("probe_kafka_partitions_uncommitted", partitions.Count - known));
            var warnings = new List<string>();
            if (known < partitions.Count)
            {
                warnings.Add($"group {config.GroupId} has no committed offset on {partitions.Count - known} of {partitions.Count} partition(s): lag unknown (-1)");
            }
            return ProbeResult.Ok(metrics, warnings);
        }
        catch (Exception ex) when (ex is KafkaException or AggregateException { InnerException: KafkaException })
        {
            var error = ex is KafkaException k ? k.Error : ((KafkaException)ex.InnerException!).Error;
            var failure = error.Code switch
            {
                ErrorCode.Local_TimedOut or ErrorCode.RequestTimedOut => ProbeFailure.Timeout,
                ErrorCode.Local_Transport or ErrorCode.Local_AllBrokersDown => ProbeFailure.Refused,
                ErrorCode.Local_Resolve => ProbeFailure.Dns,
                ErrorCode.SaslAuthenticationFailed or ErrorCode.Local_Authentication or ErrorCode.GroupAuthorizationFailed
                    or ErrorCode.TopicAuthorizationFailed => ProbeFailure.Auth,
                ErrorCode.Local_Ssl => ProbeFailure.Tls,
                _ => ProbeFailure.Error,
            };
            return ProbeResult.Fail(failure, $"Kafka: {error.Reason}", metrics);
        }
    }

    /// <summary>The topics the group has committed offsets on (OffsetFetch for all partitions).</summary>
    private List<string> CommittedTopics(IAdminClient admin, TimeSpan timeout)
    {
        var request = new[] { new ConsumerGroupTopicPartitions(config.GroupId, null) };
        var result = admin.ListConsumerGroupOffsetsAsync(request, new ListConsumerGroupOffsetsOptions { RequestTimeout = timeout })
            .GetAwaiter().GetResult();
        return result.SelectMany(g => g.Partitions).Where(p => p.Offset.Value >= 0).Select(p => p.Topic)
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
    }
}
