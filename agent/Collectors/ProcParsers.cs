using System.Globalization;

namespace Monitor.Agent.Collectors;

/// <summary>Aggregate CPU jiffies from the first line of /proc/stat.</summary>
internal readonly record struct CpuTimes(ulong User, ulong Nice, ulong System, ulong Idle, ulong IoWait, ulong Irq, ulong SoftIrq, ulong Steal)
{
    public ulong Total => User + Nice + System + Idle + IoWait + Irq + SoftIrq + Steal;

    public ulong IdleAll => Idle + IoWait;
}

/// <summary>Parsers for /proc files; pure functions over text.</summary>
internal static class ProcParsers
{
    /// <summary>Parses the aggregate <c>cpu</c> line of /proc/stat (guest time is already part of user time).</summary>
    public static CpuTimes ParseCpuTimes(string procStat)
    {
        foreach (var line in procStat.AsSpan().EnumerateLines())
        {
            if (!line.StartsWith("cpu ", StringComparison.Ordinal))
            {
                continue;
            }
            Span<ulong> values = stackalloc ulong[8];
            int n = 0;
            foreach (var range in line[4..].Split(' '))
            {
                var field = line[4..][range];
                if (field.IsEmpty)
                {
                    continue;
                }
                if (n < values.Length)
                {
                    values[n++] = ulong.Parse(field, NumberStyles.None, CultureInfo.InvariantCulture);
                }
            }
            if (n < 4)
            {
                throw new FormatException("/proc/stat: the cpu line has fewer than 4 fields");
            }
            return new CpuTimes(values[0], values[1], values[2], values[3], values[4], values[5], values[6], values[7]);
        }
        throw new FormatException("/proc/stat: no aggregate cpu line");
    }

    /// <summary>Busy percentage between two readings; null when no time passed or a counter went backwards.</summary>
    public static double? CpuPercent(CpuTimes previous, CpuTimes current)
    {
        if (current.Total <= previous.Total || current.IdleAll < previous.IdleAll)
        {
            return null;
        }
        double total = current.Total - previous.Total;
        double idle = current.IdleAll - previous.IdleAll;
        return Math.Clamp(100.0 * (total - idle) / total, 0, 100);
    }

    /// <summary>Reads the named fields of /proc/meminfo, in bytes.</summary>
    public static Dictionary<string, ulong> ParseMemInfo(string memInfo)
    {
        var result = new Dictionary<string, ulong>(StringComparer.Ordinal);
        foreach (var line in memInfo.AsSpan().EnumerateLines())
        {
            int colon = line.IndexOf(':');
            if (colon <= 0)
            {
                continue;
            }
            var rest = line[(colon + 1)..].Trim();
            bool kb = rest.EndsWith(" kB", StringComparison.Ordinal);
            if (kb)
            {
                rest = rest[..^3].TrimEnd();
            }
            if (ulong.TryParse(rest, NumberStyles.None, CultureInfo.InvariantCulture, out var value))
            {
                result[line[..colon].ToString()] = kb ? value * 1024 : value;
            }
        }
        return result;
    }

    /// <summary>Used-memory percentage, (MemTotal - MemAvailable) / MemTotal.</summary>
    public static double MemPercent(Dictionary<string, ulong> memInfo)
    {
        if (!memInfo.TryGetValue("MemTotal", out var total) || total == 0)
        {
            throw new FormatException("/proc/meminfo: MemTotal missing or zero");
        }
        if (!memInfo.TryGetValue("MemAvailable", out var available))
        {
            // Kernels before 3.14 lack MemAvailable.
            available = memInfo.GetValueOrDefault("MemFree") + memInfo.GetValueOrDefault("Buffers") + memInfo.GetValueOrDefault("Cached");
        }
        return Math.Clamp(100.0 * (total - Math.Min(total, available)) / total, 0, 100);
    }
}
