using System.Buffers.Binary;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Google.Protobuf;
using Microsoft.Extensions.Options;
using Monitor.Agent.Options;
using Monitor.Protos.V1;

namespace Monitor.Agent.Sending;

/// <summary>
/// The bounded on-disk spool. Every batch is written here before it is sent and deleted only when
/// its ack arrives, so a network outage, a report-service restart or an agent crash loses nothing
/// (bounded by <c>Agent:MaxSpoolBytes</c> / <c>Agent:MaxSpoolBatches</c>: when full the oldest batches
/// are dropped, counted and logged with the number of samples lost).
/// <para>
/// Layout: one file per batch, <c>{sequence:D20}-{samples}.batch</c>, holding a 4-byte little-endian
/// payload length and the protobuf <see cref="SampleBatch"/>. A batch is written to a <c>.tmp</c>
/// file, fsync'd (<c>Agent:SpoolFsync</c>) and renamed, so after kill -9 a file is either complete
/// or a leftover <c>.tmp</c> that the next start deletes; a file whose length does not match its
/// header (torn by a power loss) is discarded and counted when read. At 1 batch per interval one
/// file per batch is simple and cheap. <c>sequence</c> holds a reserved high-water mark of batch
/// sequences (rewritten once every <see cref="SequenceBlock"/> batches) so sequences keep
/// increasing across restarts even when the spool is empty; <c>.lock</c> keeps a second agent out.
/// </para>
/// Thread-safe: the sampler appends, the sender reads and removes.
/// </summary>
internal sealed partial class Spool : IDisposable
{
    public const int SequenceBlock = 1000;
    private const int CacheLimit = 64;

    private readonly AgentOptions _options;
    private readonly AgentStatus _status;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<Spool> _logger;
    private readonly Lock _lock = new();
    private readonly SortedSet<ulong> _order = [];
    private readonly Dictionary<ulong, Entry> _entries = [];
    private readonly Dictionary<ulong, SampleBatch> _cache = [];
    private readonly Queue<ulong> _cacheOrder = new();
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private FileStream? _lockFile;
    private StreamWriter? _audit;
    private long _bytes;
    private ulong _next;
    private ulong _reserved;

    private sealed record Entry(string? FileName, long Bytes, int Samples);

    public Spool(IOptions<AgentOptions> options, AgentStatus status, TimeProvider timeProvider, ILogger<Spool> logger)
    {
        _options = options.Value;
        _status = status;
        _timeProvider = timeProvider;
        _logger = logger;
    }

    public string Directory => _options.SpoolDirectory;

    public bool IsOpen => _lockFile is not null;

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _order.Count;
            }
        }
    }

    public long Bytes
    {
        get
        {
            lock (_lock)
            {
                return _bytes;
            }
        }
    }

    /// <summary>
    /// Creates and locks the directory, deletes leftover temporary files and indexes the batches
    /// left by a previous run. Throws <see cref="InvalidOperationException"/> naming
    /// <c>Agent:SpoolDirectory</c> when the directory is unusable or locked by another agent.
    /// </summary>
    public void Open()
    {
        lock (_lock)
        {
            if (_lockFile is not null)
            {
                return;
            }
            var dir = _options.SpoolDirectory;
            try
            {
                System.IO.Directory.CreateDirectory(dir);
                _lockFile = new FileStream(Path.Combine(dir, ".lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException ex)
            {
                throw new InvalidOperationException($"Agent:SpoolDirectory '{dir}' cannot be used (is another agent running with it?): {ex.Message}", ex);
            }
            catch (UnauthorizedAccessException ex)
            {
                throw new InvalidOperationException($"Agent:SpoolDirectory '{dir}' is not writable: {ex.Message}", ex);
            }

            foreach (var tmp in System.IO.Directory.EnumerateFiles(dir, "*.tmp"))
            {
                File.Delete(tmp);
            }
            ulong highest = 0;
            foreach (var path in System.IO.Directory.EnumerateFiles(dir, "*.batch"))
            {
                var name = Path.GetFileName(path);
                if (!TryParseName(name, out var sequence, out var samples))
                {
                    continue;
                }
                var entry = new Entry(name, new FileInfo(path).Length, samples);
                _order.Add(sequence);
                _entries[sequence] = entry;
                _bytes += entry.Bytes;
                highest = Math.Max(highest, sequence);
            }

            _reserved = ReadReservedSequence();
            // The clock is only a floor in case the spool directory was wiped.
            var clockFloor = (ulong)_timeProvider.GetUtcNow().ToUnixTimeMilliseconds() * 1000;
            _next = Math.Max(Math.Max(_reserved, highest), clockFloor);

            if (!string.IsNullOrEmpty(_options.SpoolLedgerPath))
            {
                _audit = new StreamWriter(new FileStream(_options.SpoolLedgerPath, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
            }
            Log.Opened(_logger, dir, _order.Count, _bytes);
            EnforceLimitsLocked();
            PublishDepthLocked();
        }
    }

    /// <summary>The next batch sequence: strictly increasing, also across restarts.</summary>
    public ulong NextSequence()
    {
        lock (_lock)
        {
            EnsureOpen();
            _next++;
            if (_next > _reserved)
            {
                _reserved = _next + SequenceBlock;
                WriteReservedSequence(_reserved);
            }
            return _next;
        }
    }

    /// <summary>
    /// Writes <paramref name="batch"/> durably, then makes it available to the sender. If the disk
    /// write fails (disk full) the batch is still kept in memory and sent: better unprotected than lost.
    /// </summary>
    public void Append(SampleBatch batch)
    {
        EnsureOpen();
        var payload = batch.ToByteArray();
        var name = $"{batch.Sequence.ToString("D20", CultureInfo.InvariantCulture)}-{batch.Samples.Count.ToString(CultureInfo.InvariantCulture)}.batch";
        string? fileName = name;
        try
        {
            WriteFile(name, payload);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Log.WriteFailed(_logger, batch.Sequence, _options.SpoolDirectory, ex);
            fileName = null;
        }

        TaskCompletionSource changed;
        lock (_lock)
        {
            var entry = new Entry(fileName, fileName is null ? 0 : payload.Length + 4, batch.Samples.Count);
            _order.Add(batch.Sequence);
            _entries[batch.Sequence] = entry;
            _bytes += entry.Bytes;
            _cache[batch.Sequence] = batch;
            _cacheOrder.Enqueue(batch.Sequence);
            TrimCacheLocked();
            _audit?.WriteLine(JsonSerializer.Serialize(new SpoolLedgerEntry(batch.HostId, batch.Sequence, batch.Samples.Count), SpoolJsonContext.Default.SpoolLedgerEntry));
            EnforceLimitsLocked();
            PublishDepthLocked();
            changed = SwapChangedLocked();
        }
        changed.TrySetResult();
    }

    /// <summary>Up to <paramref name="max"/> spooled sequences above <paramref name="after"/>, in order.</summary>
    public List<ulong> After(ulong after, int max)
    {
        lock (_lock)
        {
            var result = new List<ulong>(Math.Min(max, _order.Count));
            if (after == ulong.MaxValue)
            {
                return result;
            }
            foreach (var seq in _order.GetViewBetween(after + 1, ulong.MaxValue))
            {
                if (result.Count == max)
                {
                    break;
                }
                result.Add(seq);
            }
            return result;
        }
    }

    /// <summary>How many spooled batches have a sequence up to <paramref name="upTo"/> (the sender's in-flight window).</summary>
    public int CountUpTo(ulong upTo)
    {
        lock (_lock)
        {
            return _order.Count == 0 || upTo < _order.Min ? 0 : _order.GetViewBetween(_order.Min, upTo).Count;
        }
    }

    /// <summary>
    /// The batch with this sequence, from memory or disk; null when it is no longer spooled or its
    /// file is unreadable (then it is discarded and counted as dropped).
    /// </summary>
    public SampleBatch? Read(ulong sequence)
    {
        Entry? entry;
        lock (_lock)
        {
            if (_cache.TryGetValue(sequence, out var cached))
            {
                return cached;
            }
            if (!_entries.TryGetValue(sequence, out entry) || entry.FileName is null)
            {
                return null;
            }
        }
        try
        {
            var bytes = File.ReadAllBytes(Path.Combine(_options.SpoolDirectory, entry.FileName));
            if (bytes.Length < 4 || BinaryPrimitives.ReadInt32LittleEndian(bytes) != bytes.Length - 4)
            {
                throw new InvalidDataException($"length header says {(bytes.Length < 4 ? -1 : BinaryPrimitives.ReadInt32LittleEndian(bytes))}, file has {bytes.Length - 4} payload bytes");
            }
            var batch = SampleBatch.Parser.ParseFrom(bytes.AsSpan(4));
            if (batch.Sequence != sequence || batch.Samples.Count != entry.Samples)
            {
                throw new InvalidDataException($"file holds sequence {batch.Sequence} with {batch.Samples.Count} samples");
            }
            return batch;
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or InvalidProtocolBufferException)
        {
            Log.Corrupt(_logger, entry.FileName, entry.Samples, ex.Message);
            if (Remove(sequence))
            {
                _status.AddDropped(1, entry.Samples);
            }
            return null;
        }
    }

    /// <summary>Deletes an acknowledged batch; false when it was not spooled (a duplicate ack, or dropped meanwhile).</summary>
    public bool Remove(ulong sequence)
    {
        Entry? entry;
        TaskCompletionSource changed;
        lock (_lock)
        {
            if (!_entries.Remove(sequence, out entry))
            {
                return false;
            }
            _order.Remove(sequence);
            _cache.Remove(sequence);
            _bytes -= entry.Bytes;
            PublishDepthLocked();
            changed = SwapChangedLocked();
        }
        DeleteFile(entry);
        changed.TrySetResult();
        return true;
    }

    /// <summary>Completes when a batch is appended or removed after this call.</summary>
    public Task WaitForChangeAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return _changed.Task.WaitAsync(cancellationToken);
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _audit?.Dispose();
            _lockFile?.Dispose();
            _lockFile = null;
        }
    }

    private void EnsureOpen()
    {
        if (_lockFile is null)
        {
            throw new InvalidOperationException("The spool is not open.");
        }
    }

    private void WriteFile(string name, byte[] payload)
    {
        var dir = _options.SpoolDirectory;
        var tmp = Path.Combine(dir, name + ".tmp");
        using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0))
        {
            Span<byte> header = stackalloc byte[4];
            BinaryPrimitives.WriteInt32LittleEndian(header, payload.Length);
            fs.Write(header);
            fs.Write(payload);
            if (_options.SpoolFsync)
            {
                fs.Flush(flushToDisk: true);
            }
        }
        File.Move(tmp, Path.Combine(dir, name), overwrite: true);
    }

    private void DeleteFile(Entry entry)
    {
        if (entry.FileName is null)
        {
            return;
        }
        try
        {
            File.Delete(Path.Combine(_options.SpoolDirectory, entry.FileName));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A leftover file would be replayed after a restart: a harmless duplicate (writes are idempotent).
            Log.DeleteFailed(_logger, entry.FileName, ex.Message);
        }
    }

    private void EnforceLimitsLocked()
    {
        long droppedBatches = 0;
        long droppedSamples = 0;
        ulong first = 0;
        ulong last = 0;
        // The newest batch always stays, however small the limits.
        while (_order.Count > 1 && (_order.Count > _options.MaxSpoolBatches || _bytes > _options.MaxSpoolBytes))
        {
            var oldest = _order.Min;
            var entry = _entries[oldest];
            _order.Remove(oldest);
            _entries.Remove(oldest);
            _cache.Remove(oldest);
            _bytes -= entry.Bytes;
            DeleteFile(entry);
            if (droppedBatches == 0)
            {
                first = oldest;
            }
            last = oldest;
            droppedBatches++;
            droppedSamples += entry.Samples;
        }
        if (droppedBatches > 0)
        {
            _status.AddDropped(droppedBatches, droppedSamples);
            Log.Dropped(_logger, droppedBatches, first, last, droppedSamples, _status.DroppedSamples);
        }
    }

    private void TrimCacheLocked()
    {
        // Recent batches are served from memory; an outage's backlog is read back from disk.
        var guard = _cacheOrder.Count;
        while (_cacheOrder.Count > CacheLimit && guard-- > 0)
        {
            var seq = _cacheOrder.Dequeue();
            if (_entries.TryGetValue(seq, out var entry) && entry.FileName is null)
            {
                // Not on disk (the write failed): memory is its only copy.
                _cacheOrder.Enqueue(seq);
                continue;
            }
            _cache.Remove(seq);
        }
    }

    private void PublishDepthLocked() => _status.SetSpoolDepth(_order.Count, _bytes);

    private TaskCompletionSource SwapChangedLocked()
    {
        var changed = _changed;
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return changed;
    }

    private ulong ReadReservedSequence()
    {
        var path = Path.Combine(_options.SpoolDirectory, "sequence");
        try
        {
            return ulong.TryParse(File.ReadAllText(path).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : 0;
        }
        catch (FileNotFoundException)
        {
            return 0;
        }
    }

    private void WriteReservedSequence(ulong value)
    {
        var path = Path.Combine(_options.SpoolDirectory, "sequence");
        var tmp = path + ".tmp";
        using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0))
        {
            fs.Write(System.Text.Encoding.ASCII.GetBytes(value.ToString(CultureInfo.InvariantCulture)));
            fs.Flush(flushToDisk: true);
        }
        File.Move(tmp, path, overwrite: true);
    }

    internal static bool TryParseName(string name, out ulong sequence, out int samples)
    {
        sequence = 0;
        samples = 0;
        var span = name.AsSpan();
        if (!span.EndsWith(".batch", StringComparison.Ordinal))
        {
            return false;
        }
        span = span[..^6];
        int dash = span.IndexOf('-');
        return dash > 0 &&
            ulong.TryParse(span[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out sequence) &&
            int.TryParse(span[(dash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out samples);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4301, EventName = "SpoolOpened", Level = LogLevel.Information,
            Message = "Spool {Directory}: {Batches} batch(es), {Bytes} bytes waiting from a previous run")]
        public static partial void Opened(ILogger logger, string directory, int batches, long bytes);

        [LoggerMessage(EventId = 4302, EventName = "SpoolFullDropped", Level = LogLevel.Error,
            Message = "Spool full: dropped the {Batches} oldest batch(es) {First}..{Last}, {Samples} samples lost ({TotalLost} lost since start)")]
        public static partial void Dropped(ILogger logger, long batches, ulong first, ulong last, long samples, long totalLost);

        [LoggerMessage(EventId = 4303, EventName = "SpoolBatchCorrupt", Level = LogLevel.Error,
            Message = "Spool file {File} is damaged ({Samples} samples lost): {Error}")]
        public static partial void Corrupt(ILogger logger, string file, int samples, string error);

        [LoggerMessage(EventId = 4304, EventName = "SpoolWriteFailed", Level = LogLevel.Error,
            Message = "Could not write batch {Sequence} to the spool {Directory}; it is kept in memory only")]
        public static partial void WriteFailed(ILogger logger, ulong sequence, string directory, Exception exception);

        [LoggerMessage(EventId = 4305, EventName = "SpoolDeleteFailed", Level = LogLevel.Warning,
            Message = "Could not delete acknowledged spool file {File}: {Error}")]
        public static partial void DeleteFailed(ILogger logger, string file, string error);
    }
}

/// <summary>One batch written to the spool, in the optional <c>Agent:SpoolLedgerPath</c> audit.</summary>
internal sealed record SpoolLedgerEntry(string Host, ulong Sequence, int Samples);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(SpoolLedgerEntry))]
internal sealed partial class SpoolJsonContext : JsonSerializerContext;
