using Monitor.Agent.Collectors;
using Xunit;

namespace Monitor.Agent.UnitTests;

public sealed class ProcParsersTests
{
    // Captured from a Debian 12 host (2 cores); per-cpu lines follow the aggregate line.
    private const string ProcStat = """
        cpu  4705 356 584 3699 23 0 23 0 0 0
        cpu0 2362 178 298 1843 11 0 12 0 0 0
        cpu1 2343 178 286 1856 12 0 11 0 0 0
        intr 114930548 113199788 3 0 5 263 0 4 [...]
        ctxt 1990473
        btime 1062191376
        processes 2915
        procs_running 1
        procs_blocked 0
        """;

    private const string MemInfo = """
        MemTotal:       16384000 kB
        MemFree:         8000000 kB
        MemAvailable:   12288000 kB
        Buffers:          100000 kB
        Cached:          2000000 kB
        SwapTotal:             0 kB
        HugePages_Total:       0
        """;

    [Fact]
    public void ParseCpuTimes_AggregateLine_ReadsAllEightCounters()
    {
        // Act
        var times = ProcParsers.ParseCpuTimes(ProcStat);

        // Assert
        Assert.Equal(new CpuTimes(4705, 356, 584, 3699, 23, 0, 23, 0), times);
        Assert.Equal(9390UL, times.Total);
    }

    [Fact]
    public void ParseCpuTimes_OldKernelWithFourFields_Parses()
    {
        // Act
        var times = ProcParsers.ParseCpuTimes("cpu  10 0 5 85\n");

        // Assert
        Assert.Equal(100UL, times.Total);
        Assert.Equal(85UL, times.IdleAll);
    }

    [Theory]
    [InlineData("")]
    [InlineData("cpu0 1 2 3 4\n")]
    [InlineData("cpu  1 2\n")]
    public void ParseCpuTimes_NoUsableAggregateLine_Throws(string text)
    {
        // Act + Assert
        Assert.Throws<FormatException>(() => ProcParsers.ParseCpuTimes(text));
    }

    [Fact]
    public void CpuPercent_BusyHalfTheTime_Returns50()
    {
        // Arrange
        var before = new CpuTimes(100, 0, 0, 100, 0, 0, 0, 0);
        var after = new CpuTimes(140, 0, 10, 140, 10, 0, 0, 0);

        // Act
        var percent = ProcParsers.CpuPercent(before, after);

        // Assert: 50 busy (user+system) of 100 jiffies; iowait counts as idle.
        Assert.Equal(50.0, percent);
    }

    [Fact]
    public void CpuPercent_CounterWentBackwards_ReturnsNull()
    {
        // Arrange: e.g. a CPU went offline and its jiffies left the aggregate.
        var before = new CpuTimes(100, 0, 0, 900, 0, 0, 0, 0);
        var after = new CpuTimes(110, 0, 0, 500, 0, 0, 0, 0);

        // Act + Assert
        Assert.Null(ProcParsers.CpuPercent(before, after));
        Assert.Null(ProcParsers.CpuPercent(before, before));
    }

    [Fact]
    public void ParseMemInfo_ConvertsKilobytesToBytes()
    {
        // Act
        var mem = ProcParsers.ParseMemInfo(MemInfo);

        // Assert
        Assert.Equal(16384000UL * 1024, mem["MemTotal"]);
        Assert.Equal(0UL, mem["HugePages_Total"]);
    }

    [Fact]
    public void MemPercent_UsesMemAvailable()
    {
        // Act
        var percent = ProcParsers.MemPercent(ProcParsers.ParseMemInfo(MemInfo));

        // Assert
        Assert.Equal(25.0, percent);
    }

    [Fact]
    public void MemPercent_WithoutMemAvailable_FallsBackToFreeBuffersCached()
    {
        // Arrange
        var mem = ProcParsers.ParseMemInfo("MemTotal: 1000 kB\nMemFree: 200 kB\nBuffers: 100 kB\nCached: 200 kB\n");

        // Act + Assert
        Assert.Equal(50.0, ProcParsers.MemPercent(mem));
    }

    [Fact]
    public void MemPercent_NoMemTotal_Throws()
    {
        // Act + Assert
        Assert.Throws<FormatException>(() => ProcParsers.MemPercent(ProcParsers.ParseMemInfo("MemFree: 1 kB\n")));
    }
}
