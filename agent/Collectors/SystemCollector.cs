namespace Monitor.Agent.Collectors;

/// <summary>/proc/loadavg, /proc/uptime and the /proc listing: <c>load1</c>, <c>load5</c>, <c>load15</c>, <c>uptime_seconds</c>, <c>process_count</c>.</summary>
internal sealed class SystemCollector(IFileSystem fileSystem) : ICollector
{
    public string Name => "system";

    public void Collect(SampleWriter writer)
    {
        var (load1, load5, load15) = ProcParsers.ParseLoadAvg(fileSystem.ReadAllText("/proc/loadavg"));
        writer.Add("load1", load1);
        writer.Add("load5", load5);
        writer.Add("load15", load15);
        writer.Add("uptime_seconds", ProcParsers.ParseUptime(fileSystem.ReadAllText("/proc/uptime")));
        writer.Add("process_count", ProcParsers.CountProcesses(fileSystem.DirectoryNames("/proc")));
    }
}
