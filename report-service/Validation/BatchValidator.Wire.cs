using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Monitor.ReportService.Validation;

/// <summary>What <see cref="BatchValidator.TryAcceptWire"/> read from a batch whose samples are all valid.</summary>
/// <param name="HostId">The batch's host id.</param>
/// <param name="Sequence">The agent's sequence number, echoed in the ack.</param>
/// <param name="SampleCount">Samples in the batch (all accepted).</param>
/// <param name="ClockSkewMs">Agent clock minus ours, milliseconds (0 when the batch carried no send time).</param>
/// <param name="ClockSkewed">True when the skew is beyond the warning threshold.</param>
internal readonly record struct WireBatch(string HostId, ulong Sequence, int SampleCount, long ClockSkewMs, bool ClockSkewed);

/// <summary>
/// The fast path of validation: the same rules as <see cref="BatchValidator.Validate"/>, checked on a batch's protobuf
/// wire bytes without decoding them into objects. It only ever says "every sample is valid"; anything else (a rejection,
/// text that is not plain ASCII, two labels with the same key, bytes that are not a well-formed batch, a host near its
/// series limit with new series) returns false, with nothing tracked, and the caller takes the full path, which decides
/// and words every rejection.
/// </summary>
internal sealed partial class BatchValidator
{
    // Field tags (field number << 3 | wire type) of monitor.v1.SampleBatch, Sample and the labels map entry.
    private const uint BatchHostId = (1 << 3) | 2, BatchSequence = 2 << 3, BatchSample = (3 << 3) | 2, BatchSentAt = 4 << 3;
    private const uint SampleMetric = (1 << 3) | 2, SampleValue = (2 << 3) | 1, SampleTimestamp = 3 << 3, SampleLabel = (4 << 3) | 2, SampleMessage = (5 << 3) | 2;
    private const uint EntryKey = (1 << 3) | 2, EntryValue = (2 << 3) | 2;

    public bool TryAcceptWire(ReadOnlySpan<byte> bytes, long nowUnixMs, out WireBatch batch)
    {
        batch = default;
        var (oldest, newest) = TimestampWindow(nowUnixMs);
        var hashes = ArrayPool<ulong>.Shared.Rent(64);
        try
        {
            var reader = new WireReader(bytes);
            ReadOnlySpan<byte> hostId = default;
            ulong sequence = 0;
            long sentAt = 0;
            int count = 0;
            while (!reader.End)
            {
                if (!reader.TryReadTag(out var tag))
                {
                    return false;
                }
                switch (tag)
                {
                    case BatchHostId:
                        if (!reader.TryReadBytes(out hostId))
                        {
                            return false;
                        }
                        break;
                    case BatchSequence:
                        if (!reader.TryReadVarint(out sequence))
                        {
                            return false;
                        }
                        break;
                    case BatchSentAt:
                        if (!reader.TryReadVarint(out var sent))
                        {
                            return false;
                        }
                        sentAt = (long)sent;
                        break;
                    case BatchSample:
                        if (!reader.TryReadBytes(out var sample) || count == _options.MaxSamplesPerBatch || !TryAcceptSample(sample, oldest, newest, out var hash))
                        {
                            return false;
                        }
                        if (count == hashes.Length)
                        {
                            var larger = ArrayPool<ulong>.Shared.Rent(count * 2);
                            hashes.AsSpan().CopyTo(larger);
                            ArrayPool<ulong>.Shared.Return(hashes);
                            hashes = larger;
                        }
                        hashes[count++] = hash;
                        break;
                    default:
                        if (!reader.TrySkip(tag))
                        {
                            return false;
                        }
                        break;
                }
            }
            if (hostId.IsEmpty || hostId.Length > _options.MaxHostIdLength || !IsPrintableAscii(hostId))
            {
                return false;
            }
            var host = Encoding.ASCII.GetString(hostId);
            if (!TryTrackAll(host, hashes.AsSpan(0, count)))
            {
                return false;
            }
            var (skew, skewed) = ClockSkew(sentAt, nowUnixMs);
            batch = new WireBatch(host, sequence, count, skew, skewed);
            return true;
        }
        finally
        {
            ArrayPool<ulong>.Shared.Return(hashes);
        }
    }

    /// <summary>The host id field of a batch's wire bytes (empty when absent; the last one when repeated, as decoding does); false when the bytes are not well-formed.</summary>
    public static bool TryReadHostId(ReadOnlySpan<byte> bytes, out ReadOnlySpan<byte> hostId)
    {
        hostId = default;
        var reader = new WireReader(bytes);
        while (!reader.End)
        {
            if (!reader.TryReadTag(out var tag) || !(tag == BatchHostId ? reader.TryReadBytes(out hostId) : reader.TrySkip(tag)))
            {
                return false;
            }
        }
        return true;
    }

    private bool TryAcceptSample(ReadOnlySpan<byte> bytes, long oldest, long newest, out ulong seriesHash)
    {
        seriesHash = 0;
        var reader = new WireReader(bytes);
        ReadOnlySpan<byte> metric = default;
        double value = 0;
        long timestamp = 0;
        int labels = 0;
        ulong labelSum = 0;
        Span<int> keyHashes = stackalloc int[Math.Min(_options.MaxLabelsPerSample, 64)];
        while (!reader.End)
        {
            if (!reader.TryReadTag(out var tag))
            {
                return false;
            }
            switch (tag)
            {
                case SampleMetric:
                    if (!reader.TryReadBytes(out metric))
                    {
                        return false;
                    }
                    break;
                case SampleValue:
                    if (!reader.TryReadFixed64(out var bits))
                    {
                        return false;
                    }
                    value = BitConverter.UInt64BitsToDouble(bits);
                    break;
                case SampleTimestamp:
                    if (!reader.TryReadVarint(out var ts))
                    {
                        return false;
                    }
                    timestamp = (long)ts;
                    break;
                case SampleLabel:
                    if (labels == keyHashes.Length || !reader.TryReadBytes(out var entry) || !TryAcceptLabel(entry, out var keyHash, out var valueHash))
                    {
                        return false;
                    }
                    // Two entries with the same key collapse into one label when decoded: leave that to the full path.
                    // (Equal hashes of different keys only send a batch there needlessly.)
                    if (keyHashes[..labels].Contains(keyHash))
                    {
                        return false;
                    }
                    keyHashes[labels++] = keyHash;
                    labelSum += MixLabel(keyHash, valueHash);
                    break;
                case SampleMessage:
                    // Every UTF-16 character takes at least one UTF-8 byte, so within the limit in bytes is within it in characters.
                    if (!reader.TryReadBytes(out var message) || message.Length > _options.MaxMessageLength)
                    {
                        return false;
                    }
                    break;
                default:
                    if (!reader.TrySkip(tag))
                    {
                        return false;
                    }
                    break;
            }
        }
        if (metric.Length > _options.MaxMetricNameLength || !IsMetricName<byte>(metric) || !double.IsFinite(value) || timestamp < oldest || timestamp > newest)
        {
            return false;
        }
        seriesHash = CombineSeriesHash(HashUtf8(metric), labels > 0, labelSum);
        return true;
    }

    private bool TryAcceptLabel(ReadOnlySpan<byte> entry, out int keyHash, out int valueHash)
    {
        keyHash = valueHash = 0;
        var reader = new WireReader(entry);
        ReadOnlySpan<byte> key = default, value = default;
        while (!reader.End)
        {
            if (!reader.TryReadTag(out var tag))
            {
                return false;
            }
            var ok = tag switch
            {
                EntryKey => reader.TryReadBytes(out key),
                EntryValue => reader.TryReadBytes(out value),
                _ => reader.TrySkip(tag),
            };
            if (!ok)
            {
                return false;
            }
        }
        if (key.Length > _options.MaxLabelKeyLength || !IsLabelKey<byte>(key)
            || value.IsEmpty || value.Length > _options.MaxLabelValueLength || !IsPrintableAscii(value))
        {
            return false;
        }
        keyHash = HashUtf8(key);
        valueHash = HashUtf8(value);
        return true;
    }

    /// <summary>Tracks every series of the batch in the host's set, or none: near the limit only known series pass.</summary>
    private bool TryTrackAll(string hostId, ReadOnlySpan<ulong> hashes)
    {
        var set = _seriesByHost.GetOrAdd(hostId, static _ => new HashSet<ulong>());
        lock (set)
        {
            if (set.Count + hashes.Length > _options.MaxSeriesPerHost)
            {
                foreach (var hash in hashes)
                {
                    if (!set.Contains(hash))
                    {
                        return false;
                    }
                }
                return true;
            }
            foreach (var hash in hashes)
            {
                set.Add(hash);
            }
            return true;
        }
    }

    // Plain ASCII without control characters; anything else goes to the full path's char.IsControl check.
    private static bool IsPrintableAscii(ReadOnlySpan<byte> text)
    {
        foreach (var c in text)
        {
            if (c is < 0x20 or >= 0x7F)
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>Reads protobuf wire format: varints, fixed64 and length-delimited fields, within one message's bytes.</summary>
    private ref struct WireReader(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private int _position;

        public readonly bool End => _position >= _data.Length;

        public bool TryReadTag(out uint tag)
        {
            tag = 0;
            if (!TryReadVarint(out var value) || value is 0 or > uint.MaxValue)
            {
                return false;
            }
            tag = (uint)value;
            return true;
        }

        public bool TryReadVarint(out ulong value)
        {
            value = 0;
            for (int shift = 0; shift < 64 && _position < _data.Length; shift += 7)
            {
                byte b = _data[_position++];
                value |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80)
                {
                    return true;
                }
            }
            return false;
        }

        public bool TryReadFixed64(out ulong value)
        {
            value = 0;
            if (_data.Length - _position < 8)
            {
                return false;
            }
            value = BinaryPrimitives.ReadUInt64LittleEndian(_data[_position..]);
            _position += 8;
            return true;
        }

        public bool TryReadBytes(out ReadOnlySpan<byte> bytes)
        {
            bytes = default;
            if (!TryReadVarint(out var length) || length > (ulong)(_data.Length - _position))
            {
                return false;
            }
            bytes = _data.Slice(_position, (int)length);
            _position += (int)length;
            return true;
        }

        /// <summary>Skips an unknown field as the decoder would keep it; groups (wire types 3 and 4) are not expected.</summary>
        public bool TrySkip(uint tag)
        {
            switch (tag & 7)
            {
                case 0:
                    return TryReadVarint(out _);
                case 1:
                    return TryReadFixed64(out _);
                case 2:
                    return TryReadBytes(out _);
                case 5:
                    if (_data.Length - _position < 4)
                    {
                        return false;
                    }
                    _position += 4;
                    return true;
                default:
                    return false;
            }
        }
    }
}
