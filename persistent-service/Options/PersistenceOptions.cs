using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Monitor.PersistentService.Options;

/// <summary>Batching and retry of the Kafka → InfluxDB consumer (section <c>Persistence</c>).</summary>
public sealed class PersistenceOptions
{
    public const string SectionName = "Persistence";

    /// <summary>Kafka consumer group. The default is <c>monitor-persistent</c>.</summary>
    [Required]
    [RegularExpression("^[A-Za-z0-9._-]{1,200}$")]
    public string GroupId { get; set; } = "monitor-persistent";

    /// <summary>Points per InfluxDB write; a batch is written when it reaches this size. The default is 5,000.</summary>
    [Range(1, 1_000_000)]
    public int MaxBatchPoints { get; set; } = 5_000;

    /// <summary>Longest time a consumed point waits before it is written. The default is 1 second.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Batches being written to InfluxDB at once while the next one fills; offsets are committed in order whichever
    /// write finishes first. The default is 1: on the 2-core development machine two per process (four writes at once
    /// against one InfluxDB) drained a backlog 10-20 % slower than one (docs/benchmarks.md, fourth session); raise it
    /// where InfluxDB has cores to spare.
    /// </summary>
    [Range(1, 8)]
    public int MaxWritesInFlight { get; set; } = 1;

    /// <summary>First delay after a failed write; doubles (with jitter) up to <see cref="RetryMaxDelay"/>. The default is 500 ms.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan RetryInitialDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Longest delay between write attempts while InfluxDB is down. The default is 15 seconds.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How long a graceful shutdown may spend writing and committing what was consumed. The default is 10 seconds.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan ShutdownFlushTimeout { get; set; } = TimeSpan.FromSeconds(10);
}

[OptionsValidator]
internal sealed partial class PersistenceOptionsValidator : IValidateOptions<PersistenceOptions>;
