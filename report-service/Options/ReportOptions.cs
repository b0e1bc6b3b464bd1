using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Monitor.ReportService.Options;

/// <summary>Validation limits and back-pressure of the report service (section <c>Report</c>).</summary>
public sealed class ReportOptions
{
    public const string SectionName = "Report";

    /// <summary>Longest accepted host id, characters. The default is 128.</summary>
    [Range(1, 1024)]
    public int MaxHostIdLength { get; set; } = 128;

    /// <summary>Most samples in one batch; a larger batch is rejected whole. The default is 10,000.</summary>
    [Range(1, 1_000_000)]
    public int MaxSamplesPerBatch { get; set; } = 10_000;

    /// <summary>Longest metric name, characters. The default is 128.</summary>
    [Range(1, 1024)]
    public int MaxMetricNameLength { get; set; } = 128;

    /// <summary>Most labels on one sample. The default is 16.</summary>
    [Range(0, 256)]
    public int MaxLabelsPerSample { get; set; } = 16;

    /// <summary>Longest label key, characters. The default is 64.</summary>
    [Range(1, 1024)]
    public int MaxLabelKeyLength { get; set; } = 64;

    /// <summary>Longest label value, characters. The default is 256.</summary>
    [Range(1, 4096)]
    public int MaxLabelValueLength { get; set; } = 256;

    /// <summary>Longest free-text <c>message</c> of a sample, characters. The default is 1,024.</summary>
    [Range(0, 65_536)]
    public int MaxMessageLength { get; set; } = 1_024;

    /// <summary>Most distinct series (metric + label set) per host; samples of further series are rejected. The default is 5,000.</summary>
    [Range(1, 10_000_000)]
    public int MaxSeriesPerHost { get; set; } = 5_000;

    /// <summary>
    /// Oldest accepted sample, relative to the report service's clock. Generous by default so that
    /// an agent replaying its spool after a long outage loses nothing. The default is 7 days.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "3650.00:00:00")]
    public TimeSpan MaxSampleAge { get; set; } = TimeSpan.FromDays(7);

    /// <summary>How far in the future a sample's timestamp may lie. The default is 10 minutes.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan MaxFutureSkew { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Agent clock skew beyond which the ack flags the agent as skewed. The default is 5 seconds.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan SkewWarningThreshold { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Most batches in flight to Kafka across all streams of this instance. The default is 1,024.</summary>
    [Range(1, 1_000_000)]
    public int MaxInFlightBatches { get; set; } = 1_024;

    /// <summary>Most batches in flight on one stream before the service stops reading from it. The default is 64.</summary>
    [Range(1, 10_000)]
    public int MaxInFlightPerStream { get; set; } = 64;

    /// <summary>How long a batch may wait for an in-flight slot before the call fails with ResourceExhausted. The default is 5 seconds.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan SaturationTimeout { get; set; } = TimeSpan.FromSeconds(5);
}

[OptionsValidator]
internal sealed partial class ReportOptionsValidator : IValidateOptions<ReportOptions>;
