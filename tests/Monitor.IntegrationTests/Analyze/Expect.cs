namespace Monitor.IntegrationTests.Analyze;

/// <summary>Aggregates computed independently of InfluxDB, from the samples the test wrote.</summary>
public static class Expect
{
    public static double Aggregate(string function, IReadOnlyList<double> values) => function switch
    {
        "mean" => values.Sum() / values.Count,
        "min" => values.Min(),
        "max" => values.Max(),
        "sum" => values.Sum(),
        "count" => values.Count,
        "last" => values[^1],
        "p50" => Percentile(values, 50),
        "p90" => Percentile(values, 90),
        "p95" => Percentile(values, 95),
        "p99" => Percentile(values, 99),
        _ => throw new ArgumentOutOfRangeException(nameof(function)),
    };

    /// <summary>InfluxQL's percentile(): nearest rank, index floor(n * p / 100 + 0.5) - 1 of the sorted values.</summary>
    public static double Percentile(IReadOnlyList<double> values, double p)
    {
        var sorted = values.Order().ToList();
        var i = (int)Math.Floor((sorted.Count * p / 100.0) + 0.5) - 1;
        return sorted[Math.Clamp(i, 0, sorted.Count - 1)];
    }

    /// <summary>Per step (aligned to the epoch, as GROUP BY time is): step start → aggregate.</summary>
    public static SortedDictionary<long, double> PerStep(IEnumerable<Written> samples, long stepMs, string function) =>
        new(samples.GroupBy(s => s.TimeMs - (s.TimeMs % stepMs))
            .ToDictionary(g => g.Key, g => Aggregate(function, [.. g.OrderBy(s => s.TimeMs).Select(s => s.Value)])));
}
