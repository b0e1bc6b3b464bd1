using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Monitor.ReportService.Extensions;

/// <summary>All instruments of the report service, created once through <see cref="IMeterFactory"/>.</summary>
internal sealed class ReportMetrics
{
    public const string MeterName = "Monitor.ReportService";

    private readonly Counter<long> _received;
    private readonly Counter<long> _accepted;
    private readonly Counter<long> _rejected;
    private readonly Counter<long> _saturated;
    private readonly Histogram<double> _produceDuration;
    private readonly Histogram<double> _clockSkew;
    private readonly ConcurrentDictionary<string, long> _skewedHosts = new(StringComparer.Ordinal);
    private int _inFlight;

    public ReportMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _received = meter.CreateCounter<long>("monitor.report.samples.received", "{sample}", "Samples received from agents");
        _accepted = meter.CreateCounter<long>("monitor.report.samples.accepted", "{sample}", "Samples stored in Kafka and acked");
        _rejected = meter.CreateCounter<long>("monitor.report.samples.rejected", "{sample}", "Samples rejected, by reason");
        _saturated = meter.CreateCounter<long>("monitor.report.batches.saturated", "{batch}", "Batches refused with ResourceExhausted");
        _produceDuration = meter.CreateHistogram<double>("monitor.report.kafka.produce.duration", "ms", "Time from produce to Kafka delivery report");
        _clockSkew = meter.CreateHistogram<double>("monitor.report.clock_skew", "ms", "Absolute agent clock skew per batch");
        meter.CreateObservableGauge("monitor.report.inflight", () => Volatile.Read(ref _inFlight), "{batch}", "Batches waiting for Kafka");
        // Only hosts beyond the skew threshold are exported per host, which keeps the tag set small.
        meter.CreateObservableGauge("monitor.report.host.clock_skew", ObserveSkewedHosts, "ms", "Clock skew of hosts beyond the warning threshold");
    }

    public void Received(int count) => _received.Add(count);

    public void Accepted(int count) => _accepted.Add(count);

    public void Rejected(string reason, int count = 1) => _rejected.Add(count, new KeyValuePair<string, object?>("reason", reason));

    public void Saturated() => _saturated.Add(1);

    public void ProduceDuration(TimeSpan elapsed) => _produceDuration.Record(elapsed.TotalMilliseconds);

    public void InFlight(int delta) => Interlocked.Add(ref _inFlight, delta);

    public void ClockSkew(string hostId, long skewMs, bool skewed)
    {
        _clockSkew.Record(Math.Abs(skewMs));
        if (skewed)
        {
            _skewedHosts[hostId] = skewMs;
        }
        else
        {
            _skewedHosts.TryRemove(hostId, out _);
        }
    }

    public IReadOnlyDictionary<string, long> SkewedHosts => _skewedHosts;

    private IEnumerable<Measurement<long>> ObserveSkewedHosts()
    {
        foreach (var (host, skew) in _skewedHosts)
        {
            yield return new Measurement<long>(skew, new KeyValuePair<string, object?>("host_id", host));
        }
    }
}
