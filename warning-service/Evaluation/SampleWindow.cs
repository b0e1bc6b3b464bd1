namespace Monitor.WarningService.Evaluation;

/// <summary>The recent values of one (rule, host) series, trimmed to the rule's window, and their aggregate.</summary>
internal sealed class SampleWindow
{
    private readonly Queue<(long Ms, double Value)> _values = new();

    public int Count => _values.Count;

    public void Add(long ms, double value, long windowMs, int maxSamples)
    {
        _values.Enqueue((ms, value));
        while (_values.Count > maxSamples || (_values.Count > 1 && _values.Peek().Ms < ms - windowMs))
        {
            _values.Dequeue();
        }
    }

    /// <summary>Aggregates the window (<c>last</c>, <c>mean</c>, <c>max</c>, <c>min</c>, <c>p95</c>).</summary>
    public double Aggregate(string aggregation)
    {
        if (_values.Count == 0)
        {
            return double.NaN;
        }
        switch (aggregation)
        {
            case "mean":
                return _values.Average(v => v.Value);
            case "max":
                return _values.Max(v => v.Value);
            case "min":
                return _values.Min(v => v.Value);
            case "p95":
                var sorted = _values.Select(v => v.Value).Order().ToArray();
                // Nearest-rank percentile, as InfluxQL's PERCENTILE() computes it.
                var rank = (int)Math.Ceiling(0.95 * sorted.Length);
                return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
            default:
                return _values.Last().Value;
        }
    }

    /// <summary>Per-second change between the oldest and newest value in the window; NaN with fewer than two.</summary>
    public double RatePerSecond()
    {
        if (_values.Count < 2)
        {
            return double.NaN;
        }
        var first = _values.Peek();
        var last = _values.Last();
        var seconds = (last.Ms - first.Ms) / 1000.0;
        return seconds <= 0 ? double.NaN : (last.Value - first.Value) / seconds;
    }
}
