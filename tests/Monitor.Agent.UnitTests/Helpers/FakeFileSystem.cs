using Monitor.Agent.Collectors;

namespace Monitor.Agent.UnitTests.Helpers;

/// <summary>An in-memory /proc and /sys: text per path, directory listings, statvfs answers.</summary>
internal sealed class FakeFileSystem : IFileSystem
{
    public Dictionary<string, string> Files { get; } = [];
    public Dictionary<string, List<string>> Directories { get; } = [];
    public Dictionary<string, FileSystemStats> Mounts { get; } = [];

    public FakeFileSystem With(string path, string text)
    {
        Files[path] = text;
        return this;
    }

    public string ReadAllText(string path) =>
        Files.TryGetValue(path, out var text) ? text : throw new FileNotFoundException("no such fixture", path);

    public IReadOnlyList<string> DirectoryNames(string path) =>
        Directories.TryGetValue(path, out var names) ? names : [];

    public FileSystemStats StatVfs(string mountPoint) =>
        Mounts.TryGetValue(mountPoint, out var stats) ? stats : throw new IOException($"statvfs({mountPoint}) failed: errno 13");
}

/// <summary>The captured /proc text in Fixtures/*.txt (embedded resources).</summary>
internal static class Fixtures
{
    public static string Read(string name)
    {
        using var stream = typeof(Fixtures).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"fixture {name} is not embedded");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    public static string Stat => Read("proc_stat.txt");
    public static string MemInfo => Read("proc_meminfo.txt");
    public static string LoadAvg => Read("proc_loadavg.txt");
    public static string Uptime => Read("proc_uptime.txt");
    public static string DiskStats => Read("proc_diskstats.txt");
    public static string NetDev => Read("proc_net_dev.txt");
    public static string Tcp => Read("proc_net_tcp.txt");
    public static string Tcp6 => Read("proc_net_tcp6.txt");
    public static string MountInfo => Read("proc_self_mountinfo.txt");
}
