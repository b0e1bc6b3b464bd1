using Monitor.Protos.V1;

namespace Monitor.Agent.Collectors;

/// <summary>
/// One independent part of a snapshot (cpu, memory, disks, ...). <see cref="Collect"/> runs on a
/// pool thread; it may keep state between calls (previous counters for rates) because the
/// <c>HostCollector</c> never runs two calls of one collector at once.
/// </summary>
internal interface ICollector
{
    /// <summary>Short name, the value of the <c>collector</c> label of the agent's own samples.</summary>
    string Name { get; }

    /// <summary>
    /// Whether a call can block indefinitely (statvfs on a hung network mount). Such a collector runs
    /// on its own pool thread and is abandoned at the timeout; the others (reads of /proc and /sys,
    /// which do not block) run inline, which saves a thread hand-off per collector and snapshot.
    /// </summary>
    bool MayBlock => false;

    /// <summary>Reads the host and adds samples; throws on failure (the others still report).</summary>
    void Collect(SampleWriter writer);
}

/// <summary>Builds the samples of one collector for one snapshot: one timestamp, the static labels on every sample.</summary>
internal sealed class SampleWriter(IReadOnlyDictionary<string, string> staticLabels, long timestampUnixMs)
{
    public List<Sample> Samples { get; } = [];

    public long TimestampUnixMs => timestampUnixMs;

    public void Add(string metric, double value) => Add(metric, value, null, null);

    public void Add(string metric, double value, string? labelKey, string? labelValue) => Add(metric, value, labelKey, labelValue, null, null);

    public void Add(string metric, double value, string? labelKey, string? labelValue, string? label2Key, string? label2Value)
    {
        // The report service rejects non-finite values; a NaN here is a parser bug, not data.
        if (!double.IsFinite(value))
        {
            return;
        }
        var sample = new Sample { Metric = metric, Value = value, TimestampUnixMs = timestampUnixMs };
        foreach (var (k, v) in staticLabels)
        {
            sample.Labels[k] = v;
        }
        if (labelKey is not null && !string.IsNullOrEmpty(labelValue))
        {
            sample.Labels[labelKey] = labelValue;
        }
        if (label2Key is not null && !string.IsNullOrEmpty(label2Value))
        {
            sample.Labels[label2Key] = label2Value;
        }
        Samples.Add(sample);
    }
}
