using System.Diagnostics.Metrics;
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

    public WarningMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create("Monitor.Warning");
        _evaluations = meter.CreateCounter<long>("monitor.warning.evaluations", "{evaluation}", "Rule evaluations of (rule, host) pairs from the stream");
        _transitions = meter.CreateCounter<long>("monitor.warning.transitions", "{transition}", "Alert transitions (fired, escalated, resolved)");
        _detectionLatency = meter.CreateHistogram<double>("monitor.warning.detection.latency", "ms", "From the sample's timestamp to the persisted firing transition");
        _sends = meter.CreateCounter<long>("monitor.warning.sends", "{send}", "Notification sends by channel type and outcome");
        _sendLatency = meter.CreateHistogram<double>("monitor.warning.send.duration", "ms", "Duration of a notification send including retries");
    }

    public void Evaluated(int count)
    {
        if (count > 0)
        {
            _evaluations.Add(count);
        }
    }

    public void Transition(TransitionKind kind) => _transitions.Add(1, new KeyValuePair<string, object?>("kind", kind.ToString()));

    public void DetectionLatency(long ms) => _detectionLatency.Record(ms);

    public void Sent(string channelType, string status, long latencyMs)
    {
        _sends.Add(1, new("channel.type", channelType), new("status", status));
        _sendLatency.Record(latencyMs, new KeyValuePair<string, object?>("channel.type", channelType));
    }
}
