using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Monitor.PersistentService.Extensions;

/// <summary>All instruments of the persistence service, created once through <see cref="IMeterFactory"/>.</summary>
internal sealed class PersistenceMetrics
{
    public const string MeterName = "Monitor.PersistentService";

    private readonly Counter<long> _pointsWritten;
    private readonly Counter<long> _messages;
    private readonly Counter<long> _deadLettered;
    private readonly Counter<long> _writeFailures;
    private readonly Counter<long> _lostBelowWatermark;
    private readonly Histogram<double> _writeDuration;
    private readonly Histogram<long> _batchPoints;
    private readonly ConcurrentDictionary<int, long> _lag = new();

    public PersistenceMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _pointsWritten = meter.CreateCounter<long>("monitor.persistence.points.written", "{point}", "Points InfluxDB accepted");
        _messages = meter.CreateCounter<long>("monitor.persistence.messages", "{message}", "Kafka messages handled and committed");
        _deadLettered = meter.CreateCounter<long>("monitor.persistence.dead_lettered", "{message}", "Messages sent to the dead-letter topic, by reason");
        _writeFailures = meter.CreateCounter<long>("monitor.persistence.write.failures", "{write}", "Failed InfluxDB writes, by kind");
        _lostBelowWatermark = meter.CreateCounter<long>("monitor.persistence.lost_below_watermark", "{message}", "Messages the broker dropped before they were committed");
        _writeDuration = meter.CreateHistogram<double>("monitor.persistence.write.duration", "ms", "InfluxDB write latency");
        _batchPoints = meter.CreateHistogram<long>("monitor.persistence.batch.points", "{point}", "Points per InfluxDB write");
        meter.CreateObservableGauge("monitor.persistence.consumer.lag", ObserveLag, "{message}", "High watermark minus position, per partition");
    }

    public void Written(int points, TimeSpan elapsed)
    {
        _pointsWritten.Add(points);
        _batchPoints.Record(points);
        _writeDuration.Record(elapsed.TotalMilliseconds);
    }

    public void Committed(int messages) => _messages.Add(messages);

    public void DeadLettered(string reason) => _deadLettered.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void WriteFailed(string kind) => _writeFailures.Add(1, new KeyValuePair<string, object?>("kind", kind));

    public void LostBelowWatermark(long count) => _lostBelowWatermark.Add(count);

    public void Lag(int partition, long lag) => _lag[partition] = lag;

    public void ForgetPartition(int partition) => _lag.TryRemove(partition, out _);

    private IEnumerable<Measurement<long>> ObserveLag()
    {
        foreach (var (partition, lag) in _lag)
        {
            yield return new Measurement<long>(lag, new KeyValuePair<string, object?>("partition", partition));
        }
    }
}
