using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Monitor.AnalyzeService.Options;

/// <summary>Query limits of the analyze service (section <c>Analyze</c>).</summary>
public sealed class AnalyzeOptions
{
    public const string SectionName = "Analyze";

    /// <summary>Longest time range one query may cover. The default is 800 days.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "3650.00:00:00")]
    public TimeSpan MaxRange { get; set; } = TimeSpan.FromDays(800);

    /// <summary>
    /// Most points (steps) one aggregated series may have: a step smaller than range / MaxPointsPerSeries is refused
    /// with a message naming the smallest allowed step. The default is 11,000 (a day at 10 s, 1 h at 1 s with room).
    /// </summary>
    [Range(10, 1_000_000)]
    public int MaxPointsPerSeries { get; set; } = 11_000;

    /// <summary>Most raw samples returned per series; a longer answer is cut and flagged <c>truncated</c>. The default is 10,000.</summary>
    [Range(1, 1_000_000)]
    public int MaxRawPoints { get; set; } = 10_000;

    /// <summary>Smallest aggregation step. The default is 1 second.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "01:00:00")]
    public TimeSpan MinStep { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How far back "latest value" looks when the caller gives no window. The default is 10 minutes.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "30.00:00:00")]
    public TimeSpan DefaultLatestWindow { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Most hosts a location query may span (they all go into one InfluxQL query). The default is 5,000.</summary>
    [Range(1, 100_000)]
    public int MaxHostsPerQuery { get; set; } = 5_000;

    /// <summary>How long the list of known metrics (measurements) is cached; an unknown name triggers an early refresh. The default is 60 seconds.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan MetricCacheTtl { get; set; } = TimeSpan.FromSeconds(60);
}

[OptionsValidator]
internal sealed partial class AnalyzeOptionsValidator : IValidateOptions<AnalyzeOptions>;
