using System.Diagnostics.Metrics;

namespace Monitor.AnalyzeService.Extensions;

/// <summary>All instruments of the analyze service, created once through <see cref="IMeterFactory"/>.</summary>
internal sealed class AnalyzeMetrics
{
    public const string MeterName = "Monitor.AnalyzeService";

    private readonly Histogram<double> _queryDuration;
    private readonly Histogram<double> _influxDuration;
    private readonly Counter<long> _rollupPoints;
    private readonly Counter<long> _rollupFailures;
    private long _rollupWatermarkMs;

    public AnalyzeMetrics(IMeterFactory meterFactory, TimeProvider timeProvider)
    {
        var meter = meterFactory.Create(MeterName);
        _queryDuration = meter.CreateHistogram<double>("monitor.analyze.query.duration", "ms", "Time to answer one analyze operation, by operation and outcome");
        _influxDuration = meter.CreateHistogram<double>("monitor.analyze.influx.duration", "ms", "Time of one InfluxDB request, by operation");
        _rollupPoints = meter.CreateCounter<long>("monitor.analyze.rollup.points", "{point}", "Rollup rows written, by resolution");
        _rollupFailures = meter.CreateCounter<long>("monitor.analyze.rollup.failures", "{run}", "Rollup passes that failed");
        meter.CreateObservableGauge("monitor.analyze.rollup.lag", () =>
        {
            var watermark = Interlocked.Read(ref _rollupWatermarkMs);
            return watermark == 0 ? 0 : (timeProvider.GetUtcNow().ToUnixTimeMilliseconds() - watermark) / 1000.0;
        }, "s", "How far the 1-minute rollups trail the clock");
    }

    /// <summary>Records one operation; <paramref name="operation"/> and <paramref name="outcome"/> come from small fixed sets.</summary>
    public void Query(string operation, string outcome, TimeSpan elapsed) =>
        _queryDuration.Record(elapsed.TotalMilliseconds, new KeyValuePair<string, object?>("operation", operation), new KeyValuePair<string, object?>("outcome", outcome));

    public void Influx(string operation, TimeSpan elapsed) =>
        _influxDuration.Record(elapsed.TotalMilliseconds, new KeyValuePair<string, object?>("operation", operation));

    public void RollupPoints(string resolution, long count) =>
        _rollupPoints.Add(count, new KeyValuePair<string, object?>("resolution", resolution));

    public void RollupFailed() => _rollupFailures.Add(1);

    public void RollupWatermark(long unixMs) => Interlocked.Exchange(ref _rollupWatermarkMs, unixMs);
}
