namespace Monitor.Agent.Collectors;

/// <summary>
/// /proc/stat: <c>cpu_rate</c> (busy percent, as the original system reported it), the
/// user/system/iowait/steal split and per-core busy percent (<c>cpu_core_percent{cpu="cpu0"}</c>).
/// A core that goes offline simply stops reporting; one that comes back needs one interval of baseline.
/// </summary>
internal sealed class CpuCollector(IFileSystem fileSystem) : ICollector
{
    private CpuTimes? _previous;
    private Dictionary<string, CpuTimes> _previousCores = new(StringComparer.Ordinal);
    private Dictionary<string, CpuTimes> _cores = new(StringComparer.Ordinal);

    public string Name => "cpu";

    public void Collect(SampleWriter writer)
    {
        _cores.Clear();
        var aggregate = ProcParsers.ParseAllCpuTimes(fileSystem.ReadAllText("/proc/stat"), _cores);
        if (_previous is { } previous && ProcParsers.Split(previous, aggregate) is { } split)
        {
            writer.Add("cpu_rate", split.Busy);
            writer.Add("cpu_user_percent", split.User);
            writer.Add("cpu_system_percent", split.System);
            writer.Add("cpu_iowait_percent", split.IoWait);
            writer.Add("cpu_steal_percent", split.Steal);
        }
        foreach (var (core, times) in _cores)
        {
            if (_previousCores.TryGetValue(core, out var before) && ProcParsers.Split(before, times) is { } coreSplit)
            {
                writer.Add("cpu_core_percent", coreSplit.Busy, "cpu", core);
            }
        }
        _previous = aggregate;
        (_previousCores, _cores) = (_cores, _previousCores);
    }
}
