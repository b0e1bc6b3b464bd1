using Monitor.Protos.V1;

namespace Monitor.Benchmarks.Shared;

/// <summary>
/// Realistic agent batches shared by the micro-benchmarks and the load generator: the metrics a Linux agent sends
/// (cpu/mem rates, per-core CPU, load, swap, disk per mount and device, network per interface), with the labels
/// they carry, so encoders and validators see the same shapes as in production.
/// </summary>
internal static class SampleWorkload
{
    private static readonly (string Metric, string? LabelKey, string? LabelValue, double Scale)[] Template =
    [
        ("cpu_rate", null, null, 100),
        ("mem_rate", null, null, 100),
        ("cpu_core_rate", "cpu", "cpu0", 100),
        ("cpu_core_rate", "cpu", "cpu1", 100),
        ("cpu_core_rate", "cpu", "cpu2", 100),
        ("cpu_core_rate", "cpu", "cpu3", 100),
        ("load_1m", null, null, 4),
        ("load_5m", null, null, 4),
        ("load_15m", null, null, 4),
        ("swap_rate", null, null, 100),
        ("disk_used_rate", "mount", "/", 100),
        ("disk_used_rate", "mount", "/var/lib/data", 100),
        ("disk_read_bytes", "device", "nvme0n1", 5e7),
        ("disk_write_bytes", "device", "nvme0n1", 5e7),
        ("net_rx_bytes", "iface", "eth0", 1.25e8),
        ("net_tx_bytes", "iface", "eth0", 1.25e8),
        ("net_rx_bytes", "iface", "docker0", 1e6),
        ("net_tx_bytes", "iface", "docker0", 1e6),
        ("uptime_seconds", null, null, 1e6),
        ("mem_available_bytes", null, null, 3.2e10),
    ];

    /// <summary>Distinct series one host produces per snapshot (the template size).</summary>
    public static int SeriesPerSnapshot => Template.Length;

    /// <summary>
    /// Appends <paramref name="count"/> samples to <paramref name="samples"/>; sample <c>i</c> uses series
    /// <c>i % 20</c> and, every 20 samples, the next millisecond, so a batch of 100 is five snapshots 1 ms apart.
    /// Values vary with <paramref name="seed"/> so identical batches are not byte-identical.
    /// </summary>
    public static void AddSamples(ICollection<Sample> samples, int count, long timestampUnixMs, int seed)
    {
        ArgumentNullException.ThrowIfNull(samples);
        for (int i = 0; i < count; i++)
        {
            var t = Template[i % Template.Length];
            var sample = new Sample
            {
                Metric = t.Metric,
                // Deterministic, well spread values with a fractional part (the usual case for rates).
                Value = Math.Round(t.Scale * (((seed * 7919L) + (i * 104729L)) % 1000) / 1000.0, 3),
                TimestampUnixMs = timestampUnixMs + (i / Template.Length),
            };
            if (t.LabelKey is not null)
            {
                sample.Labels[t.LabelKey] = t.LabelValue!;
            }
            if (t.Metric.StartsWith("disk_", StringComparison.Ordinal) || t.Metric.StartsWith("net_", StringComparison.Ordinal))
            {
                sample.Labels["source"] = "procfs";
            }
            samples.Add(sample);
        }
    }

    /// <summary>A batch as an agent sends it.</summary>
    public static SampleBatch CreateBatch(string hostId, ulong sequence, int samples, long timestampUnixMs, int seed = 0)
    {
        var batch = new SampleBatch { HostId = hostId, Sequence = sequence, SentAtUnixMs = timestampUnixMs, AgentVersion = "monitor-agent/1.0.0-load" };
        AddSamples(batch.Samples, samples, timestampUnixMs, seed);
        return batch;
    }
}
