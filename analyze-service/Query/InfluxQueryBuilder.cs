using System.Globalization;
using System.Text;
using Monitor.Influx;

namespace Monitor.AnalyzeService.Query;

/// <summary>
/// Builds InfluxQL. Identifiers are validated names quoted with <see cref="InfluxQl.QuoteIdentifier"/>; every
/// caller-supplied value (host id, label value) goes through <see cref="InfluxQl.QuoteString"/>; numbers and times are
/// formatted here. Nothing else from a request reaches the text.
/// </summary>
internal sealed class InfluxQueryBuilder(string database, string rollup1mPolicy, string rollup1hPolicy)
{
    public const string HostTag = "host_id";

    public string Source(string metric, Resolution resolution) => resolution switch
    {
        Resolution.Raw => InfluxQl.QuoteIdentifier(InfluxQl.ValidateMetricName(metric)),
        _ => string.Concat(
            InfluxQl.QuoteIdentifier(database), ".",
            InfluxQl.QuoteIdentifier(resolution == Resolution.Rollup1m ? rollup1mPolicy : rollup1hPolicy), ".",
            InfluxQl.QuoteIdentifier(InfluxQl.ValidateMetricName(metric))),
    };

    /// <summary><c>("host_id" = 'a' OR "host_id" = 'b') AND "mount" = '/' AND time &gt;= …ms AND time &lt; …ms</c>.</summary>
    public static string Where(IReadOnlyList<string>? hostIds, IReadOnlyList<LabelMatch> labels, long startMs, long? endMs)
    {
        var where = new StringBuilder();
        if (hostIds is not null)
        {
            if (hostIds.Count == 0)
            {
                throw new ArgumentException("At least one host is required.", nameof(hostIds));
            }
            where.Append('(');
            for (var i = 0; i < hostIds.Count; i++)
            {
                if (i > 0)
                {
                    where.Append(" OR ");
                }
                where.Append("\"host_id\" = ").Append(InfluxQl.QuoteString(hostIds[i]));
            }
            where.Append(") AND ");
        }
        foreach (var label in labels)
        {
            where.Append(InfluxQl.QuoteIdentifier(label.Key)).Append(" = ").Append(InfluxQl.QuoteString(label.Value)).Append(" AND ");
        }
        where.Append("time >= ").Append(InfluxQl.TimeLiteral(startMs));
        if (endMs is { } end)
        {
            where.Append(" AND time < ").Append(InfluxQl.TimeLiteral(end));
        }
        return where.ToString();
    }

    /// <summary>An aggregated series statement for one part of the range.</summary>
    public string Aggregated(string metric, QueryPart part, TimeSpan step, AggregateFunction function, IReadOnlyList<string>? hostIds, IReadOnlyList<LabelMatch> labels, bool splitByLabels)
    {
        var expression = Expression(function, part.Resolution);
        return string.Create(CultureInfo.InvariantCulture,
            $"SELECT {expression} AS \"value\" FROM {Source(metric, part.Resolution)} WHERE {Where(hostIds, labels, part.StartMs, part.EndMs)} GROUP BY time({InfluxQl.DurationLiteral(step)}), {(splitByLabels ? "*" : "\"host_id\"")} fill(none)");
    }

    /// <summary>Raw samples, at most <paramref name="limit"/> per series.</summary>
    public string Raw(string metric, long startMs, long endMs, IReadOnlyList<string>? hostIds, IReadOnlyList<LabelMatch> labels, bool splitByLabels, int limit) =>
        string.Create(CultureInfo.InvariantCulture,
            $"SELECT \"value\" FROM {Source(metric, Resolution.Raw)} WHERE {Where(hostIds, labels, startMs, endMs)} GROUP BY {(splitByLabels ? "*" : "\"host_id\"")} ORDER BY time ASC LIMIT {limit}");

    /// <summary>The last value per host since <paramref name="sinceMs"/>.</summary>
    public string Latest(string metric, long sinceMs, IReadOnlyList<string>? hostIds, IReadOnlyList<LabelMatch> labels) =>
        $"SELECT last(\"value\") AS \"value\" FROM {Source(metric, Resolution.Raw)} WHERE {Where(hostIds, labels, sinceMs, null)} GROUP BY \"host_id\"";

    /// <summary>One aggregate per host over the whole window (sorted and cut to N by the caller).</summary>
    public string PerHost(string metric, long startMs, long endMs, AggregateFunction function, IReadOnlyList<string>? hostIds, IReadOnlyList<LabelMatch> labels) =>
        $"SELECT {function.RawExpression()} AS \"value\" FROM {Source(metric, Resolution.Raw)} WHERE {Where(hostIds, labels, startMs, endMs)} GROUP BY \"host_id\"";

    /// <summary>Per step: the per-host aggregate, then mean/min/max across hosts and the number of hosts.</summary>
    public string LocationRollup(string metric, QueryPart part, TimeSpan step, AggregateFunction function, IReadOnlyList<string> hostIds, IReadOnlyList<LabelMatch> labels)
    {
        var inner = Aggregated(metric, part, step, function, hostIds, labels, splitByLabels: false);
        var stepLiteral = InfluxQl.DurationLiteral(step);
        return string.Create(CultureInfo.InvariantCulture,
            $"SELECT mean(\"value\") AS \"mean\", min(\"value\") AS \"min\", max(\"value\") AS \"max\", count(\"value\") AS \"hosts\" FROM ({inner}) WHERE time >= {InfluxQl.TimeLiteral(part.StartMs)} AND time < {InfluxQl.TimeLiteral(part.EndMs)} GROUP BY time({stepLiteral}) fill(none)");
    }

    public static string ShowMeasurements() => "SHOW MEASUREMENTS LIMIT 100000";

    public static string ShowMeasurementsOfHost(string hostId) =>
        $"SHOW MEASUREMENTS WHERE \"host_id\" = {InfluxQl.QuoteString(hostId)}";

    public static string ShowLabelValues(string metric, string hostId) =>
        $"SHOW TAG VALUES FROM {InfluxQl.QuoteIdentifier(InfluxQl.ValidateMetricName(metric))} WITH KEY != \"host_id\" WHERE \"host_id\" = {InfluxQl.QuoteString(hostId)}";

    /// <summary>The statement the rollup worker runs for one measurement and window range (raw → 1 m).</summary>
    public static string RollupFromRaw(string metric, long startMs, long endMs) =>
        $"SELECT mean(\"value\") AS \"mean\", min(\"value\") AS \"min\", max(\"value\") AS \"max\", sum(\"value\") AS \"sum\", count(\"value\") AS \"count\" FROM {InfluxQl.QuoteIdentifier(InfluxQl.ValidateMetricName(metric))} WHERE time >= {InfluxQl.TimeLiteral(startMs)} AND time < {InfluxQl.TimeLiteral(endMs)} GROUP BY time(1m), * fill(none)";

    /// <summary>The statement the rollup worker runs for one measurement and window range (1 m → 1 h).</summary>
    public string RollupFromMinutes(string metric, long startMs, long endMs) =>
        $"SELECT min(\"min\") AS \"min\", max(\"max\") AS \"max\", sum(\"sum\") AS \"sum\", sum(\"count\") AS \"count\" FROM {Source(metric, Resolution.Rollup1m)} WHERE time >= {InfluxQl.TimeLiteral(startMs)} AND time < {InfluxQl.TimeLiteral(endMs)} GROUP BY time(1h), * fill(none)";

    private static string Expression(AggregateFunction function, Resolution resolution)
    {
        if (resolution == Resolution.Raw)
        {
            return function.RawExpression();
        }
        return function.TryRollupExpression(out var expression)
            ? expression
            : throw new InvalidOperationException($"{function} cannot be computed from rollups.");
    }
}
