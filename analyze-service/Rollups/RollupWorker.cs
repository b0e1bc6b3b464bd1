using System.Globalization;
using Microsoft.Extensions.Options;
using Monitor.AnalyzeService.Extensions;
using Monitor.AnalyzeService.Options;
using Monitor.AnalyzeService.Query;
using Monitor.Influx;

namespace Monitor.AnalyzeService.Rollups;

/// <summary>
/// Retention and rollups computed by Monitor itself, so they work wherever the v1 <c>/query</c> and <c>/write</c>
/// endpoints do (InfluxDB 1.x natively, 2.x/3.x through their compatibility API): every completed minute is
/// aggregated per series (mean/min/max/sum/count) and written back with the line-protocol writer into the
/// <c>rollup_1m</c> retention policy under the same measurement name; every completed hour is computed from those
/// minutes into <c>rollup_1h</c>. Writes are idempotent, so repeating a window (restart, several instances) is safe.
/// </summary>
internal sealed partial class RollupWorker(
    IInfluxExecutor influx,
    RollupWriters writers,
    RollupCoverage coverage,
    IOptions<RetentionOptions> options,
    IOptions<InfluxOptions> influxOptions,
    AnalyzeMetrics metrics,
    TimeProvider timeProvider,
    ILogger<RollupWorker> logger) : BackgroundService
{
    private const long MinuteMs = 60_000;
    private const long HourMs = 3_600_000;
    // Windows per statement while catching up; bounds the size of one answer (series x windows).
    private const long MaxMinutesPerChunk = 30;
    private const long MaxHoursPerChunk = 24;

    private readonly InfluxQueryBuilder _builder = new(influxOptions.Value.Database, options.Value.Rollup1mPolicy, options.Value.Rollup1hPolicy);
    private long? _next1m;
    private long? _next1h;
    private long _from1m;
    private long _from1h;
    private bool _policiesReady;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (!settings.RollupsEnabled)
        {
            Log.RollupsDisabled(logger);
            return;
        }
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (!_policiesReady)
                {
                    try
                    {
                        await EnsureRetentionPoliciesAsync(stoppingToken).ConfigureAwait(false);
                    }
                    catch (InfluxQueryException ex) when (!ex.IsTransient)
                    {
                        // No admin rights, or an InfluxDB without retention-policy statements (3.x): rollups still work
                        // as long as the policies (buckets) exist, so carry on and say what to do.
                        Log.RetentionNotApplied(logger, ex.ServerError ?? ex.Message);
                    }
                    _policiesReady = true;
                }
                await RunOnceAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex) when (ex is AnalyzeUnavailableException or InfluxQueryException or InfluxWriteException)
            {
                metrics.RollupFailed();
                Log.RollupFailed(logger, ex.Message, ex);
            }
            try
            {
                await Task.Delay(settings.RollupInterval, timeProvider, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    /// <summary>Creates the rollup retention policies and sets the raw retention (InfluxDB 1.x only; see <see cref="RetentionOptions.ManageRetentionPolicies"/>).</summary>
    internal async Task EnsureRetentionPoliciesAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (!settings.ManageRetentionPolicies)
        {
            return;
        }
        var db = InfluxQl.QuoteIdentifier(influxOptions.Value.Database);
        var existing = await influx.QueryAsync("retention", $"SHOW RETENTION POLICIES ON {db}", cancellationToken).ConfigureAwait(false);
        var policies = new Dictionary<string, bool>(StringComparer.Ordinal);
        foreach (var series in existing.Series)
        {
            var (name, isDefault) = (series.GetColumnIndex("name"), series.GetColumnIndex("default"));
            for (var row = 0; row < series.RowCount; row++)
            {
                if (series.GetString(row, name) is { } n)
                {
                    policies[n] = series.GetValue(row, isDefault) is { ValueKind: System.Text.Json.JsonValueKind.True };
                }
            }
        }

        var statements = new List<string>();
        var rawPolicy = influxOptions.Value.RetentionPolicy is { Length: > 0 } configured ? configured : policies.FirstOrDefault(p => p.Value).Key;
        if (rawPolicy is not null)
        {
            statements.Add($"ALTER RETENTION POLICY {InfluxQl.QuoteIdentifier(rawPolicy)} ON {db} DURATION {Duration(settings.RawRetention)} SHARD DURATION {ShardDuration(settings.RawRetention)}");
        }
        foreach (var (policy, duration) in new[] { (settings.Rollup1mPolicy, settings.Rollup1mRetention), (settings.Rollup1hPolicy, settings.Rollup1hRetention) })
        {
            var verb = policies.ContainsKey(policy) ? "ALTER" : "CREATE";
            var replication = verb == "CREATE" ? " REPLICATION 1" : string.Empty;
            statements.Add($"{verb} RETENTION POLICY {InfluxQl.QuoteIdentifier(policy)} ON {db} DURATION {Duration(duration)}{replication} SHARD DURATION {ShardDuration(duration)}");
        }
        await influx.QueryAsync("retention", string.Join("; ", statements), cancellationToken).ConfigureAwait(false);
        Log.RetentionApplied(logger, rawPolicy ?? "(none)", settings.RawRetention, settings.Rollup1mRetention, settings.Rollup1hRetention);
    }

    /// <summary>Rolls up every completed window not yet done; returns the number of rollup rows written.</summary>
    internal async Task<long> RunOnceAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var now = timeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        var ready = now - (long)settings.RollupLag.TotalMilliseconds;
        var backfillFrom = now - (long)settings.RollupBackfill.TotalMilliseconds;
        var written = 0L;

        var measurements = await MeasurementsAsync(cancellationToken).ConfigureAwait(false);

        var minuteEnd = QueryPlanner.FloorTo(ready, MinuteMs);
        if (_next1m is null)
        {
            _next1m = _from1m = QueryPlanner.FloorTo(backfillFrom, MinuteMs);
        }
        while (_next1m < minuteEnd)
        {
            var chunkEnd = Math.Min(minuteEnd, _next1m.Value + (MaxMinutesPerChunk * MinuteMs));
            foreach (var metric in measurements)
            {
                var result = await influx.QueryAsync("rollup", InfluxQueryBuilder.RollupFromRaw(metric, _next1m.Value, chunkEnd), cancellationToken).ConfigureAwait(false);
                written += await WriteAsync(writers.Minute, metric, result, fromMinutes: false, cancellationToken).ConfigureAwait(false);
            }
            _next1m = chunkEnd;
            coverage.Set(Resolution.Rollup1m, _from1m, chunkEnd);
            metrics.RollupWatermark(chunkEnd);
        }

        // Hours are built from finished minutes only.
        var hourEnd = QueryPlanner.FloorTo(_next1m.Value, HourMs);
        if (_next1h is null)
        {
            _next1h = _from1h = QueryPlanner.FloorTo(_from1m + HourMs - 1, HourMs);
        }
        while (_next1h < hourEnd)
        {
            var chunkEnd = Math.Min(hourEnd, _next1h.Value + (MaxHoursPerChunk * HourMs));
            foreach (var metric in measurements)
            {
                var result = await influx.QueryAsync("rollup", _builder.RollupFromMinutes(metric, _next1h.Value, chunkEnd), cancellationToken).ConfigureAwait(false);
                written += await WriteAsync(writers.Hour, metric, result, fromMinutes: true, cancellationToken).ConfigureAwait(false);
            }
            _next1h = chunkEnd;
            coverage.Set(Resolution.Rollup1h, _from1h, chunkEnd);
        }
        return written;
    }

    private async Task<List<string>> MeasurementsAsync(CancellationToken cancellationToken)
    {
        var result = await influx.QueryAsync("rollup", InfluxQueryBuilder.ShowMeasurements(), cancellationToken).ConfigureAwait(false);
        var names = new List<string>();
        foreach (var series in result.Series)
        {
            for (var row = 0; row < series.RowCount; row++)
            {
                if (series.GetString(row, 0) is { } name && InfluxQl.IsValidMetricName(name))
                {
                    names.Add(name);
                }
            }
        }
        return names;
    }

    private async Task<long> WriteAsync(InfluxWriter writer, string metric, InfluxQueryResult result, bool fromMinutes, CancellationToken cancellationToken)
    {
        var batch = new LineProtocolBuilder();
        var rows = 0L;
        foreach (var series in result.Series)
        {
            var tags = series.Tags.Where(t => !string.IsNullOrEmpty(t.Value)).OrderBy(t => t.Key, StringComparer.Ordinal).ToArray();
            var (t, min, max, sum, count) = (series.GetColumnIndex("time"), series.GetColumnIndex("min"), series.GetColumnIndex("max"), series.GetColumnIndex("sum"), series.GetColumnIndex("count"));
            var mean = series.GetColumnIndex("mean");
            for (var row = 0; row < series.RowCount; row++)
            {
                if (series.GetInt64(row, t) is not { } time || series.GetInt64(row, count) is not { } n || n == 0
                    || series.GetDouble(row, sum) is not { } total)
                {
                    continue;
                }
                var average = fromMinutes || mean < 0 ? total / n : series.GetDouble(row, mean) ?? total / n;
                // One line per field: InfluxDB merges the fields of lines with the same series and timestamp into one point.
                batch.AppendPointSorted(metric, tags, "mean", average, time);
                batch.AppendPointSorted(metric, tags, "min", series.GetDouble(row, min) ?? average, time);
                batch.AppendPointSorted(metric, tags, "max", series.GetDouble(row, max) ?? average, time);
                batch.AppendPointSorted(metric, tags, "sum", total, time);
                batch.AppendPointSorted(metric, tags, "count", n, time);
                rows++;
                if (batch.PointCount >= 25_000)
                {
                    await writer.WriteAsync(batch, cancellationToken).ConfigureAwait(false);
                    batch.Reset();
                }
            }
        }
        await writer.WriteAsync(batch, cancellationToken).ConfigureAwait(false);
        metrics.RollupPoints(fromMinutes ? "rollup_1h" : "rollup_1m", rows);
        return rows;
    }

    private static string Duration(TimeSpan duration) =>
        string.Create(CultureInfo.InvariantCulture, $"{(long)Math.Ceiling(duration.TotalHours)}h");

    // InfluxDB's own defaults: 1 h shards below 2 days of retention, 1 d up to 6 months, 7 d beyond.
    private static string ShardDuration(TimeSpan retention) =>
        retention < TimeSpan.FromDays(2) ? "1h" : retention <= TimeSpan.FromDays(183) ? "1d" : "7d";

    private static partial class Log
    {
        [LoggerMessage(EventId = 5103, EventName = "RetentionNotApplied", Level = LogLevel.Warning,
            Message = "Could not create or alter the retention policies ({Reason}); create them yourself (see docs/analyze.md) or set Retention:ManageRetentionPolicies=false")]
        public static partial void RetentionNotApplied(ILogger logger, string reason);

        [LoggerMessage(EventId = 5100, EventName = "RollupsDisabled", Level = LogLevel.Information,
            Message = "Rollups are disabled (Retention:RollupsEnabled=false); queries read raw samples only")]
        public static partial void RollupsDisabled(ILogger logger);

        [LoggerMessage(EventId = 5101, EventName = "RollupFailed", Level = LogLevel.Warning,
            Message = "A rollup pass failed and will be retried: {Reason}")]
        public static partial void RollupFailed(ILogger logger, string reason, Exception exception);

        [LoggerMessage(EventId = 5102, EventName = "RetentionApplied", Level = LogLevel.Information,
            Message = "Retention applied: raw policy {RawPolicy} {RawRetention}, 1 m rollups {Rollup1m}, 1 h rollups {Rollup1h}")]
        public static partial void RetentionApplied(ILogger logger, string rawPolicy, TimeSpan rawRetention, TimeSpan rollup1m, TimeSpan rollup1h);
    }
}

/// <summary>Line-protocol writers aimed at the two rollup retention policies.</summary>
internal sealed class RollupWriters(InfluxWriter minute, InfluxWriter hour)
{
    public InfluxWriter Minute { get; } = minute;

    public InfluxWriter Hour { get; } = hour;
}
