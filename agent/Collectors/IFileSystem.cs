using System.Runtime.InteropServices;

namespace Monitor.Agent.Collectors;

/// <summary>Capacity of one mounted file system, as statvfs(3) reports it, in bytes.</summary>
/// <param name="TotalBytes">Size of the file system (f_blocks × f_frsize).</param>
/// <param name="FreeBytes">Free space including the root reserve (f_bfree × f_frsize).</param>
/// <param name="AvailableBytes">Free space for unprivileged users (f_bavail × f_frsize).</param>
internal readonly record struct FileSystemStats(ulong TotalBytes, ulong FreeBytes, ulong AvailableBytes);

/// <summary>The seam through which collectors read /proc and /sys, so parsers are tested against fixture text.</summary>
internal interface IFileSystem
{
    /// <summary>The whole file as text; throws <see cref="IOException"/> (e.g. <see cref="FileNotFoundException"/>) when unreadable.</summary>
    string ReadAllText(string path);

    /// <summary>The names (not paths) of the sub-directories of <paramref name="path"/>; empty when it does not exist.</summary>
    IReadOnlyList<string> DirectoryNames(string path);

    /// <summary>statvfs(3) of a mount point; throws <see cref="IOException"/> when the call fails.</summary>
    FileSystemStats StatVfs(string mountPoint);
}

internal sealed partial class PhysicalFileSystem : IFileSystem
{
    // One reused read buffer (grows to the largest file read; collectors read one at a time).
    // /proc/net/tcp in particular must be read in few, large reads: every read(2) makes the kernel
    // seek through the TCP hash table again.
    private readonly Lock _lock = new();
    private byte[] _buffer = new byte[64 * 1024];

    public string ReadAllText(string path)
    {
        lock (_lock)
        {
            return ReadAllTextLocked(path);
        }
    }

    private string ReadAllTextLocked(string path)
    {
        var buffer = _buffer;
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var length = 0;
        while (true)
        {
            if (length == buffer.Length)
            {
                Array.Resize(ref buffer, buffer.Length * 2);
                _buffer = buffer;
            }
            // /proc files have no size and no offsets worth trusting: read sequentially until EOF.
            var read = RandomAccess.Read(handle, buffer.AsSpan(length), length);
            if (read == 0)
            {
                break;
            }
            length += read;
        }
        return System.Text.Encoding.UTF8.GetString(buffer, 0, length);
    }

    public IReadOnlyList<string> DirectoryNames(string path)
    {
        try
        {
            // FileSystemEnumerable decides "directory" from the directory entry itself (no stat per entry).
            return new System.IO.Enumeration.FileSystemEnumerable<string>(
                path,
                static (ref System.IO.Enumeration.FileSystemEntry entry) => entry.FileName.ToString(),
                new EnumerationOptions { AttributesToSkip = 0, IgnoreInaccessible = true })
            {
                ShouldIncludePredicate = static (ref System.IO.Enumeration.FileSystemEntry entry) => entry.IsDirectory,
            }.ToList();
        }
        catch (DirectoryNotFoundException)
        {
            // An absent /sys/block is treated like an empty one.
            return [];
        }
    }

    public FileSystemStats StatVfs(string mountPoint)
    {
        if (statvfs(mountPoint, out var s) != 0)
        {
            throw new IOException($"statvfs({mountPoint}) failed: errno {Marshal.GetLastPInvokeError()}");
        }
        var unit = s.FragmentSize != 0 ? s.FragmentSize : s.BlockSize;
        return new FileSystemStats(s.Blocks * unit, s.FreeBlocks * unit, s.AvailableBlocks * unit);
    }

    // glibc's struct statvfs on 64-bit Linux: eleven unsigned longs, then int __f_spare[6].
    [StructLayout(LayoutKind.Sequential, Size = 112)]
    private struct StatVfsNative
    {
        public ulong BlockSize;
        public ulong FragmentSize;
        public ulong Blocks;
        public ulong FreeBlocks;
        public ulong AvailableBlocks;
        public ulong Files;
        public ulong FreeFiles;
        public ulong AvailableFiles;
        public ulong FileSystemId;
        public ulong Flags;
        public ulong MaxNameLength;
    }

    [LibraryImport("libc", EntryPoint = "statvfs", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int statvfs(string path, out StatVfsNative buffer);
}
