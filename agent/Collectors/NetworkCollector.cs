namespace Monitor.Agent.Collectors;

/// <summary>
/// /proc/net/dev, per interface (label <c>iface</c>; <c>lo</c> and other excluded names skipped):
/// bytes, packets, errors and drops per second, received and transmitted
/// (<c>net_rx_bytes_per_second</c>, <c>net_tx_packets_per_second</c>, <c>net_rx_errors_per_second</c>,
/// <c>net_tx_drops_per_second</c>, ...). A counter that goes backwards (32-bit wrap, driver reset)
/// skips that interface for one interval; an interface that disappears is forgotten.
/// </summary>
internal sealed class NetworkCollector(IFileSystem fileSystem, TimeProvider timeProvider, IReadOnlyCollection<string> excluded) : ICollector
{
    private Dictionary<string, NetCounters> _previous = new(StringComparer.Ordinal);
    private long _previousTimestamp;

    public string Name => "network";

    public void Collect(SampleWriter writer)
    {
        var timestamp = timeProvider.GetTimestamp();
        var current = ProcParsers.ParseNetDev(fileSystem.ReadAllText("/proc/net/dev"));
        var seconds = _previous.Count == 0 ? 0 : timeProvider.GetElapsedTime(_previousTimestamp, timestamp).TotalSeconds;
        foreach (var (iface, now) in current)
        {
            if (ProcParsers.Matches(iface, excluded) || !_previous.TryGetValue(iface, out var before))
            {
                continue;
            }
            var rates = new[]
            {
                ProcParsers.Rate(before.RxBytes, now.RxBytes, seconds),
                ProcParsers.Rate(before.TxBytes, now.TxBytes, seconds),
                ProcParsers.Rate(before.RxPackets, now.RxPackets, seconds),
                ProcParsers.Rate(before.TxPackets, now.TxPackets, seconds),
                ProcParsers.Rate(before.RxErrors, now.RxErrors, seconds),
                ProcParsers.Rate(before.TxErrors, now.TxErrors, seconds),
                ProcParsers.Rate(before.RxDrops, now.RxDrops, seconds),
                ProcParsers.Rate(before.TxDrops, now.TxDrops, seconds),
            };
            if (Array.Exists(rates, r => r is null))
            {
                continue;
            }
            for (int i = 0; i < rates.Length; i++)
            {
                writer.Add(MetricNames[i], rates[i]!.Value, "iface", iface);
            }
        }
        _previous = current;
        _previousTimestamp = timestamp;
    }

    private static readonly string[] MetricNames =
    [
        "net_rx_bytes_per_second", "net_tx_bytes_per_second",
        "net_rx_packets_per_second", "net_tx_packets_per_second",
        "net_rx_errors_per_second", "net_tx_errors_per_second",
        "net_rx_drops_per_second", "net_tx_drops_per_second",
    ];
}
