using Monitor.Agent.Collectors;
using Monitor.Agent.Options;
using Monitor.Agent.UnitTests.Helpers;
using Xunit;

namespace Monitor.Agent.UnitTests;

public sealed class ProcParsersTests
{
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
    public void ParseCpuTimes_CapturedProcStat_ReadsAggregateLine()
    {
        // Act
        var times = ProcParsers.ParseCpuTimes(Fixtures.Stat);

        // Assert
        Assert.Equal(new CpuTimes(115110, 0, 16489, 275709, 1777, 0, 304, 3016), times);
    }

    [Fact]
    public void ParseAllCpuTimes_CapturedProcStat_ReadsEveryCore()
    {
        // Arrange
        var cores = new Dictionary<string, CpuTimes>();

        // Act
        var aggregate = ProcParsers.ParseAllCpuTimes(Fixtures.Stat, cores);

        // Assert
        Assert.Equal(412405UL, aggregate.Total);
        Assert.Equal(["cpu0", "cpu1"], cores.Keys.Order());
        Assert.Equal(new CpuTimes(52761, 0, 7655, 144009, 165, 0, 79, 1510), cores["cpu0"]);
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
    public void Split_Interval_SplitsUserSystemIoWaitSteal()
    {
        // Arrange: 100 jiffies: user 30 + nice 10, system 10 + irq 5 + softirq 5, idle 20, iowait 10, steal 10.
        var before = new CpuTimes(0, 0, 0, 0, 0, 0, 0, 0);
        var after = new CpuTimes(30, 10, 10, 20, 10, 5, 5, 10);

        // Act
        var split = ProcParsers.Split(before, after)!.Value;

        // Assert
        Assert.Equal(70.0, split.Busy);
        Assert.Equal(40.0, split.User);
        Assert.Equal(20.0, split.System);
        Assert.Equal(10.0, split.IoWait);
        Assert.Equal(10.0, split.Steal);
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
    public void ParseMemInfo_CapturedMemInfo_ReadsTotalAndAvailable()
    {
        // Act
        var mem = ProcParsers.ParseMemInfo(Fixtures.MemInfo);

        // Assert
        Assert.Equal(24684096UL * 1024, ProcParsers.MemTotal(mem));
        Assert.Equal(23994636UL * 1024, ProcParsers.MemAvailable(mem));
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

    [Fact]
    public void ParseLoadAvg_CapturedLoadAvg_ReadsThreeAverages()
    {
        // Act
        var (l1, l5, l15) = ProcParsers.ParseLoadAvg(Fixtures.LoadAvg);

        // Assert
        Assert.Equal((0.67, 1.21, 1.37), (l1, l5, l15));
    }

    [Theory]
    [InlineData("")]
    [InlineData("0.1 0.2\n")]
    [InlineData("a b c 1/2 3\n")]
    public void ParseLoadAvg_Malformed_Throws(string text)
    {
        // Act + Assert
        Assert.Throws<FormatException>(() => ProcParsers.ParseLoadAvg(text));
    }

    [Fact]
    public void ParseUptime_CapturedUptime_ReadsFirstField()
    {
        // Act + Assert
        Assert.Equal(2065.71, ProcParsers.ParseUptime(Fixtures.Uptime));
        Assert.Throws<FormatException>(() => ProcParsers.ParseUptime("x 1\n"));
    }

    [Fact]
    public void CountProcesses_ProcListing_CountsNumericNamesOnly()
    {
        // Act + Assert
        Assert.Equal(3, ProcParsers.CountProcesses(["1", "42", "self", "sys", "31337", "thread-self", ""]));
    }

    [Fact]
    public void ParseMountInfo_CapturedMountInfo_ReadsEveryMount()
    {
        // Act
        var mounts = ProcParsers.ParseMountInfo(Fixtures.MountInfo);

        // Assert
        Assert.Equal(20, mounts.Count);
        var root = Assert.Single(mounts, m => m.MountPoint == "/");
        Assert.Equal(new MountEntry("254:0", "/", "/", "ext4", "/dev/vda"), root);
    }

    [Fact]
    public void SelectRealMounts_CapturedMountInfo_KeepsOnlyTheExt4Root()
    {
        // Act: proc, sysfs, devtmpfs, tmpfs, devpts, cgroup... are pseudo file systems.
        var real = ProcParsers.SelectRealMounts(ProcParsers.ParseMountInfo(Fixtures.MountInfo), AgentOptions.DefaultExcludedFileSystemTypes);

        // Assert
        Assert.Equal(["/"], real.Select(m => m.MountPoint));
    }

    [Fact]
    public void SelectRealMounts_BindAndRepeatedMounts_KeepsOneMountPerDevice()
    {
        // Arrange: /data is sdb1; /srv/www is a bind mount of a sub-directory of sdb1; /mnt/again mounts sdb1 again.
        const string text = """
            27 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw
            40 27 8:17 /www /srv/www rw,relatime - xfs /dev/sdb1 rw
            41 27 8:17 / /data rw,relatime shared:1 - xfs /dev/sdb1 rw
            42 27 8:17 / /mnt/again rw,relatime - xfs /dev/sdb1 rw
            43 27 0:50 / /run/user/0 rw - tmpfs tmpfs rw
            """;

        // Act
        var real = ProcParsers.SelectRealMounts(ProcParsers.ParseMountInfo(text), AgentOptions.DefaultExcludedFileSystemTypes);

        // Assert
        Assert.Equal(["/", "/data"], real.Select(m => m.MountPoint));
    }

    [Fact]
    public void SelectRealMounts_OverlayRootInContainer_IsKeptButOtherOverlaysAreNot()
    {
        // Arrange
        const string text = """
            500 400 0:90 / / rw - overlay overlay rw,lowerdir=/a
            501 500 0:91 / /var/lib/docker/overlay2/x/merged rw - overlay overlay rw
            """;

        // Act
        var real = ProcParsers.SelectRealMounts(ProcParsers.ParseMountInfo(text), AgentOptions.DefaultExcludedFileSystemTypes);

        // Assert
        Assert.Equal(["/"], real.Select(m => m.MountPoint));
    }

    [Fact]
    public void ParseMountInfo_EscapedSpaceInMountPoint_IsDecoded()
    {
        // Act
        var mount = Assert.Single(ProcParsers.ParseMountInfo("50 27 8:33 / /mnt/my\\040disk rw - ext4 /dev/sdc1 rw\n"));

        // Assert
        Assert.Equal("/mnt/my disk", mount.MountPoint);
    }

    [Fact]
    public void ParseMountInfo_MalformedLines_AreSkipped()
    {
        // Act + Assert
        Assert.Empty(ProcParsers.ParseMountInfo("garbage\n1 2 3\n\n"));
    }

    [Fact]
    public void ParseDiskStats_CapturedDiskStats_ReadsEveryDevice()
    {
        // Act
        var disks = ProcParsers.ParseDiskStats(Fixtures.DiskStats);

        // Assert: vda reads 131155, sectors read 5866282, writes 42981, sectors written 11336480.
        Assert.Equal(10, disks.Count);
        Assert.Equal(new DiskCounters(131155, 5866282, 42981, 11336480), disks["vda"]);
    }

    [Fact]
    public void ParseNetDev_CapturedNetDev_ReadsEveryInterface()
    {
        // Act
        var ifaces = ProcParsers.ParseNetDev(Fixtures.NetDev);

        // Assert
        Assert.Equal(["eth0", "ifb0", "ifb1", "lo"], ifaces.Keys.Order());
        Assert.Equal(new NetCounters(183993501, 4604, 0, 0, 287728, 3209, 0, 0), ifaces["eth0"]);
    }

    [Fact]
    public void ParseNetDev_OldKernelWithoutSpaceAfterColon_Parses()
    {
        // Arrange
        const string text = "Inter-|   Receive\n face |bytes\n  eth0:4294967295 10 1 2 0 0 0 0 99 20 3 4 0 0 0 0\n";

        // Act
        var eth0 = ProcParsers.ParseNetDev(text)["eth0"];

        // Assert
        Assert.Equal(new NetCounters(4294967295, 10, 1, 2, 99, 20, 3, 4), eth0);
    }

    [Fact]
    public void CountTcpStates_CapturedTcpAndTcp6_CountsByState()
    {
        // Arrange
        var counts = new int[ProcParsers.TcpStateNames.Length];

        // Act
        ProcParsers.CountTcpStates(Fixtures.Tcp, counts);
        ProcParsers.CountTcpStates(Fixtures.Tcp6, counts);

        // Assert: 30 established, 144 time_wait, 15 listen in the capture.
        Assert.Equal(30, counts[1]);
        Assert.Equal(144, counts[6]);
        Assert.Equal(15, counts[10]);
        Assert.Equal(189, counts.Sum());
    }

    [Theory]
    [InlineData(100UL, 300UL, 2.0, 100.0)]
    [InlineData(300UL, 100UL, 2.0, null)]
    [InlineData(100UL, 100UL, 0.0, null)]
    public void Rate_CounterDelta_IsPerSecondOrNullWhenItWentBackwards(ulong previous, ulong current, double seconds, double? expected)
    {
        // Act + Assert
        Assert.Equal(expected, ProcParsers.Rate(previous, current, seconds));
    }

    [Theory]
    [InlineData("lo", true)]
    [InlineData("veth12ab", true)]
    [InlineData("eth0", false)]
    [InlineData("lo0", false)]
    public void Matches_ExactAndPrefixPatterns(string name, bool expected)
    {
        // Act + Assert
        Assert.Equal(expected, ProcParsers.Matches(name, ["lo", "veth*"]));
    }
}
