using System.Diagnostics;
using Microsoft.Extensions.Options;
using Monitor.AnalyzeService.Extensions;
using Monitor.AnalyzeService.Manage;
using Monitor.AnalyzeService.Options;
using Monitor.Influx;

namespace Monitor.AnalyzeService.Query;

/// <summary>
/// The analyze operations, shared by the gRPC service, the new HTTP API and the original API: validation, location
/// → hosts, resolution choice, InfluxQL, and the shaping of the answer.
/// </summary>
internal sealed class AnalyzeQueryService(
    IInfluxExecutor influx,
    IHostDirectory hosts,
    MetricCatalog catalog,
    RollupCoverage coverage,
    IOptions<AnalyzeOptions> analyzeOptions,
    IOptions<RetentionOptions> retentionOptions,
    IOptions<InfluxOptions> influxOptions,
    AnalyzeMetrics metrics,
    TimeProvider timeProvider)
{
    private readonly InfluxQueryBuilder _builder = new(
        influxOptions.Value.Database, retentionOptions.Value.Rollup1mPolicy, retentionOptions.Value.Rollup1hPolicy);

    private AnalyzeOptions Options => analyzeOptions.Value;

    /// <summary>Records of one host; <paramref name="splitByLabels"/> gives one series per label set (e.g. per cpu).</summary>
    public Task<SeriesResult> HostSeriesAsync(string operation, string? hostId, RangeQuery query, bool splitByLabels, CancellationToken cancellationToken) =>
        MeasureAsync(operation, async () =>
        {
            var host = QueryParsing.HostId(hostId);
            return await SeriesAsync([host], query, splitByLabels, allowRaw: true, cancellationToken).ConfigureAwait(false);
        });

    /// <summary>Records of every host of a location, one series per host, in one InfluxQL query.</summary>
    public Task<SeriesResult> LocationSeriesAsync(string operation, string? location, RangeQuery query, bool allowRaw, CancellationToken cancellationToken) =>
        MeasureAsync(operation, async () =>
        {
            var name = QueryParsing.Location(location);
            var metric = await MetricAsync(query.Metric, cancellationToken).ConfigureAwait(false);
            var hostIds = await hosts.HostsOfAsync(name, cancellationToken).ConfigureAwait(false);
            return await SeriesAsync(hostIds, query with { Metric = metric }, splitByLabels: false, allowRaw, cancellationToken).ConfigureAwait(false);
        });

    public Task<IReadOnlyList<HostValue>> LatestAsync(string? metricText, string? location, TimeSpan? window, IReadOnlyList<LabelMatch> labels, CancellationToken cancellationToken) =>
        MeasureAsync("latest", async () =>
        {
            var metric = await MetricAsync(metricText, cancellationToken).ConfigureAwait(false);
            var hostIds = string.IsNullOrEmpty(location) ? null : await hosts.HostsOfAsync(QueryParsing.Location(location), cancellationToken).ConfigureAwait(false);
            var span = window ?? Options.DefaultLatestWindow;
            if (span <= TimeSpan.Zero || span > Options.MaxRange)
            {
                throw new AnalyzeValidationException("window", $"must be between 1 ms and {Options.MaxRange}.");
            }
            var since = (timeProvider.GetUtcNow() - span).ToUnixTimeMilliseconds();
            var result = await influx.QueryAsync("latest", _builder.Latest(metric, since, hostIds, QueryParsing.Labels(labels)), cancellationToken).ConfigureAwait(false);
            return (IReadOnlyList<HostValue>)PerHostValues(result).OrderBy(v => v.HostId, StringComparer.Ordinal).ToList();
        });

    public Task<TopResult> TopAsync(string? metricText, string? location, DateTimeOffset? start, DateTimeOffset? end, string? functionText, int? limit, bool ascending, IReadOnlyList<LabelMatch> labels, CancellationToken cancellationToken) =>
        MeasureAsync("top", async () =>
        {
            var metric = await MetricAsync(metricText, cancellationToken).ConfigureAwait(false);
            var function = QueryParsing.Function(functionText);
            var n = limit ?? 10;
            if (n is < 1 or > 1000)
            {
                throw new AnalyzeValidationException("limit", "must be between 1 and 1000.");
            }
            var now = timeProvider.GetUtcNow();
            var (s, e) = QueryParsing.Range(start, end, now, Options);
            var hostIds = string.IsNullOrEmpty(location) ? null : await hosts.HostsOfAsync(QueryParsing.Location(location), cancellationToken).ConfigureAwait(false);
            var statement = _builder.PerHost(metric, s.ToUnixTimeMilliseconds(), e.ToUnixTimeMilliseconds(), function, hostIds, QueryParsing.Labels(labels));
            var result = await influx.QueryAsync("top", statement, cancellationToken).ConfigureAwait(false);
            var values = PerHostValues(result);
            var ordered = ascending
                ? values.OrderBy(v => v.Value).ThenBy(v => v.HostId, StringComparer.Ordinal)
                : values.OrderByDescending(v => v.Value).ThenBy(v => v.HostId, StringComparer.Ordinal);
            return new TopResult([.. ordered.Take(n).Select(v => v with { TimestampMs = s.ToUnixTimeMilliseconds() })], Resolution.Raw);
        });

    public Task<RollupResult> LocationRollupAsync(string? location, RangeQuery query, CancellationToken cancellationToken) =>
        MeasureAsync("location_rollup", async () =>
        {
            var name = QueryParsing.Location(location);
            var metric = await MetricAsync(query.Metric, cancellationToken).ConfigureAwait(false);
            var function = QueryParsing.Function(query.Function);
            var labels = QueryParsing.Labels(query.Labels);
            var now = timeProvider.GetUtcNow();
            var (s, e) = QueryParsing.Range(query.Start, query.End, now, Options);
            var step = QueryParsing.Step(query.Step ?? throw new AnalyzeValidationException("step", "is required (e.g. 1m)."), s, e, Options);
            var hostIds = await hosts.HostsOfAsync(name, cancellationToken).ConfigureAwait(false);
            var parts = QueryPlanner.Plan(s.ToUnixTimeMilliseconds(), e.ToUnixTimeMilliseconds(), step, function, now.ToUnixTimeMilliseconds(), retentionOptions.Value, coverage);
            var statement = string.Join("; ", parts.Select(p => _builder.LocationRollup(metric, p, step, function, hostIds, labels)));
            var result = await influx.QueryAsync("location_rollup", statement, cancellationToken).ConfigureAwait(false);
            var points = new List<RollupPoint>();
            foreach (var series in result.Series)
            {
                var (t, mean, min, max, count) = (series.GetColumnIndex("time"), series.GetColumnIndex("mean"), series.GetColumnIndex("min"), series.GetColumnIndex("max"), series.GetColumnIndex("hosts"));
                for (var row = 0; row < series.RowCount; row++)
                {
                    if (series.GetInt64(row, t) is { } time && series.GetDouble(row, mean) is { } m)
                    {
                        points.Add(new RollupPoint(time, m, series.GetDouble(row, min) ?? m, series.GetDouble(row, max) ?? m, (int)(series.GetInt64(row, count) ?? 0)));
                    }
                }
            }
            return new RollupResult(points, parts[0].Resolution, step, hostIds.Count);
        });

    public Task<IReadOnlyList<string>> MetricsOfHostAsync(string? hostId, CancellationToken cancellationToken) =>
        MeasureAsync("list_metrics", async () =>
        {
            var host = QueryParsing.HostId(hostId);
            var result = await influx.QueryAsync("list_metrics", InfluxQueryBuilder.ShowMeasurementsOfHost(host), cancellationToken).ConfigureAwait(false);
            var names = new SortedSet<string>(StringComparer.Ordinal);
            foreach (var series in result.Series)
            {
                for (var row = 0; row < series.RowCount; row++)
                {
                    if (series.GetString(row, 0) is { } name)
                    {
                        names.Add(name);
                    }
                }
            }
            return (IReadOnlyList<string>)[.. names];
        });

    public Task<IReadOnlyList<LabelValues>> LabelValuesAsync(string? hostId, string? metricText, CancellationToken cancellationToken) =>
        MeasureAsync("list_labels", async () =>
        {
            var host = QueryParsing.HostId(hostId);
            var metric = await MetricAsync(metricText, cancellationToken).ConfigureAwait(false);
            var result = await influx.QueryAsync("list_labels", InfluxQueryBuilder.ShowLabelValues(metric, host), cancellationToken).ConfigureAwait(false);
            var byKey = new SortedDictionary<string, SortedSet<string>>(StringComparer.Ordinal);
            foreach (var series in result.Series)
            {
                var (k, v) = (series.GetColumnIndex("key"), series.GetColumnIndex("value"));
                for (var row = 0; row < series.RowCount; row++)
                {
                    if (series.GetString(row, k) is { } key && series.GetString(row, v) is { } value)
                    {
                        if (!byKey.TryGetValue(key, out var set))
                        {
                            byKey[key] = set = new SortedSet<string>(StringComparer.Ordinal);
                        }
                        set.Add(value);
                    }
                }
            }
            return (IReadOnlyList<LabelValues>)[.. byKey.Select(p => new LabelValues(p.Key, [.. p.Value]))];
        });

    private async Task<SeriesResult> SeriesAsync(IReadOnlyList<string> hostIds, RangeQuery query, bool splitByLabels, bool allowRaw, CancellationToken cancellationToken)
    {
        var metric = await MetricAsync(query.Metric, cancellationToken).ConfigureAwait(false);
        var function = QueryParsing.Function(query.Function);
        var labels = QueryParsing.Labels(query.Labels);
        var now = timeProvider.GetUtcNow();
        var (start, end) = QueryParsing.Range(query.Start, query.End, now, Options);
        var (startMs, endMs) = (start.ToUnixTimeMilliseconds(), end.ToUnixTimeMilliseconds());

        if (query.Step is not { } requestedStep)
        {
            if (!allowRaw)
            {
                throw new AnalyzeValidationException("step", "is required (e.g. 1m).");
            }
            var limit = Options.MaxRawPoints;
            var raw = await influx.QueryAsync("series_raw", _builder.Raw(metric, startMs, endMs, hostIds, labels, splitByLabels, limit + 1), cancellationToken).ConfigureAwait(false);
            var rawSeries = ReadSeries(raw, "value");
            var truncated = false;
            foreach (var series in rawSeries)
            {
                if (series.Points.Count > limit)
                {
                    series.Points.RemoveRange(limit, series.Points.Count - limit);
                    truncated = true;
                }
            }
            return new SeriesResult(metric, rawSeries, Resolution.Raw, null, truncated, hostIds, start, end);
        }

        var step = QueryParsing.Step(requestedStep, start, end, Options);
        var parts = QueryPlanner.Plan(startMs, endMs, step, function, now.ToUnixTimeMilliseconds(), retentionOptions.Value, coverage);
        var statement = string.Join("; ", parts.Select(p => _builder.Aggregated(metric, p, step, function, hostIds, labels, splitByLabels)));
        var result = await influx.QueryAsync("series", statement, cancellationToken).ConfigureAwait(false);
        return new SeriesResult(metric, ReadSeries(result, "value"), parts[0].Resolution, step, false, hostIds, start, end);
    }

    private async Task<string> MetricAsync(string? text, CancellationToken cancellationToken)
    {
        var metric = QueryParsing.Metric(text);
        await catalog.RequireAsync(metric, "metric", cancellationToken).ConfigureAwait(false);
        return metric;
    }

    /// <summary>Series of every statement, merged by tag set (a rollup part and its raw tail become one series).</summary>
    private static List<SeriesData> ReadSeries(InfluxQueryResult result, string column)
    {
        var merged = new Dictionary<string, SeriesData>(StringComparer.Ordinal);
        foreach (var series in result.Series)
        {
            var labels = new SortedDictionary<string, string>(StringComparer.Ordinal);
            foreach (var (key, value) in series.Tags)
            {
                if (key != InfluxQueryBuilder.HostTag && !string.IsNullOrEmpty(value))
                {
                    labels[key] = value;
                }
            }
            var host = series.Tags.TryGetValue(InfluxQueryBuilder.HostTag, out var h) ? h : string.Empty;
            var id = host + "\0" + string.Join("\0", labels.Select(p => p.Key + "=" + p.Value));
            if (!merged.TryGetValue(id, out var data))
            {
                merged[id] = data = new SeriesData(host, labels, new List<DataPoint>(series.RowCount));
            }
            var (t, v) = (series.GetColumnIndex("time"), series.GetColumnIndex(column));
            for (var row = 0; row < series.RowCount; row++)
            {
                if (series.GetInt64(row, t) is { } time && series.GetDouble(row, v) is { } value)
                {
                    data.Points.Add(new DataPoint(time, value));
                }
            }
        }
        return [.. merged.Values.OrderBy(s => s.HostId, StringComparer.Ordinal).ThenBy(s => string.Join(",", s.Labels), StringComparer.Ordinal)];
    }

    private static List<HostValue> PerHostValues(InfluxQueryResult result)
    {
        var values = new List<HostValue>();
        foreach (var series in result.Series)
        {
            if (!series.Tags.TryGetValue(InfluxQueryBuilder.HostTag, out var host) || series.RowCount == 0)
            {
                continue;
            }
            var (t, v) = (series.GetColumnIndex("time"), series.GetColumnIndex("value"));
            if (series.GetDouble(0, v) is { } value)
            {
                values.Add(new HostValue(host, value, series.GetInt64(0, t) ?? 0));
            }
        }
        return values;
    }

    private async Task<T> MeasureAsync<T>(string operation, Func<Task<T>> action)
    {
        var started = Stopwatch.GetTimestamp();
        var outcome = "error";
        try
        {
            var result = await action().ConfigureAwait(false);
            outcome = "ok";
            return result;
        }
        catch (AnalyzeValidationException)
        {
            outcome = "invalid";
            throw;
        }
        catch (AnalyzeNotFoundException)
        {
            outcome = "not_found";
            throw;
        }
        catch (AnalyzeUnavailableException)
        {
            outcome = "unavailable";
            throw;
        }
        finally
        {
            metrics.Query(operation, outcome, Stopwatch.GetElapsedTime(started));
        }
    }
}
