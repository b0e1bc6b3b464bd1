using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Monitor.WarningService.Options;

/// <summary>Settings of the warning service (section <c>Warning</c>).</summary>
public sealed class WarningOptions
{
    /// <summary>Configuration section name.</summary>
    public const string SectionName = "Warning";

    /// <summary>
    /// etcd prefix under which the manage service announces deleted hosts (<c>Manage:HostDeletedEventPrefix</c>); their
    /// alerts are ended and they are not evaluated while the event exists. The default is <c>/monitor/events/host-deleted</c>.
    /// </summary>
    [Required]
    [RegularExpression("^/[A-Za-z0-9/._-]{1,200}$")]
    public string HostDeletedEventPrefix { get; set; } = "/monitor/events/host-deleted";

    /// <summary>Kafka consumer group shared by all warning instances. The default is <c>monitor-warning</c>.</summary>
    [Required]
    [RegularExpression("^[A-Za-z0-9._-]{1,200}$")]
    public string GroupId { get; set; } = "monitor-warning";

    /// <summary>Apply pending EF Core migrations to <c>ConnectionStrings:Warning</c> at start-up. The default is true.</summary>
    public bool ApplyMigrations { get; set; } = true;

    /// <summary>MariaDB server version given to Pomelo (no auto-detection at start). The default is <c>10.11</c>.</summary>
    [Required]
    [RegularExpression(@"^\d+\.\d+(\.\d+)?$")]
    public string MariaDbVersion { get; set; } = "10.11";

    /// <summary>How often every instance reloads the rules and channels from MySQL. The default is 5 seconds.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "01:00:00")]
    public TimeSpan RuleRefreshInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Longest time evaluated state waits before it is persisted and the offsets committed. The default is 100 milliseconds.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:01:00")]
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Shortest time between two offset commits of the rule-evaluating consumers (each commit is a broker round trip
    /// on the consumer thread); state is still persisted every <see cref="FlushInterval"/>, and offsets are committed
    /// only after the state they cover. The default is 1 second.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan CommitInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Persist and commit after at most this many consumed messages (count). The default is 1000.</summary>
    [Range(1, 1_000_000)]
    public int MaxBatchMessages { get; set; } = 1000;

    /// <summary>How often the notification dispatcher looks for pending notifications and repeats. The default is 200 milliseconds.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:01:00")]
    public TimeSpan DispatchInterval { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>How long a claimed notification stays with the claiming instance before another may take it over. The default is 2 minutes.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan ClaimTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Retries of one failing send after the first attempt (count). The default is 3.</summary>
    [Range(0, 20)]
    public int SendRetries { get; set; } = 3;

    /// <summary>Delay before the first retry of a send; doubles each retry, with jitter. The default is 1 second.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:10:00")]
    public TimeSpan SendRetryInitialDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Timeout of one send attempt (HTTP request or SMTP session). The default is 10 seconds.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan SendTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Consecutive failed sends after which a channel is reported as failing (count). The default is 3.</summary>
    [Range(1, 1000)]
    public int ChannelFailingAfter { get; set; } = 3;

    /// <summary>
    /// Most sends per channel per <see cref="ChannelRateLimitWindow"/> (a minute unless changed), counted across all
    /// instances in MySQL; further notifications wait (count, 0 = unlimited). The default is 60.
    /// </summary>
    [Range(0, 100_000)]
    public int ChannelRateLimitPerMinute { get; set; } = 60;

    /// <summary>The sliding window of <see cref="ChannelRateLimitPerMinute"/>. The default is 1 minute.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan ChannelRateLimitWindow { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Notifications wait this long so that the same transition of one rule on several hosts goes out as one message
    /// (per channel). The default is zero: no grouping, no added latency.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan GroupWindow { get; set; } = TimeSpan.Zero;

    /// <summary>Largest number of values a sample window keeps per (rule, host) (count). The default is 3600.</summary>
    [Range(1, 100_000)]
    public int MaxWindowSamples { get; set; } = 3600;

    /// <summary>How often the elected instance evaluates no-data and across-hosts rules from InfluxDB. The default is 15 seconds.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan ElectedEvaluationInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>TTL of the etcd lease behind the leadership; a dead leader is replaced after at most this. The default is 10 seconds.</summary>
    [Range(typeof(TimeSpan), "00:00:02", "00:10:00")]
    public TimeSpan LeaderLeaseTtl { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>etcd key of the elected evaluator's leadership. The default is <c>/monitor/leaders/warning-evaluator</c>.</summary>
    [Required]
    public string LeaderKey { get; set; } = "/monitor/leaders/warning-evaluator";

    /// <summary>No-data rules know the hosts that reported within this look-back; a host silent for longer is forgotten. The default is 24 hours.</summary>
    [Range(typeof(TimeSpan), "00:00:10", "30.00:00:00")]
    public TimeSpan NoDataLookback { get; set; } = TimeSpan.FromHours(24);

    /// <summary>SMTP server of the <c>legacy-email</c> channel that the original's <c>POST /rule</c> ContactEmail creates. The default is <c>127.0.0.1</c>.</summary>
    [Required]
    public string LegacySmtpHost { get; set; } = "127.0.0.1";

    /// <summary>SMTP port of the <c>legacy-email</c> channel. The default is 25.</summary>
    [Range(1, 65535)]
    public int LegacySmtpPort { get; set; } = 25;

    /// <summary>Sender address of the <c>legacy-email</c> channel. The default is <c>monitor@localhost</c>.</summary>
    [Required]
    public string LegacyEmailFrom { get; set; } = "monitor@localhost";

    /// <summary>Metric names rules may use; a rule naming another metric is rejected (400, field <c>metric</c>).</summary>
    public List<string> KnownMetrics { get; set; } =
    [
        "cpu_rate", "mem_rate", "cpu_core_percent", "cpu_iowait_percent", "cpu_steal_percent", "cpu_system_percent", "cpu_user_percent",
        "disk_free_bytes", "disk_read_bytes_per_second", "disk_used_bytes", "disk_used_percent", "disk_write_bytes_per_second",
        "load1", "load5", "load15", "mem_available_bytes", "mem_cached_bytes", "mem_total_bytes", "mem_used_bytes",
        "net_rx_bytes_per_second", "net_tx_bytes_per_second", "process_count", "swap_total_bytes", "swap_used_bytes", "swap_rate",
        "uptime_seconds", "agent_spool_bytes", "agent_dropped_batches_total", "agent_dropped_samples_total",
        // Monitor's own figures (pseudo-hosts monitor.{kind}.{instance}, docs/observability.md) and the built-in rules' metrics.
        "agent_spool_batches", "monitor_persistence_write_failures", "monitor_persistence_consumer_lag", "monitor_persistence_consumer_lag_sum",
        "monitor_persistence_dead_lettered", "monitor_persistence_lost_below_watermark", "monitor_persistence_write_duration_avg",
        "monitor_report_samples_rejected", "monitor_report_batches_saturated", "monitor_report_inflight", "monitor_report_kafka_produce_duration_avg",
        "monitor_warning_sends", "monitor_warning_detection_latency_avg", "monitor_registry_live_instances",
        "monitor_registry_kinds_without_instances", "monitor_registry_lost_instances",
        // Rule-evaluation lag and the runtime figures services, agents (component=agent) and probers report.
        "monitor_warning_evaluation_lag", "monitor_warning_elected_pass_age", "monitor_process_cpu_percent", "monitor_process_working_set_bytes",
        "monitor_gc_heap_bytes", "monitor_gc_collections", "monitor_gc_pause_seconds", "monitor_threadpool_queue_length", "monitor_exceptions",
    ];
}

[OptionsValidator]
internal sealed partial class WarningOptionsValidator : IValidateOptions<WarningOptions>;
