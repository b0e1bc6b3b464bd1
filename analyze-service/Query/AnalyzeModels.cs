namespace Monitor.AnalyzeService.Query;

/// <summary>The common parameters of a range query, as the caller sent them (validated by <see cref="AnalyzeQueryService"/>).</summary>
internal sealed record RangeQuery(
    string? Metric,
    DateTimeOffset? Start,
    DateTimeOffset? End,
    TimeSpan? Step,
    string? Function,
    IReadOnlyList<LabelMatch> Labels);

internal readonly record struct DataPoint(long TimestampMs, double Value);

internal sealed record SeriesData(string HostId, IReadOnlyDictionary<string, string> Labels, List<DataPoint> Points);

internal sealed record SeriesResult(
    string Metric,
    IReadOnlyList<SeriesData> Series,
    Resolution Resolution,
    TimeSpan? Step,
    bool Truncated,
    IReadOnlyList<string> HostIds,
    DateTimeOffset Start,
    DateTimeOffset End)
{
    public int HostCount => HostIds.Count;
}

internal sealed record HostValue(string HostId, double Value, long TimestampMs);

internal sealed record TopResult(IReadOnlyList<HostValue> Hosts, Resolution Resolution);

internal sealed record RollupPoint(long TimestampMs, double Mean, double Min, double Max, int HostCount);

internal sealed record RollupResult(IReadOnlyList<RollupPoint> Points, Resolution Resolution, TimeSpan Step, int HostCount);

internal sealed record LabelValues(string Key, IReadOnlyList<string> Values);
