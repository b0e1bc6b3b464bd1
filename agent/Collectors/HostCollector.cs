using Microsoft.Extensions.Options;
using Monitor.Agent.Options;
using Monitor.Protos.V1;

namespace Monitor.Agent.Collectors;

/// <summary>
/// Takes one snapshot of the host: <c>cpu_rate</c> (busy percent since the previous snapshot) and
/// <c>mem_rate</c> (used percent), as the original system reported them.
/// </summary>
internal sealed partial class HostCollector(IFileSystem fileSystem, IOptions<AgentOptions> options, ILogger<HostCollector> logger)
{
    private readonly Dictionary<string, string> _labels = options.Value.Labels;
    private CpuTimes? _previousCpu;

    /// <summary>Reads the CPU counters once so that the first snapshot has a baseline.</summary>
    public void Prime()
    {
        try
        {
            _previousCpu = ProcParsers.ParseCpuTimes(fileSystem.ReadAllText("/proc/stat"));
        }
        catch (Exception ex) when (ex is IOException or FormatException or UnauthorizedAccessException)
        {
            Log.CollectorFailed(logger, "cpu", ex);
        }
    }

    public void Collect(long timestampUnixMs, ICollection<Sample> into)
    {
        try
        {
            var cpu = ProcParsers.ParseCpuTimes(fileSystem.ReadAllText("/proc/stat"));
            if (_previousCpu is { } previous && ProcParsers.CpuPercent(previous, cpu) is { } percent)
            {
                into.Add(NewSample("cpu_rate", percent, timestampUnixMs));
            }
            _previousCpu = cpu;
        }
        catch (Exception ex) when (ex is IOException or FormatException or UnauthorizedAccessException)
        {
            Log.CollectorFailed(logger, "cpu", ex);
        }

        try
        {
            var mem = ProcParsers.MemPercent(ProcParsers.ParseMemInfo(fileSystem.ReadAllText("/proc/meminfo")));
            into.Add(NewSample("mem_rate", mem, timestampUnixMs));
        }
        catch (Exception ex) when (ex is IOException or FormatException or UnauthorizedAccessException)
        {
            Log.CollectorFailed(logger, "memory", ex);
        }
    }

    private Sample NewSample(string metric, double value, long timestampUnixMs)
    {
        var sample = new Sample { Metric = metric, Value = value, TimestampUnixMs = timestampUnixMs };
        if (_labels.Count > 0)
        {
            sample.Labels.Add(_labels);
        }
        return sample;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4001, EventName = "CollectorFailed", Level = LogLevel.Warning,
            Message = "Collector {Collector} failed; the other collectors still report")]
        public static partial void CollectorFailed(ILogger logger, string collector, Exception exception);
    }
}
