using System.Diagnostics.CodeAnalysis;

namespace Monitor.AnalyzeService.Query;

/// <summary>The aggregate applied per step (or per window).</summary>
internal enum AggregateFunction
{
    Mean,
    Min,
    Max,
    Sum,
    Count,
    Last,
    P50,
    P90,
    P95,
    P99,
}

internal static class AggregateFunctions
{
    public const string Names = "mean, min, max, sum, count, last, p50, p90, p95, p99";

    public static bool TryParse(string? text, out AggregateFunction function)
    {
        function = AggregateFunction.Mean;
        switch (text?.Trim().ToLowerInvariant())
        {
            case null or "" or "mean" or "avg":
                return true;
            case "min": function = AggregateFunction.Min; return true;
            case "max": function = AggregateFunction.Max; return true;
            case "sum": function = AggregateFunction.Sum; return true;
            case "count": function = AggregateFunction.Count; return true;
            case "last": function = AggregateFunction.Last; return true;
            case "p50" or "median": function = AggregateFunction.P50; return true;
            case "p90": function = AggregateFunction.P90; return true;
            case "p95": function = AggregateFunction.P95; return true;
            case "p99": function = AggregateFunction.P99; return true;
            default: return false;
        }
    }

    public static string Name(this AggregateFunction function) => function switch
    {
        AggregateFunction.Mean => "mean",
        AggregateFunction.Min => "min",
        AggregateFunction.Max => "max",
        AggregateFunction.Sum => "sum",
        AggregateFunction.Count => "count",
        AggregateFunction.Last => "last",
        AggregateFunction.P50 => "p50",
        AggregateFunction.P90 => "p90",
        AggregateFunction.P95 => "p95",
        AggregateFunction.P99 => "p99",
        _ => throw new ArgumentOutOfRangeException(nameof(function)),
    };

    /// <summary>The InfluxQL expression over raw samples (field <c>value</c>).</summary>
    public static string RawExpression(this AggregateFunction function) => function switch
    {
        AggregateFunction.Mean => "mean(\"value\")",
        AggregateFunction.Min => "min(\"value\")",
        AggregateFunction.Max => "max(\"value\")",
        AggregateFunction.Sum => "sum(\"value\")",
        AggregateFunction.Count => "count(\"value\")",
        AggregateFunction.Last => "last(\"value\")",
        AggregateFunction.P50 => "percentile(\"value\", 50)",
        AggregateFunction.P90 => "percentile(\"value\", 90)",
        AggregateFunction.P95 => "percentile(\"value\", 95)",
        AggregateFunction.P99 => "percentile(\"value\", 99)",
        _ => throw new ArgumentOutOfRangeException(nameof(function)),
    };

    /// <summary>
    /// The InfluxQL expression over rollup rows (fields mean/min/max/sum/count), or <see langword="false"/> when the
    /// function cannot be computed exactly from rollups (last, percentiles).
    /// </summary>
    public static bool TryRollupExpression(this AggregateFunction function, [NotNullWhen(true)] out string? expression)
    {
        expression = function switch
        {
            // The mean of means would weight a half-empty minute like a full one; sum/count is exact.
            AggregateFunction.Mean => "sum(\"sum\") / sum(\"count\")",
            AggregateFunction.Min => "min(\"min\")",
            AggregateFunction.Max => "max(\"max\")",
            AggregateFunction.Sum => "sum(\"sum\")",
            AggregateFunction.Count => "sum(\"count\")",
            _ => null,
        };
        return expression is not null;
    }
}
