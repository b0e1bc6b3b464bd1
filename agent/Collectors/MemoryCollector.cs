namespace Monitor.Agent.Collectors;

/// <summary>
/// /proc/meminfo: <c>mem_rate</c> (used percent, as the original system reported it) and, in bytes,
/// total, used (total - available), available, cached (page cache + buffers) and swap total/used.
/// </summary>
internal sealed class MemoryCollector(IFileSystem fileSystem) : ICollector
{
    public string Name => "memory";

    public void Collect(SampleWriter writer)
    {
        var mem = ProcParsers.ParseMemInfo(fileSystem.ReadAllText("/proc/meminfo"));
        var total = ProcParsers.MemTotal(mem);
        var available = Math.Min(total, ProcParsers.MemAvailable(mem));
        writer.Add("mem_rate", ProcParsers.MemPercent(mem));
        writer.Add("mem_total_bytes", total);
        writer.Add("mem_used_bytes", total - available);
        writer.Add("mem_available_bytes", available);
        writer.Add("mem_cached_bytes", mem.GetValueOrDefault("Cached") + mem.GetValueOrDefault("Buffers"));
        var swapTotal = mem.GetValueOrDefault("SwapTotal");
        writer.Add("swap_total_bytes", swapTotal);
        writer.Add("swap_used_bytes", swapTotal - Math.Min(swapTotal, mem.GetValueOrDefault("SwapFree")));
    }
}
