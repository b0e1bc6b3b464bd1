using System.Diagnostics.Metrics;
using Monitor.Protos.V1;
using Monitor.WarningService.Evaluation;

namespace Monitor.WarningService.Extensions;

/// <summary>All instruments of the warning service (meter <c>Monitor.Warning</c>).</summary>
internal sealed class WarningMetrics
{
    private readonly Counter<long> _evaluations;
    private readonly Counter<long> _transitions;
    private readonly Histogram<double> _detectionLatency;
    private readonly Counter<long> _sends;
    private readonly Histogram<double> _sendLatency;

    public WarningMetrics(IMeterFactory meterFactory, TimeProvider timeProvider)
    {
        var meter = meterFactory.Create("Monitor.Warning");
        _evaluations = meter.CreateCounter<long>("monitor.warning.evaluations", "{evaluation}", "Rule evaluations of (rule, host) pairs from the stream");
        _transitions = meter.CreateCounter<long>("monitor.warning.transitions", "{transition}", "Alert transitions (fired, escalated, resolved)");
        _detectionLatency = meter.CreateHistogram<double>("monitor.warning.detection.latency", "ms", "From the sample's timestamp to the persisted firing transition");
        _sends = meter.CreateCounter<long>("monitor.warning.sends", "{send}", "Notification sends by channel type and outcome");
        _sendLatency = meter.CreateHistogram<double>("monitor.warning.send.duration", "ms", "Duration of a notification send including retries");
        Lag = new EvaluationLag(timeProvider);
        // Observed only while there is something to report: no figure before the first sample, without partitions, or
        // while another instance is the elected evaluator (a missing figure is not a lag).
        meter.CreateObservableGauge("monitor.warning.evaluation.lag", () => Observe(Lag.StreamLagSeconds), "s",
            "Now minus the timestamp of the newest sample this instance's stream evaluator has evaluated");
        meter.CreateObservableGauge("monitor.warning.elected.pass.age", () => Observe(Lag.ElectedPassAgeSeconds), "s",
            "While this instance is the elected evaluator: time since its last completed pass of no-data and across-hosts rules");
    }

    /// <summary>The rule-evaluation lag behind the two gauges.</summary>
    public EvaluationLag Lag { get; }

    public void Evaluated(int count)
    {
        if (count > 0)
        {
            _evaluations.Add(count);
        }
    }

    /// <summary>The stream evaluator has evaluated <paramref name="batch"/>.</summary>
    public void Evaluated(SampleBatch batch)
    {
        long newest = long.MinValue;
        foreach (var sample in batch.Samples)
        {
            newest = Math.Max(newest, sample.TimestampUnixMs);
        }
        if (newest != long.MinValue)
        {
            Lag.SampleEvaluated(newest);
        }
    }

    public void Transition(TransitionKind kind) => _transitions.Add(1, new KeyValuePair<string, object?>("kind", kind.ToString()));

    public void DetectionLatency(long ms) => _detectionLatency.Record(ms);

    public void Sent(string channelType, string status, long latencyMs)
    {
        _sends.Add(1, new("channel.type", channelType), new("status", status));
        _sendLatency.Record(latencyMs, new KeyValuePair<string, object?>("channel.type", channelType));
    }

    private static IEnumerable<Measurement<double>> Observe(double? value) => value is { } v ? [new Measurement<double>(Math.Round(v, 3))] : [];
}

/// <summary>
/// Rule-evaluation lag, measured rather than approximated by detection latency:
/// <list type="bullet">
/// <item>stream evaluator (per instance): now − the timestamp of the newest sample it has evaluated. A sample stamped in
/// the future (an agent's clock ahead) counts as now, so it cannot hide a lag for longer than it stays the newest.
/// Forgotten when the instance gives up its partitions (nothing to be behind on).</item>
/// <item>elected evaluator: while this instance leads, the time since its last completed pass (since it was elected
/// before the first), so failing passes (InfluxDB down) show as a growing age.</item>
/// </list>
/// </summary>
internal sealed class EvaluationLag(TimeProvider timeProvider)
{
    private const long None = long.MinValue;
    private long _newestSampleMs = None;
    private long _lastPassTimestamp = None;

    /// <summary>Seconds behind the newest evaluated sample; null before the first or after <see cref="PartitionsReleased"/>.</summary>
    public double? StreamLagSeconds
    {
        get
        {
            var newest = Interlocked.Read(ref _newestSampleMs);
            return newest == None ? null : Math.Max(0, timeProvider.GetUtcNow().ToUnixTimeMilliseconds() - newest) / 1000.0;
        }
    }

    /// <summary>Seconds since the elected evaluator's last completed pass; null while this instance does not lead.</summary>
    public double? ElectedPassAgeSeconds
    {
        get
        {
            var last = Interlocked.Read(ref _lastPassTimestamp);
            return last == None ? null : timeProvider.GetElapsedTime(last).TotalSeconds;
        }
    }

    public void SampleEvaluated(long sampleUnixMs)
    {
        var value = Math.Min(sampleUnixMs, timeProvider.GetUtcNow().ToUnixTimeMilliseconds());
        var current = Interlocked.Read(ref _newestSampleMs);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref _newestSampleMs, value, current);
            if (seen == current)
            {
                return;
            }
            current = seen;
        }
    }

    public void PartitionsReleased() => Interlocked.Exchange(ref _newestSampleMs, None);

    public void Leading() => Interlocked.Exchange(ref _lastPassTimestamp, timeProvider.GetTimestamp());

    public void PassCompleted() => Interlocked.Exchange(ref _lastPassTimestamp, timeProvider.GetTimestamp());

    public void SteppedDown() => Interlocked.Exchange(ref _lastPassTimestamp, None);
}
