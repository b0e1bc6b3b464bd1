using System.Diagnostics;
using System.Diagnostics.Tracing;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Runtime;
using Microsoft.Diagnostics.Symbols;
using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Etlx;
using Microsoft.Diagnostics.Tracing.Parsers;
using Microsoft.Diagnostics.Tracing.Stacks;
using Microsoft.Diagnostics.Tracing.Stacks.Formats;
using Microsoft.Extensions.Options;

namespace Monitor.Diagnostics.Admin;

/// <summary>
/// The operations behind the admin-port diagnostics, all on the own process: GC and thread-pool figures from the
/// runtime's APIs; managed stacks and the heap histogram from a dump of the own process (written through the
/// runtime's diagnostic IPC, <c>Microsoft.Diagnostics.NETCore.Client</c>) read with ClrMD; CPU traces through an
/// EventPipe session on the own process, converted to speedscope with TraceEvent. At most one operation runs at a
/// time (<see cref="TryEnter"/>).
/// </summary>
public sealed class RuntimeDiagnostics(IOptions<DiagnosticsOptions> options)
{
    /// <summary>Clamp bounds of a CPU trace, seconds.</summary>
    public const int MinTraceSeconds = 1, MaxTraceSeconds = 60;

    /// <summary>Clamp bounds of the heap histogram's row count.</summary>
    public const int MinTopTypes = 1, MaxTopTypes = 1000;

    /// <summary>Clamp bound of the frames listed per thread.</summary>
    public const int MaxFramesPerThread = 200;

    private int _busy;

    /// <summary>Takes the one-operation-at-a-time gate; false when another operation runs.</summary>
    public bool TryEnter() => Interlocked.CompareExchange(ref _busy, 1, 0) == 0;

    /// <summary>Releases the gate taken by <see cref="TryEnter"/>.</summary>
    public void Exit() => Volatile.Write(ref _busy, 0);

    /// <summary>GC summary: per-generation sizes and fragmentation, pauses, collection counts.</summary>
    public static GcSummary Gc()
    {
        var info = GC.GetGCMemoryInfo(GCKind.Any);
        var generations = new List<GcGeneration>();
        string[] names = ["gen0", "gen1", "gen2", "loh", "poh"];
        for (var i = 0; i < info.GenerationInfo.Length && i < names.Length; i++)
        {
            var g = info.GenerationInfo[i];
            generations.Add(new GcGeneration(names[i], g.SizeBeforeBytes, g.SizeAfterBytes, g.FragmentationBeforeBytes, g.FragmentationAfterBytes,
                i <= GC.MaxGeneration ? GC.CollectionCount(i) : null));
        }
        return new GcSummary(
            GC.GetTotalMemory(false), GC.GetTotalAllocatedBytes(false), info.HeapSizeBytes, info.TotalCommittedBytes, info.FragmentedBytes,
            info.MemoryLoadBytes, info.HighMemoryLoadThresholdBytes, info.TotalAvailableMemoryBytes,
            info.Index, info.Generation, info.Compacted, info.Concurrent, info.PauseTimePercentage,
            info.PauseDurations.ToArray().Select(p => p.TotalMilliseconds).ToList(),
            GC.GetTotalPauseDuration().TotalMilliseconds, System.Runtime.GCSettings.IsServerGC, System.Runtime.GCSettings.LatencyMode.ToString(),
            generations);
    }

    /// <summary>Thread counts, thread-pool state, lock contention and the managed stack of every thread.</summary>
    public async Task<ThreadsReport> ThreadsAsync(int maxFrames, CancellationToken cancellationToken)
    {
        maxFrames = Math.Clamp(maxFrames, 1, MaxFramesPerThread);
        ThreadPool.GetMinThreads(out var minWorkers, out var minIo);
        ThreadPool.GetMaxThreads(out var maxWorkers, out var maxIo);
        ThreadPool.GetAvailableThreads(out var availableWorkers, out var availableIo);
        using var process = Process.GetCurrentProcess();
        var pool = new ThreadPoolState(ThreadPool.ThreadCount, ThreadPool.PendingWorkItemCount, ThreadPool.CompletedWorkItemCount,
            minWorkers, maxWorkers, maxWorkers - availableWorkers, minIo, maxIo, maxIo - availableIo);
        var osThreads = process.Threads.Count;
        var contention = System.Threading.Monitor.LockContentionCount;

        var threads = await WithDumpAsync(DumpType.WithHeap, path =>
        {
            using var target = DataTarget.LoadDump(path);
            using var runtime = target.ClrVersions[0].CreateRuntime();
            var list = new List<ManagedThreadInfo>();
            foreach (var thread in runtime.Threads)
            {
                if (!thread.IsAlive)
                {
                    continue;
                }
                var frames = thread.EnumerateStackTrace()
                    .Select(f => f.Method?.Signature ?? f.FrameName ?? f.Kind.ToString())
                    .Where(f => !string.IsNullOrEmpty(f))
                    .Take(maxFrames)
                    .Select(f => f!)
                    .ToList();
                list.Add(new ManagedThreadInfo(thread.ManagedThreadId, thread.OSThreadId, thread.State.ToString(), thread.IsFinalizer,
                    thread.LockCount, thread.CurrentException?.Type?.Name, frames));
            }
            return list;
        }, cancellationToken).ConfigureAwait(false);
        return new ThreadsReport(osThreads, threads.Count, contention, pool, threads);
    }

    /// <summary>Type histogram (count, bytes) of the managed heap from a heap dump, largest <paramref name="top"/> types first.</summary>
    public async Task<HeapHistogram> HeapAsync(int top, CancellationToken cancellationToken)
    {
        top = Math.Clamp(top, MinTopTypes, MaxTopTypes);
        return await WithDumpAsync(DumpType.WithHeap, path =>
        {
            using var target = DataTarget.LoadDump(path);
            using var runtime = target.ClrVersions[0].CreateRuntime();
            var byType = new Dictionary<string, (long Count, long Bytes)>(StringComparer.Ordinal);
            long objects = 0, bytes = 0;
            foreach (var obj in runtime.Heap.EnumerateObjects())
            {
                if (!obj.IsValid)
                {
                    continue;
                }
                var name = obj.Type?.Name ?? "(unknown)";
                var size = (long)obj.Size;
                var (c, b) = byType.GetValueOrDefault(name);
                byType[name] = (c + 1, b + size);
                objects++;
                bytes += size;
            }
            var rows = byType.OrderByDescending(kv => kv.Value.Bytes).ThenBy(kv => kv.Key, StringComparer.Ordinal).Take(top)
                .Select(kv => new HeapTypeRow(kv.Key, kv.Value.Count, kv.Value.Bytes)).ToList();
            return new HeapHistogram(objects, bytes, byType.Count, rows);
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Samples the own process's CPU for <paramref name="seconds"/> (clamped 1-60) into a <c>.nettrace</c> file, optionally
    /// converted to speedscope JSON. Returns the artefact's path inside <paramref name="directory"/>.
    /// </summary>
    public static async Task<string> CpuTraceAsync(string directory, int seconds, bool speedscope, CancellationToken cancellationToken)
    {
        seconds = Math.Clamp(seconds, MinTraceSeconds, MaxTraceSeconds);
        var nettrace = Path.Combine(directory, "cpu.nettrace");
        var client = new DiagnosticsClient(Environment.ProcessId);
        EventPipeProvider[] providers =
        [
            new("Microsoft-DotNETCore-SampleProfiler", EventLevel.Informational),
            new("Microsoft-Windows-DotNETRuntime", EventLevel.Informational, (long)ClrTraceEventParser.Keywords.Default),
        ];
        using (var session = client.StartEventPipeSession(providers, requestRundown: true, circularBufferMB: 256))
        {
            await using var file = OwnerOnlyFile(nettrace);
            var copy = session.EventStream.CopyToAsync(file, CancellationToken.None);
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(seconds), cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                await session.StopAsync(CancellationToken.None).ConfigureAwait(false);
                await copy.ConfigureAwait(false);
            }
        }
        if (!speedscope)
        {
            return nettrace;
        }
        var json = Path.Combine(directory, "cpu.speedscope.json");
        await Task.Run(() => ConvertToSpeedscope(nettrace, json, directory), cancellationToken).ConfigureAwait(false);
        return json;
    }

    /// <summary>Writes a dump of the own process into <paramref name="directory"/>; returns its path (mode 0600).</summary>
    public static async Task<string> DumpAsync(string directory, DumpType type, CancellationToken cancellationToken)
    {
        var path = Path.Combine(directory, "core.dmp");
        var client = new DiagnosticsClient(Environment.ProcessId);
        await client.WriteDumpAsync(type, path, logDumpGeneration: false, cancellationToken).ConfigureAwait(false);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        return path;
    }

    /// <summary>A private (0700) work directory for one operation; the caller deletes it.</summary>
    public string CreateWorkDirectory()
    {
        var root = string.IsNullOrWhiteSpace(options.Value.WorkDirectory) ? Path.GetTempPath() : options.Value.WorkDirectory;
        var path = Path.Combine(root, $"monitor-diag-{Environment.ProcessId}-{Guid.NewGuid():N}");
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
        }
        else
        {
            Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        return path;
    }

    /// <summary>Deletes a work directory, ignoring what is already gone.</summary>
    public static void DeleteWorkDirectory(string path)
    {
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
            // Already gone.
        }
    }

    private async Task<T> WithDumpAsync<T>(DumpType type, Func<string, T> read, CancellationToken cancellationToken)
    {
        var directory = CreateWorkDirectory();
        try
        {
            var path = await DumpAsync(directory, type, cancellationToken).ConfigureAwait(false);
            return await Task.Run(() => read(path), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            DeleteWorkDirectory(directory);
        }
    }

    private static void ConvertToSpeedscope(string nettrace, string json, string directory)
    {
        var etlx = TraceLog.CreateFromEventPipeDataFile(nettrace, Path.Combine(directory, "cpu.etlx"));
        using var symbols = new SymbolReader(TextWriter.Null) { SymbolPath = "" };
        using var log = new TraceLog(etlx);
        var stacks = new MutableTraceEventStackSource(log) { OnlyManagedCodeStacks = true };
        var computer = new SampleProfilerThreadTimeComputer(log, symbols);
        computer.GenerateThreadTimeStacks(stacks);
        SpeedScopeStackSourceWriter.WriteStackViewAsJson(stacks, json);
    }

    private static FileStream OwnerOnlyFile(string path)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.Read };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        return new FileStream(path, options);
    }
}

/// <summary>GC summary (JSON of <c>GET /diagnostics/gc</c>); sizes in bytes, durations in milliseconds.</summary>
public sealed record GcSummary(
    long TotalMemoryBytes,
    long TotalAllocatedBytes,
    long HeapSizeBytes,
    long TotalCommittedBytes,
    long FragmentedBytes,
    long MemoryLoadBytes,
    long HighMemoryLoadThresholdBytes,
    long TotalAvailableMemoryBytes,
    long LastGcIndex,
    int LastGcGeneration,
    bool LastGcCompacted,
    bool LastGcConcurrent,
    double PauseTimePercentage,
    IReadOnlyList<double> LastGcPausesMs,
    double TotalPauseMs,
    bool ServerGc,
    string LatencyMode,
    IReadOnlyList<GcGeneration> Generations);

/// <summary>One generation as of the last GC.</summary>
public sealed record GcGeneration(string Name, long SizeBeforeBytes, long SizeAfterBytes, long FragmentationBeforeBytes, long FragmentationAfterBytes, int? Collections);

/// <summary>Thread-pool state.</summary>
public sealed record ThreadPoolState(int Threads, long PendingWorkItems, long CompletedWorkItems, int MinWorkers, int MaxWorkers, int BusyWorkers, int MinIo, int MaxIo, int BusyIo);

/// <summary>JSON of <c>GET /diagnostics/threads</c>.</summary>
public sealed record ThreadsReport(int OsThreads, int ManagedThreads, long LockContentionCount, ThreadPoolState ThreadPool, IReadOnlyList<ManagedThreadInfo> Threads);

/// <summary>One managed thread and its stack (innermost frame first).</summary>
public sealed record ManagedThreadInfo(int ManagedThreadId, uint OsThreadId, string State, bool IsFinalizer, uint LockCount, string? CurrentException, IReadOnlyList<string> Frames);

/// <summary>JSON of <c>GET /diagnostics/heap</c>.</summary>
public sealed record HeapHistogram(long Objects, long Bytes, int Types, IReadOnlyList<HeapTypeRow> Rows);

/// <summary>One type of the heap histogram.</summary>
public sealed record HeapTypeRow(string Type, long Count, long Bytes);
