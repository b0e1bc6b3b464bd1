using System.Globalization;
using System.Text;

namespace Monitor.Agent.Collectors;

/// <summary>CPU jiffies of one <c>cpu</c> line of /proc/stat.</summary>
internal readonly record struct CpuTimes(ulong User, ulong Nice, ulong System, ulong Idle, ulong IoWait, ulong Irq, ulong SoftIrq, ulong Steal)
{
    public ulong Total => User + Nice + System + Idle + IoWait + Irq + SoftIrq + Steal;

    public ulong IdleAll => Idle + IoWait;
}

/// <summary>Where each CPU's time went between two readings, in percent of that interval.</summary>
internal readonly record struct CpuSplit(double Busy, double User, double System, double IoWait, double Steal);

/// <summary>One line of /proc/self/mountinfo.</summary>
internal sealed record MountEntry(string Device, string Root, string MountPoint, string FileSystemType, string Source);

/// <summary>Cumulative counters of one block device from /proc/diskstats (sectors are always 512 bytes there).</summary>
internal readonly record struct DiskCounters(ulong ReadsCompleted, ulong SectorsRead, ulong WritesCompleted, ulong SectorsWritten);

/// <summary>Cumulative counters of one interface from /proc/net/dev.</summary>
internal readonly record struct NetCounters(
    ulong RxBytes, ulong RxPackets, ulong RxErrors, ulong RxDrops,
    ulong TxBytes, ulong TxPackets, ulong TxErrors, ulong TxDrops);

/// <summary>Parsers for /proc files; pure functions over text.</summary>
internal static class ProcParsers
{
    /// <summary>TCP states as the kernel numbers them in /proc/net/tcp (index = state code), label values in snake case.</summary>
    public static readonly string[] TcpStateNames =
    [
        "", "established", "syn_sent", "syn_recv", "fin_wait1", "fin_wait2", "time_wait",
        "close", "close_wait", "last_ack", "listen", "closing",
    ];

    /// <summary>Parses the aggregate <c>cpu</c> line of /proc/stat (guest time is already part of user time).</summary>
    public static CpuTimes ParseCpuTimes(string procStat)
    {
        foreach (var line in procStat.AsSpan().EnumerateLines())
        {
            if (line.StartsWith("cpu ", StringComparison.Ordinal))
            {
                return ParseCpuLine(line[4..]);
            }
        }
        throw new FormatException("/proc/stat: no aggregate cpu line");
    }

    /// <summary>Parses the aggregate line and every per-core <c>cpuN</c> line (offline CPUs have none).</summary>
    public static CpuTimes ParseAllCpuTimes(string procStat, Dictionary<string, CpuTimes> perCore)
    {
        CpuTimes? aggregate = null;
        foreach (var line in procStat.AsSpan().EnumerateLines())
        {
            if (!line.StartsWith("cpu", StringComparison.Ordinal))
            {
                continue;
            }
            if (line.StartsWith("cpu ", StringComparison.Ordinal))
            {
                aggregate = ParseCpuLine(line[4..]);
                continue;
            }
            int space = line.IndexOf(' ');
            if (space > 3 && char.IsAsciiDigit(line[3]))
            {
                perCore[line[..space].ToString()] = ParseCpuLine(line[space..]);
            }
        }
        return aggregate ?? throw new FormatException("/proc/stat: no aggregate cpu line");
    }

    private static CpuTimes ParseCpuLine(ReadOnlySpan<char> fields)
    {
        Span<ulong> values = stackalloc ulong[8];
        int n = 0;
        foreach (var range in fields.Split(' '))
        {
            var field = fields[range];
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
            throw new FormatException("/proc/stat: a cpu line has fewer than 4 fields");
        }
        return new CpuTimes(values[0], values[1], values[2], values[3], values[4], values[5], values[6], values[7]);
    }

    /// <summary>Busy percentage between two readings; null when no time passed or a counter went backwards.</summary>
    public static double? CpuPercent(CpuTimes previous, CpuTimes current) => Split(previous, current)?.Busy;

    /// <summary>
    /// Busy, user (user+nice), system (system+irq+softirq), iowait and steal percentages between two
    /// readings; null when no time passed or any counter went backwards (CPU hot-unplug, counter reset).
    /// </summary>
    public static CpuSplit? Split(CpuTimes previous, CpuTimes current)
    {
        if (current.Total <= previous.Total || current.IdleAll < previous.IdleAll ||
            current.User < previous.User || current.Nice < previous.Nice || current.System < previous.System ||
            current.Idle < previous.Idle || current.IoWait < previous.IoWait || current.Irq < previous.Irq ||
            current.SoftIrq < previous.SoftIrq || current.Steal < previous.Steal)
        {
            return null;
        }
        double total = current.Total - previous.Total;
        double idle = current.IdleAll - previous.IdleAll;
        double Percent(double part) => Math.Clamp(100.0 * part / total, 0, 100);
        return new CpuSplit(
            Percent(total - idle),
            Percent((current.User - previous.User) + (current.Nice - previous.Nice)),
            Percent((current.System - previous.System) + (current.Irq - previous.Irq) + (current.SoftIrq - previous.SoftIrq)),
            Percent(current.IoWait - previous.IoWait),
            Percent(current.Steal - previous.Steal));
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
        var total = MemTotal(memInfo);
        return Math.Clamp(100.0 * (total - Math.Min(total, MemAvailable(memInfo))) / total, 0, 100);
    }

    public static ulong MemTotal(Dictionary<string, ulong> memInfo) =>
        memInfo.TryGetValue("MemTotal", out var total) && total > 0 ? total : throw new FormatException("/proc/meminfo: MemTotal missing or zero");

    /// <summary>MemAvailable, or on kernels before 3.14 (which lack it) MemFree + Buffers + Cached.</summary>
    public static ulong MemAvailable(Dictionary<string, ulong> memInfo) =>
        memInfo.TryGetValue("MemAvailable", out var available)
            ? available
            : memInfo.GetValueOrDefault("MemFree") + memInfo.GetValueOrDefault("Buffers") + memInfo.GetValueOrDefault("Cached");

    /// <summary>The three load averages of /proc/loadavg.</summary>
    public static (double Load1, double Load5, double Load15) ParseLoadAvg(string loadAvg)
    {
        Span<double> values = stackalloc double[3];
        int n = 0;
        var text = loadAvg.AsSpan().Trim();
        foreach (var range in text.Split(' '))
        {
            if (n == 3)
            {
                break;
            }
            if (!double.TryParse(text[range], NumberStyles.Float, CultureInfo.InvariantCulture, out values[n++]))
            {
                throw new FormatException("/proc/loadavg: not a number");
            }
        }
        return n == 3 ? (values[0], values[1], values[2]) : throw new FormatException("/proc/loadavg: fewer than 3 fields");
    }

    /// <summary>Seconds since boot, the first field of /proc/uptime.</summary>
    public static double ParseUptime(string uptime)
    {
        var text = uptime.AsSpan().Trim();
        int space = text.IndexOf(' ');
        var first = space < 0 ? text : text[..space];
        return double.TryParse(first, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds >= 0
            ? seconds
            : throw new FormatException("/proc/uptime: not a number");
    }

    /// <summary>Number of process directories (all-digit names) in a listing of /proc.</summary>
    public static int CountProcesses(IReadOnlyList<string> procDirectoryNames)
    {
        int count = 0;
        foreach (var name in procDirectoryNames)
        {
            if (name.Length > 0 && name.All(char.IsAsciiDigit))
            {
                count++;
            }
        }
        return count;
    }

    /// <summary>
    /// Parses /proc/self/mountinfo:
    /// <c>id parent major:minor root mount-point options [optional...] - fstype source super-options</c>.
    /// Octal escapes (<c>\040</c> for a space) are decoded. Malformed lines are skipped.
    /// </summary>
    public static List<MountEntry> ParseMountInfo(string mountInfo)
    {
        var result = new List<MountEntry>();
        foreach (var line in mountInfo.AsSpan().EnumerateLines())
        {
            if (line.IsWhiteSpace())
            {
                continue;
            }
            var fields = line.ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            int dash = Array.IndexOf(fields, "-");
            if (fields.Length < 10 || dash < 6 || dash + 2 >= fields.Length)
            {
                continue;
            }
            result.Add(new MountEntry(fields[2], Unescape(fields[3]), Unescape(fields[4]), fields[dash + 1], Unescape(fields[dash + 2])));
        }
        return result;
    }

    /// <summary>
    /// The mounts worth reporting: real file systems only (types in <paramref name="excludedTypes"/>
    /// are skipped, but an <c>overlay</c> root is kept for agents in containers), one mount per
    /// device (bind mounts and repeated mounts of the same device are skipped, keeping the mount of
    /// the device's root with the shortest path), and no mount point with control characters.
    /// </summary>
    public static List<MountEntry> SelectRealMounts(IEnumerable<MountEntry> mounts, IReadOnlyCollection<string> excludedTypes)
    {
        var byDevice = new Dictionary<string, MountEntry>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var m in mounts)
        {
            bool overlayRoot = m.FileSystemType == "overlay" && m.MountPoint == "/";
            if ((!overlayRoot && excludedTypes.Contains(m.FileSystemType)) || m.MountPoint.Length == 0 || m.MountPoint.Any(char.IsControl))
            {
                continue;
            }
            if (byDevice.TryGetValue(m.Device, out var existing))
            {
                if (Better(m, existing))
                {
                    byDevice[m.Device] = m;
                }
                continue;
            }
            byDevice[m.Device] = m;
            order.Add(m.Device);
        }
        return order.Select(d => byDevice[d]).ToList();

        static bool Better(MountEntry candidate, MountEntry existing) =>
            (candidate.Root == "/") != (existing.Root == "/")
                ? candidate.Root == "/"
                : candidate.MountPoint.Length < existing.MountPoint.Length;
    }

    private static string Unescape(string value)
    {
        if (!value.Contains('\\', StringComparison.Ordinal))
        {
            return value;
        }
        var sb = new StringBuilder(value.Length);
        for (int i = 0; i < value.Length; i++)
        {
            if (value[i] == '\\' && IsOctal(value, i + 1) && IsOctal(value, i + 2) && IsOctal(value, i + 3))
            {
                sb.Append((char)(((value[i + 1] - '0') * 64) + ((value[i + 2] - '0') * 8) + (value[i + 3] - '0')));
                i += 3;
            }
            else
            {
                sb.Append(value[i]);
            }
        }
        return sb.ToString();

        static bool IsOctal(string s, int index) => index < s.Length && s[index] is >= '0' and <= '7';
    }

    /// <summary>
    /// Parses /proc/diskstats: <c>major minor name reads merged sectors ms writes merged sectors ...</c>.
    /// Lines with too few fields are skipped.
    /// </summary>
    public static Dictionary<string, DiskCounters> ParseDiskStats(string diskStats)
    {
        var result = new Dictionary<string, DiskCounters>(StringComparer.Ordinal);
        Span<Range> ranges = stackalloc Range[12];
        foreach (var line in diskStats.AsSpan().EnumerateLines())
        {
            var trimmed = line.Trim();
            int n = SplitFields(trimmed, ranges);
            if (n < 10)
            {
                continue;
            }
            if (TryULong(trimmed[ranges[3]], out var reads) && TryULong(trimmed[ranges[5]], out var sectorsRead) &&
                TryULong(trimmed[ranges[7]], out var writes) && TryULong(trimmed[ranges[9]], out var sectorsWritten))
            {
                result[trimmed[ranges[2]].ToString()] = new DiskCounters(reads, sectorsRead, writes, sectorsWritten);
            }
        }
        return result;
    }

    /// <summary>
    /// Parses /proc/net/dev (two header lines, then <c>name: 8 receive counters 8 transmit counters</c>;
    /// old kernels print <c>eth0:123</c> without a space).
    /// </summary>
    public static Dictionary<string, NetCounters> ParseNetDev(string netDev)
    {
        var result = new Dictionary<string, NetCounters>(StringComparer.Ordinal);
        Span<Range> ranges = stackalloc Range[17];
        Span<ulong> v = stackalloc ulong[16];
        foreach (var line in netDev.AsSpan().EnumerateLines())
        {
            int colon = line.IndexOf(':');
            if (colon <= 0)
            {
                continue;
            }
            var name = line[..colon].Trim();
            if (name.IsEmpty || name.Contains('|'))
            {
                continue;
            }
            var rest = line[(colon + 1)..].Trim();
            if (SplitFields(rest, ranges) < 16)
            {
                continue;
            }
            bool ok = true;
            for (int i = 0; i < 16 && ok; i++)
            {
                ok = TryULong(rest[ranges[i]], out v[i]);
            }
            if (ok)
            {
                result[name.ToString()] = new NetCounters(v[0], v[1], v[2], v[3], v[8], v[9], v[10], v[11]);
            }
        }
        return result;
    }

    /// <summary>Adds the connections of one /proc/net/tcp or tcp6 text to <paramref name="countsByState"/> (index = state code).</summary>
    public static void CountTcpStates(string procNetTcp, Span<int> countsByState)
    {
        Span<Range> ranges = stackalloc Range[5];
        bool header = true;
        foreach (var line in procNetTcp.AsSpan().EnumerateLines())
        {
            if (header)
            {
                header = false;
                continue;
            }
            var trimmed = line.Trim();
            if (SplitFields(trimmed, ranges) < 4)
            {
                continue;
            }
            if (int.TryParse(trimmed[ranges[3]], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var state) &&
                state > 0 && state < countsByState.Length)
            {
                countsByState[state]++;
            }
        }
    }

    /// <summary>Per-second rate of a cumulative counter; null when it went backwards (wrap or reset) or no time passed.</summary>
    public static double? Rate(ulong previous, ulong current, double seconds) =>
        current < previous || seconds <= 0 ? null : (current - previous) / seconds;

    /// <summary>Whether <paramref name="name"/> matches one of <paramref name="patterns"/> (exact, or prefix when the pattern ends in <c>*</c>).</summary>
    public static bool Matches(string name, IEnumerable<string> patterns)
    {
        foreach (var p in patterns)
        {
            if (p.EndsWith('*') ? name.StartsWith(p[..^1], StringComparison.Ordinal) : name == p)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Splits on runs of spaces/tabs into at most <c>ranges.Length</c> fields; returns how many (more fields are not counted).</summary>
    private static int SplitFields(ReadOnlySpan<char> text, Span<Range> ranges)
    {
        int n = 0;
        int i = 0;
        while (i < text.Length && n < ranges.Length)
        {
            while (i < text.Length && text[i] is ' ' or '\t')
            {
                i++;
            }
            if (i == text.Length)
            {
                break;
            }
            int start = i;
            while (i < text.Length && text[i] is not (' ' or '\t'))
            {
                i++;
            }
            ranges[n++] = new Range(start, i);
        }
        return n;
    }

    private static bool TryULong(ReadOnlySpan<char> s, out ulong value) =>
        ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out value);
}
