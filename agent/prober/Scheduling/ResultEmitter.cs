using Microsoft.Extensions.Options;
using Monitor.Agent.Options;
using Monitor.Agent.Sending;
using Monitor.Prober.Probes;
using Monitor.Prober.Targets;
using Monitor.Protos.V1;

namespace Monitor.Prober.Scheduling;

/// <summary>
/// Turns one probe result into one batch in the spool (the agent's sender takes it from there):
/// <c>probe_success</c> (0/1, carrying the message), <c>probe_duration_ms</c> and the type's
/// metrics, all labelled <c>target</c> and <c>type</c>, plus <c>reason</c> on failure.
/// </summary>
internal sealed class ResultEmitter(Spool spool, IOptions<AgentOptions> options, TimeProvider timeProvider)
{
    private readonly string _hostId = options.Value.EffectiveHostId;
    private readonly Lock _lock = new();

    public static readonly string Version = typeof(ResultEmitter).Assembly.GetName().Version?.ToString() ?? "0.0.0";

    public SampleBatch Emit(TargetDefinition target, ProbeResult result)
    {
        var timestamp = timeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        var batch = new SampleBatch { HostId = _hostId, AgentVersion = "monitor-prober/" + Version };
        batch.Samples.AddRange(ToSamples(target, result, timestamp));
        // Sequence and append together: the spool's order must follow the sequence numbers.
        lock (_lock)
        {
            batch.Sequence = spool.NextSequence();
            spool.Append(batch);
        }
        return batch;
    }

    /// <summary>Spools the prober's own figures (spool, runtime) as one batch of the prober's host.</summary>
    public SampleBatch EmitSelf(IEnumerable<Sample> samples)
    {
        var batch = new SampleBatch { HostId = _hostId, AgentVersion = "monitor-prober/" + Version };
        batch.Samples.AddRange(samples);
        lock (_lock)
        {
            batch.Sequence = spool.NextSequence();
            spool.Append(batch);
        }
        return batch;
    }

    internal static List<Sample> ToSamples(TargetDefinition target, ProbeResult result, long timestampUnixMs)
    {
        var samples = new List<Sample>(result.Metrics.Count + 2);
        var success = Create("probe_success", result.Success ? 1 : 0, target, timestampUnixMs);
        if (result.Failure is { } failure)
        {
            success.Labels["reason"] = ProbeResult.ReasonLabel(failure);
        }
        success.Message = result.Message;
        samples.Add(success);
        var duration = Create("probe_duration_ms", Math.Round(result.Duration.TotalMilliseconds, 3), target, timestampUnixMs);
        if (result.Failure is { } f)
        {
            duration.Labels["reason"] = ProbeResult.ReasonLabel(f);
        }
        samples.Add(duration);
        foreach (var metric in result.Metrics)
        {
            if (!double.IsFinite(metric.Value))
            {
                continue;
            }
            var sample = Create(metric.Name, metric.Value, target, timestampUnixMs);
            foreach (var (key, value) in metric.Labels ?? new Dictionary<string, string>())
            {
                sample.Labels[key] = value;
            }
            samples.Add(sample);
        }
        return samples;
    }

    private static Sample Create(string metric, double value, TargetDefinition target, long timestampUnixMs)
    {
        var sample = new Sample { Metric = metric, Value = value, TimestampUnixMs = timestampUnixMs };
        sample.Labels["target"] = target.Name;
        sample.Labels["type"] = target.Type;
        return sample;
    }
}
