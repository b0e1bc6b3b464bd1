namespace Monitor.Agent.Collectors;

/// <summary>
/// Per real mount (label <c>mount</c>): <c>disk_used_bytes</c>, <c>disk_free_bytes</c> (available to
/// unprivileged users, df's "Avail") and <c>disk_used_percent</c> (used / (used + available), as df
/// computes Use%). Which mounts count is decided by <see cref="ProcParsers.SelectRealMounts"/>.
/// statvfs on a hung network mount can block: that is what the collector timeout is for.
/// </summary>
internal sealed class DiskUsageCollector(IFileSystem fileSystem, IReadOnlyCollection<string> excludedTypes) : ICollector
{
    public string Name => "disk_usage";

    public bool MayBlock => true;

    public void Collect(SampleWriter writer)
    {
        var mounts = ProcParsers.SelectRealMounts(ProcParsers.ParseMountInfo(fileSystem.ReadAllText("/proc/self/mountinfo")), excludedTypes);
        IOException? firstError = null;
        foreach (var mount in mounts)
        {
            FileSystemStats stats;
            try
            {
                stats = fileSystem.StatVfs(mount.MountPoint);
            }
            catch (IOException ex)
            {
                // One unreadable mount (e.g. permission) must not hide the others.
                firstError ??= ex;
                continue;
            }
            if (stats.TotalBytes == 0)
            {
                continue;
            }
            var used = stats.TotalBytes - Math.Min(stats.TotalBytes, stats.FreeBytes);
            var usable = used + stats.AvailableBytes;
            writer.Add("disk_used_bytes", used, "mount", mount.MountPoint);
            writer.Add("disk_free_bytes", stats.AvailableBytes, "mount", mount.MountPoint);
            writer.Add("disk_used_percent", usable == 0 ? 0 : 100.0 * used / usable, "mount", mount.MountPoint);
        }
        if (firstError is not null && writer.Samples.Count == 0)
        {
            throw firstError;
        }
    }
}
