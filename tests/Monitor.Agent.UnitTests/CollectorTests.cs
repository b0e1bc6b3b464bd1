using Microsoft.Extensions.Time.Testing;
using Monitor.Agent.Collectors;
using Monitor.Agent.Options;
using Monitor.Agent.UnitTests.Helpers;
using Monitor.Protos.V1;
using Xunit;

namespace Monitor.Agent.UnitTests;

public sealed class CollectorTests
{
    private static readonly Dictionary<string, string> StaticLabels = new() { ["location"] = "lab" };

    private static List<Sample> Run(ICollector collector)
    {
        var writer = new SampleWriter(StaticLabels, 1_000);
        collector.Collect(writer);
        return writer.Samples;
    }

    private static double Value(List<Sample> samples, string metric, string? labelKey = null, string? labelValue = null) =>
        Assert.Single(samples, s => s.Metric == metric && (labelKey is null || s.Labels.GetValueOrDefault(labelKey) == labelValue)).Value;

    [Fact]
    public void CpuCollector_TwoReadings_ReportsRateSplitAndPerCore()
    {
        // Arrange
        var fs = new FakeFileSystem().With("/proc/stat", "cpu  100 0 100 800 0 0 0 0\ncpu0 50 0 50 400 0 0 0 0\ncpu1 50 0 50 400 0 0 0 0\n");
        var cpu = new CpuCollector(fs);
        var first = Run(cpu);
        fs.With("/proc/stat", "cpu  150 0 150 880 10 0 0 10\ncpu0 100 0 50 450 0 0 0 0\ncpu1 50 0 100 430 10 0 0 10\n");

        // Act
        var second = Run(cpu);

        // Assert: the first reading is only a baseline. 200 jiffies: 110 busy (user, system, steal), 90 idle + iowait.
        Assert.Empty(first);
        Assert.Equal(55.0, Value(second, "cpu_rate"));
        Assert.Equal(25.0, Value(second, "cpu_user_percent"));
        Assert.Equal(25.0, Value(second, "cpu_system_percent"));
        Assert.Equal(5.0, Value(second, "cpu_iowait_percent"));
        Assert.Equal(5.0, Value(second, "cpu_steal_percent"));
        Assert.Equal(50.0, Value(second, "cpu_core_percent", "cpu", "cpu0"));
        Assert.Equal(60.0, Value(second, "cpu_core_percent", "cpu", "cpu1"));
        Assert.All(second, s => Assert.Equal("lab", s.Labels["location"]));
        Assert.All(second, s => Assert.Equal(1_000, s.TimestampUnixMs));
    }

    [Fact]
    public void CpuCollector_CpuGoesOffline_SkipsAggregateForOneIntervalAndDropsTheCore()
    {
        // Arrange: cpu1 goes offline, so its jiffies leave the aggregate (which goes backwards).
        var fs = new FakeFileSystem().With("/proc/stat", "cpu  100 0 100 800 0 0 0 0\ncpu0 50 0 50 400 0 0 0 0\ncpu1 50 0 50 400 0 0 0 0\n");
        var cpu = new CpuCollector(fs);
        Run(cpu);
        fs.With("/proc/stat", "cpu  60 0 60 450 0 0 0 0\ncpu0 60 0 60 450 0 0 0 0\n");

        // Act
        var offline = Run(cpu);
        fs.With("/proc/stat", "cpu  70 0 70 530 0 0 0 0\ncpu0 70 0 70 530 0 0 0 0\ncpu1 0 0 0 10 0 0 0 0\n");
        var back = Run(cpu);

        // Assert
        Assert.DoesNotContain(offline, s => s.Metric == "cpu_rate");
        Assert.Single(offline, s => s.Metric == "cpu_core_percent");
        Assert.Equal(20.0, Value(back, "cpu_rate"));
        Assert.DoesNotContain(back, s => s.Labels.GetValueOrDefault("cpu") == "cpu1");
    }

    [Fact]
    public void MemoryCollector_CapturedMemInfo_ReportsPercentAndBytes()
    {
        // Arrange
        var fs = new FakeFileSystem().With("/proc/meminfo", Fixtures.MemInfo);

        // Act
        var samples = Run(new MemoryCollector(fs));

        // Assert
        const double total = 24684096.0 * 1024;
        const double available = 23994636.0 * 1024;
        Assert.Equal(100 * (total - available) / total, Value(samples, "mem_rate"), 9);
        Assert.Equal(total, Value(samples, "mem_total_bytes"));
        Assert.Equal(total - available, Value(samples, "mem_used_bytes"));
        Assert.Equal(available, Value(samples, "mem_available_bytes"));
        Assert.Equal((967608.0 + 6224) * 1024, Value(samples, "mem_cached_bytes"));
        Assert.Equal(0, Value(samples, "swap_used_bytes"));
    }

    [Fact]
    public void MemoryCollector_SwapInUse_ReportsUsedSwap()
    {
        // Arrange
        var fs = new FakeFileSystem().With("/proc/meminfo", "MemTotal: 1000 kB\nMemAvailable: 500 kB\nSwapTotal: 2000 kB\nSwapFree: 1500 kB\n");

        // Act
        var samples = Run(new MemoryCollector(fs));

        // Assert
        Assert.Equal(500.0 * 1024, Value(samples, "swap_used_bytes"));
        Assert.Equal(2000.0 * 1024, Value(samples, "swap_total_bytes"));
    }

    [Fact]
    public void SystemCollector_CapturedFiles_ReportsLoadUptimeAndProcesses()
    {
        // Arrange
        var fs = new FakeFileSystem().With("/proc/loadavg", Fixtures.LoadAvg).With("/proc/uptime", Fixtures.Uptime);
        fs.Directories["/proc"] = ["1", "2", "self", "77", "net"];

        // Act
        var samples = Run(new SystemCollector(fs));

        // Assert
        Assert.Equal(0.67, Value(samples, "load1"));
        Assert.Equal(1.21, Value(samples, "load5"));
        Assert.Equal(1.37, Value(samples, "load15"));
        Assert.Equal(2065.71, Value(samples, "uptime_seconds"));
        Assert.Equal(3, Value(samples, "process_count"));
    }

    [Fact]
    public void DiskUsageCollector_RealAndPseudoMounts_ReportsRealOnesLikeDf()
    {
        // Arrange
        var fs = new FakeFileSystem().With("/proc/self/mountinfo", Fixtures.MountInfo + "60 27 8:17 / /data rw - xfs /dev/sdb1 rw\n");
        fs.Mounts["/"] = new FileSystemStats(TotalBytes: 1000, FreeBytes: 300, AvailableBytes: 200);
        fs.Mounts["/data"] = new FileSystemStats(TotalBytes: 4000, FreeBytes: 4000, AvailableBytes: 4000);

        // Act
        var samples = Run(new DiskUsageCollector(fs, AgentOptions.DefaultExcludedFileSystemTypes));

        // Assert: used = total - free = 700; free = available to users = 200; percent = 700 / (700 + 200).
        Assert.Equal(700, Value(samples, "disk_used_bytes", "mount", "/"));
        Assert.Equal(200, Value(samples, "disk_free_bytes", "mount", "/"));
        Assert.Equal(100.0 * 700 / 900, Value(samples, "disk_used_percent", "mount", "/"));
        Assert.Equal(0, Value(samples, "disk_used_percent", "mount", "/data"));
        Assert.Equal(6, samples.Count);
    }

    [Fact]
    public void DiskUsageCollector_OneMountFailsStatVfs_OthersStillReport()
    {
        // Arrange: /data has no statvfs answer (the fake throws, like EACCES).
        var fs = new FakeFileSystem().With("/proc/self/mountinfo", Fixtures.MountInfo + "60 27 8:17 / /data rw - xfs /dev/sdb1 rw\n");
        fs.Mounts["/"] = new FileSystemStats(1000, 300, 200);

        // Act
        var samples = Run(new DiskUsageCollector(fs, AgentOptions.DefaultExcludedFileSystemTypes));

        // Assert
        Assert.Equal(3, samples.Count);
        Assert.All(samples, s => Assert.Equal("/", s.Labels["mount"]));
    }

    [Fact]
    public void DiskIoCollector_TwoReadings_ReportsBytesAndIopsPerWholeDevice()
    {
        // Arrange
        var time = new FakeTimeProvider();
        var fs = new FakeFileSystem().With("/proc/diskstats", Fixtures.DiskStats);
        fs.Directories["/sys/block"] = ["loop0", "vda", "zram0"];
        var disk = new DiskIoCollector(fs, time, ["loop*", "ram*", "zram*"]);
        Run(disk);
        time.Advance(TimeSpan.FromSeconds(2));
        fs.With("/proc/diskstats", " 254       0 vda 131255 25622 5868282 172247 43001 24767 11340480 24285 0 32064 198113 9653 11 5481048 1159 8527 420\n 254       1 vda1 1 2 3 4 5 6 7 8 9 10 11\n");

        // Act
        var samples = Run(disk);

        // Assert: 2000 sectors read and 4000 written in 2 s; 100 reads and 20 writes.
        Assert.Equal(2000 * 512 / 2.0, Value(samples, "disk_read_bytes_per_second", "device", "vda"));
        Assert.Equal(4000 * 512 / 2.0, Value(samples, "disk_write_bytes_per_second", "device", "vda"));
        Assert.Equal(50, Value(samples, "disk_reads_per_second", "device", "vda"));
        Assert.Equal(10, Value(samples, "disk_writes_per_second", "device", "vda"));
        Assert.Equal(4, samples.Count);
    }

    [Fact]
    public void DiskIoCollector_CounterWrapsAndDeviceDisappears_SkipsWithoutNegativeRates()
    {
        // Arrange
        var time = new FakeTimeProvider();
        var fs = new FakeFileSystem().With("/proc/diskstats", " 8 0 sda 4294967200 0 4294967000 0 10 0 10 0 0 0 0\n 8 16 sdb 5 0 5 0 5 0 5 0 0 0 0\n");
        fs.Directories["/sys/block"] = ["sda", "sdb"];
        var disk = new DiskIoCollector(fs, time, []);
        Run(disk);
        time.Advance(TimeSpan.FromSeconds(1));
        fs.With("/proc/diskstats", " 8 0 sda 100 0 200 0 20 0 30 0 0 0 0\n");
        fs.Directories["/sys/block"] = ["sda"];

        // Act
        var wrapped = Run(disk);
        time.Advance(TimeSpan.FromSeconds(1));
        fs.With("/proc/diskstats", " 8 0 sda 200 0 400 0 30 0 50 0 0 0 0\n");
        var after = Run(disk);

        // Assert
        Assert.Empty(wrapped);
        Assert.Equal(100, Value(after, "disk_reads_per_second", "device", "sda"));
        Assert.DoesNotContain(after, s => s.Labels.GetValueOrDefault("device") == "sdb");
        Assert.All(after, s => Assert.True(s.Value >= 0));
    }

    [Fact]
    public void NetworkCollector_TwoReadings_ReportsRatesAndSkipsLoopback()
    {
        // Arrange
        var time = new FakeTimeProvider();
        var fs = new FakeFileSystem().With("/proc/net/dev", Fixtures.NetDev);
        var net = new NetworkCollector(fs, time, ["lo"]);
        Run(net);
        time.Advance(TimeSpan.FromSeconds(1));
        fs.With("/proc/net/dev", Fixtures.NetDev.Replace("eth0: 183993501    4604    0    0", "eth0: 183994501    4614    2    1", StringComparison.Ordinal));

        // Act
        var samples = Run(net);

        // Assert
        Assert.Equal(1000, Value(samples, "net_rx_bytes_per_second", "iface", "eth0"));
        Assert.Equal(10, Value(samples, "net_rx_packets_per_second", "iface", "eth0"));
        Assert.Equal(2, Value(samples, "net_rx_errors_per_second", "iface", "eth0"));
        Assert.Equal(1, Value(samples, "net_rx_drops_per_second", "iface", "eth0"));
        Assert.Equal(0, Value(samples, "net_tx_bytes_per_second", "iface", "eth0"));
        Assert.DoesNotContain(samples, s => s.Labels.GetValueOrDefault("iface") == "lo");
        Assert.Equal(3 * 8, samples.Count);
    }

    [Fact]
    public void NetworkCollector_CounterReset_SkipsThatInterfaceForOneInterval()
    {
        // Arrange: a driver reset zeroes eth0's counters.
        var time = new FakeTimeProvider();
        var fs = new FakeFileSystem().With("/proc/net/dev", "h\nh\n eth0: 5000 50 0 0 0 0 0 0 6000 60 0 0 0 0 0 0\n eth1: 1 1 0 0 0 0 0 0 1 1 0 0 0 0 0 0\n");
        var net = new NetworkCollector(fs, time, ["lo"]);
        Run(net);
        time.Advance(TimeSpan.FromSeconds(1));
        fs.With("/proc/net/dev", "h\nh\n eth0: 10 1 0 0 0 0 0 0 20 2 0 0 0 0 0 0\n");

        // Act
        var samples = Run(net);

        // Assert: eth0 reset, eth1 disappeared: nothing to report, and nothing negative.
        Assert.Empty(samples);
    }

    [Fact]
    public void TcpCollector_NoTcp6_CountsIpv4AndReportsEveryState()
    {
        // Arrange
        var fs = new FakeFileSystem().With("/proc/net/tcp", Fixtures.Tcp);

        // Act
        var samples = Run(new TcpCollector(fs, new FakeTimeProvider(), TimeSpan.Zero));

        // Assert
        Assert.Equal(11, samples.Count);
        Assert.Equal(0, Value(samples, "tcp_connections", "state", "closing"));
        Assert.True(Value(samples, "tcp_connections", "state", "listen") > 0);
    }

    [Fact]
    public void TcpCollector_MinInterval_ReadsAtMostOncePerMinInterval()
    {
        // Arrange
        var time = new FakeTimeProvider();
        var fs = new FakeFileSystem().With("/proc/net/tcp", Fixtures.Tcp).With("/proc/net/tcp6", Fixtures.Tcp6);
        var tcp = new TcpCollector(fs, time, TimeSpan.FromSeconds(10));

        // Act: snapshots every second for 20 s.
        var counts = new List<int>();
        for (int i = 0; i < 21; i++)
        {
            counts.Add(Run(tcp).Count);
            time.Advance(TimeSpan.FromSeconds(1));
        }

        // Assert: at 0 s, 10 s and 20 s.
        Assert.Equal([0, 10, 20], counts.Select((c, i) => (c, i)).Where(x => x.c == 11).Select(x => x.i));
    }
}
