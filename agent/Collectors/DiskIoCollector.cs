namespace Monitor.Agent.Collectors;

/// <summary>
/// /proc/diskstats, per whole block device (label <c>device</c>; partitions are skipped: only names
/// listed in /sys/block count, minus the excluded patterns such as loop and ram devices):
/// <c>disk_read_bytes_per_second</c>, <c>disk_write_bytes_per_second</c>, <c>disk_reads_per_second</c>,
/// <c>disk_writes_per_second</c>. A counter that goes backwards (wrap, reset) skips that device for
/// one interval; a device that disappears is forgotten.
/// </summary>
internal sealed class DiskIoCollector(IFileSystem fileSystem, TimeProvider timeProvider, IReadOnlyCollection<string> excluded) : ICollector
{
    private const double SectorBytes = 512;
    private Dictionary<string, DiskCounters> _previous = new(StringComparer.Ordinal);
    private long _previousTimestamp;

    public string Name => "disk_io";

    public void Collect(SampleWriter writer)
    {
        var timestamp = timeProvider.GetTimestamp();
        var all = ProcParsers.ParseDiskStats(fileSystem.ReadAllText("/proc/diskstats"));
        var wholeDevices = fileSystem.DirectoryNames("/sys/block");
        var current = new Dictionary<string, DiskCounters>(StringComparer.Ordinal);
        foreach (var device in wholeDevices)
        {
            if (!ProcParsers.Matches(device, excluded) && all.TryGetValue(device, out var counters))
            {
                current[device] = counters;
            }
        }
        var seconds = _previous.Count == 0 ? 0 : timeProvider.GetElapsedTime(_previousTimestamp, timestamp).TotalSeconds;
        foreach (var (device, now) in current)
        {
            if (!_previous.TryGetValue(device, out var before))
            {
                continue;
            }
            var readBytes = ProcParsers.Rate(before.SectorsRead, now.SectorsRead, seconds);
            var writeBytes = ProcParsers.Rate(before.SectorsWritten, now.SectorsWritten, seconds);
            var reads = ProcParsers.Rate(before.ReadsCompleted, now.ReadsCompleted, seconds);
            var writes = ProcParsers.Rate(before.WritesCompleted, now.WritesCompleted, seconds);
            if (readBytes is null || writeBytes is null || reads is null || writes is null)
            {
                continue;
            }
            writer.Add("disk_read_bytes_per_second", readBytes.Value * SectorBytes, "device", device);
            writer.Add("disk_write_bytes_per_second", writeBytes.Value * SectorBytes, "device", device);
            writer.Add("disk_reads_per_second", reads.Value, "device", device);
            writer.Add("disk_writes_per_second", writes.Value, "device", device);
        }
        _previous = current;
        _previousTimestamp = timestamp;
    }
}
