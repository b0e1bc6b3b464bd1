using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;

namespace Monitor.Influx;

/// <summary>
/// Builds a batch of InfluxDB line-protocol points into a reusable, growable UTF-8 buffer, one point per line, each
/// line ending in <c>\n</c>. Escaping and validation follow <see cref="LineProtocol"/>.
/// </summary>
/// <remarks>
/// <para>
/// The builder is meant to be reused: call <see cref="Reset"/> after a batch was written and the buffer keeps its
/// capacity, so steady-state appends do not allocate (unless tags arrive unsorted through the
/// <see cref="IEnumerable{T}"/> overload of a type other than an array or a <see cref="List{T}"/>).
/// </para>
/// <para>
/// An append that throws leaves the builder exactly as it was before the call. Not thread-safe.
/// </para>
/// </remarks>
public sealed class LineProtocolBuilder
{
    private const int DefaultInitialCapacity = 16 * 1024;

    // Longest "R" double ("-1.2345678901234567E-308") and longest long ("-9223372036854775808") plus separators.
    private const int MaxNumberBytes = 32;

    private byte[] _buffer;
    private int _length;
    private int _pointCount;

    /// <summary>Creates a builder with a 16 KiB initial buffer.</summary>
    public LineProtocolBuilder()
        : this(DefaultInitialCapacity)
    {
    }

    /// <summary>Creates a builder with the given initial buffer size.</summary>
    /// <param name="initialCapacity">The initial buffer size in bytes; the buffer grows as needed.</param>
    public LineProtocolBuilder(int initialCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(initialCapacity);
        _buffer = initialCapacity == 0 ? [] : new byte[initialCapacity];
    }

    /// <summary>Gets the number of bytes written since the last <see cref="Reset"/>.</summary>
    public int Length => _length;

    /// <summary>Gets the number of points written since the last <see cref="Reset"/>.</summary>
    public int PointCount => _pointCount;

    /// <summary>Gets the current buffer capacity in bytes.</summary>
    public int Capacity => _buffer.Length;

    /// <summary>
    /// Gets the bytes written so far. The memory is only valid until the next append or <see cref="Reset"/>; do not
    /// hold on to it past that (for example, await the write before appending again).
    /// </summary>
    public ReadOnlyMemory<byte> WrittenMemory => _buffer.AsMemory(0, _length);

    /// <summary>Gets the bytes written so far; see <see cref="WrittenMemory"/> for how long they stay valid.</summary>
    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _length);

    /// <summary>Forgets the written points and keeps the buffer for reuse.</summary>
    public void Reset()
    {
        _length = 0;
        _pointCount = 0;
    }

    /// <summary>Appends one point; the tags may come in any order (they are sorted ordinally by key).</summary>
    /// <param name="measurement">The measurement name; not empty.</param>
    /// <param name="tags">The tags, in any order; <see langword="null"/> for none. Empty keys or values are skipped.</param>
    /// <param name="fieldKey">The field key; not empty.</param>
    /// <param name="value">The field value; finite.</param>
    /// <param name="timestampUnixMs">The timestamp in Unix milliseconds, within <see cref="LineProtocol.MinTimestampUnixMs"/> and <see cref="LineProtocol.MaxTimestampUnixMs"/>.</param>
    /// <exception cref="ArgumentException">An element cannot be written (see <see cref="LineProtocol"/>), a tag key repeats, or the value is NaN or infinite.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The timestamp is outside the range InfluxDB accepts.</exception>
    public void AppendPoint(
        string measurement,
        IEnumerable<KeyValuePair<string, string>>? tags,
        string fieldKey,
        double value,
        long timestampUnixMs)
    {
        switch (tags)
        {
            case null:
                AppendPoint(measurement, ReadOnlySpan<KeyValuePair<string, string>>.Empty, fieldKey, value, timestampUnixMs);
                return;
            case KeyValuePair<string, string>[] array:
                AppendPoint(measurement, new ReadOnlySpan<KeyValuePair<string, string>>(array), fieldKey, value, timestampUnixMs);
                return;
            case List<KeyValuePair<string, string>> list:
                AppendPoint(measurement, (ReadOnlySpan<KeyValuePair<string, string>>)CollectionsMarshal.AsSpan(list), fieldKey, value, timestampUnixMs);
                return;
        }

        var rented = ArrayPool<KeyValuePair<string, string>>.Shared.Rent(tags.TryGetNonEnumeratedCount(out var count) ? Math.Max(count, 1) : 16);
        var used = 0;
        try
        {
            foreach (var tag in tags)
            {
                if (used == rented.Length)
                {
                    var larger = ArrayPool<KeyValuePair<string, string>>.Shared.Rent(rented.Length * 2);
                    rented.AsSpan(0, used).CopyTo(larger);
                    rented.AsSpan(0, used).Clear();
                    ArrayPool<KeyValuePair<string, string>>.Shared.Return(rented);
                    rented = larger;
                }

                rented[used++] = tag;
            }

            var span = rented.AsSpan(0, used);
            if (!IsSortedByKey(span))
            {
                span.Sort(CompareKeys);
            }

            AppendCore(measurement, span, fieldKey, value, timestampUnixMs);
        }
        finally
        {
            rented.AsSpan(0, used).Clear();
            ArrayPool<KeyValuePair<string, string>>.Shared.Return(rented);
        }
    }

    /// <summary>
    /// Appends one point; the tags may come in any order. When they are already sorted ordinally by key nothing is
    /// copied; otherwise they are sorted in a pooled copy.
    /// </summary>
    /// <param name="measurement">The measurement name; not empty.</param>
    /// <param name="tags">The tags, in any order. Empty keys or values are skipped.</param>
    /// <param name="fieldKey">The field key; not empty.</param>
    /// <param name="value">The field value; finite.</param>
    /// <param name="timestampUnixMs">The timestamp in Unix milliseconds.</param>
    /// <exception cref="ArgumentException">An element cannot be written (see <see cref="LineProtocol"/>), a tag key repeats, or the value is NaN or infinite.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The timestamp is outside the range InfluxDB accepts.</exception>
    public void AppendPoint(
        string measurement,
        ReadOnlySpan<KeyValuePair<string, string>> tags,
        string fieldKey,
        double value,
        long timestampUnixMs)
    {
        if (IsSortedByKey(tags))
        {
            AppendCore(measurement, tags, fieldKey, value, timestampUnixMs);
            return;
        }

        var rented = ArrayPool<KeyValuePair<string, string>>.Shared.Rent(tags.Length);
        try
        {
            var span = rented.AsSpan(0, tags.Length);
            tags.CopyTo(span);
            span.Sort(CompareKeys);
            AppendCore(measurement, span, fieldKey, value, timestampUnixMs);
        }
        finally
        {
            rented.AsSpan(0, tags.Length).Clear();
            ArrayPool<KeyValuePair<string, string>>.Shared.Return(rented);
        }
    }

    /// <summary>
    /// Appends one point with a numeric field and a string field (for example <c>value=0,message="refused"</c>); the
    /// tags may come in any order. The string is quoted and escaped; control characters are rejected, so callers with
    /// free text should replace them first.
    /// </summary>
    /// <param name="measurement">The measurement name; not empty.</param>
    /// <param name="tags">The tags, in any order. Empty keys or values are skipped.</param>
    /// <param name="fieldKey">The numeric field key; not empty.</param>
    /// <param name="value">The numeric field value; finite.</param>
    /// <param name="textFieldKey">The string field key; not empty.</param>
    /// <param name="textValue">The string field value.</param>
    /// <param name="timestampUnixMs">The timestamp in Unix milliseconds.</param>
    /// <exception cref="ArgumentException">An element cannot be written, a tag key repeats, the value is NaN or infinite, or the text holds a control character.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The timestamp is outside the range InfluxDB accepts.</exception>
    public void AppendPoint(
        string measurement,
        ReadOnlySpan<KeyValuePair<string, string>> tags,
        string fieldKey,
        double value,
        string textFieldKey,
        string textValue,
        long timestampUnixMs)
    {
        ArgumentException.ThrowIfNullOrEmpty(textFieldKey);
        ArgumentNullException.ThrowIfNull(textValue);
        if (IsSortedByKey(tags))
        {
            AppendCore(measurement, tags, fieldKey, value, timestampUnixMs, textFieldKey, textValue);
            return;
        }

        var rented = ArrayPool<KeyValuePair<string, string>>.Shared.Rent(tags.Length);
        try
        {
            var span = rented.AsSpan(0, tags.Length);
            tags.CopyTo(span);
            span.Sort(CompareKeys);
            AppendCore(measurement, span, fieldKey, value, timestampUnixMs, textFieldKey, textValue);
        }
        finally
        {
            rented.AsSpan(0, tags.Length).Clear();
            ArrayPool<KeyValuePair<string, string>>.Shared.Return(rented);
        }
    }

    /// <summary>
    /// Appends one point whose tags the caller keeps sorted ordinally by key (for example a tag list built once per
    /// series). The order is checked, never changed.
    /// </summary>
    /// <param name="measurement">The measurement name; not empty.</param>
    /// <param name="sortedTags">The tags, sorted by key with <see cref="string.CompareOrdinal(string, string)"/>. Empty keys or values are skipped.</param>
    /// <param name="fieldKey">The field key; not empty.</param>
    /// <param name="value">The field value; finite.</param>
    /// <param name="timestampUnixMs">The timestamp in Unix milliseconds.</param>
    /// <exception cref="ArgumentException">The tags are not sorted, an element cannot be written, a tag key repeats, or the value is NaN or infinite.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The timestamp is outside the range InfluxDB accepts.</exception>
    public void AppendPointSorted(
        string measurement,
        ReadOnlySpan<KeyValuePair<string, string>> sortedTags,
        string fieldKey,
        double value,
        long timestampUnixMs)
    {
        if (!IsSortedByKey(sortedTags))
        {
            throw new ArgumentException("The tags are not sorted ordinally by key.", nameof(sortedTags));
        }

        AppendCore(measurement, sortedTags, fieldKey, value, timestampUnixMs);
    }

    /// <inheritdoc cref="AppendPointSorted(string, ReadOnlySpan{KeyValuePair{string, string}}, string, double, long)"/>
    public void AppendPointSorted(
        string measurement,
        IReadOnlyList<KeyValuePair<string, string>> sortedTags,
        string fieldKey,
        double value,
        long timestampUnixMs)
    {
        ArgumentNullException.ThrowIfNull(sortedTags);
        switch (sortedTags)
        {
            case KeyValuePair<string, string>[] array:
                AppendPointSorted(measurement, new ReadOnlySpan<KeyValuePair<string, string>>(array), fieldKey, value, timestampUnixMs);
                return;
            case List<KeyValuePair<string, string>> list:
                AppendPointSorted(measurement, (ReadOnlySpan<KeyValuePair<string, string>>)CollectionsMarshal.AsSpan(list), fieldKey, value, timestampUnixMs);
                return;
        }

        var count = sortedTags.Count;
        var rented = ArrayPool<KeyValuePair<string, string>>.Shared.Rent(count);
        try
        {
            for (var i = 0; i < count; i++)
            {
                rented[i] = sortedTags[i];
            }

            AppendPointSorted(measurement, new ReadOnlySpan<KeyValuePair<string, string>>(rented, 0, count), fieldKey, value, timestampUnixMs);
        }
        finally
        {
            rented.AsSpan(0, count).Clear();
            ArrayPool<KeyValuePair<string, string>>.Shared.Return(rented);
        }
    }

    /// <summary>Decodes the written lines as text, for diagnostics and tests.</summary>
    /// <returns>The written line protocol.</returns>
    public override string ToString() => Encoding.UTF8.GetString(_buffer, 0, _length);

    // Ordinal by UTF-16 code unit. InfluxDB wants byte order of the escaped keys; the two differ only for keys with
    // escaped characters or characters beyond U+FFFF, and InfluxDB re-sorts such lines itself, so it only costs speed.
    private static int CompareKeys(KeyValuePair<string, string> x, KeyValuePair<string, string> y) =>
        string.CompareOrdinal(x.Key, y.Key);

    private static bool IsSortedByKey(ReadOnlySpan<KeyValuePair<string, string>> tags)
    {
        for (var i = 1; i < tags.Length; i++)
        {
            if (string.CompareOrdinal(tags[i - 1].Key, tags[i].Key) > 0)
            {
                return false;
            }
        }

        return true;
    }

    private void AppendCore(
        string measurement,
        ReadOnlySpan<KeyValuePair<string, string>> tags,
        string fieldKey,
        double value,
        long timestampUnixMs,
        string? textFieldKey = null,
        string? textValue = null)
    {
        LineProtocol.ValidateMeasurement(measurement);
        ArgumentException.ThrowIfNullOrEmpty(fieldKey);
        if (!double.IsFinite(value))
        {
            throw new ArgumentException(
                $"Field '{LineProtocol.Shorten(fieldKey)}' of measurement '{LineProtocol.Shorten(measurement)}' has the value {value}; line protocol cannot represent NaN or infinity.",
                nameof(value));
        }

        if (timestampUnixMs is < LineProtocol.MinTimestampUnixMs or > LineProtocol.MaxTimestampUnixMs)
        {
            throw new ArgumentOutOfRangeException(
                nameof(timestampUnixMs),
                timestampUnixMs,
                $"The timestamp of measurement '{LineProtocol.Shorten(measurement)}' is outside the range InfluxDB accepts (years 1677 to 2262).");
        }

        var start = _length;
        try
        {
            WriteEscaped(measurement, LineProtocol.Element.Measurement, nameof(measurement), measurement);

            string? previousKey = null;
            foreach (var tag in tags)
            {
                if (string.IsNullOrEmpty(tag.Key) || string.IsNullOrEmpty(tag.Value))
                {
                    continue;
                }

                if (previousKey is not null && string.Equals(previousKey, tag.Key, StringComparison.Ordinal))
                {
                    throw new ArgumentException(
                        $"Tag '{LineProtocol.Shorten(tag.Key)}' of measurement '{LineProtocol.Shorten(measurement)}' appears more than once.",
                        nameof(tags));
                }

                WriteByte((byte)',');
                WriteEscaped(tag.Key, LineProtocol.Element.TagKey, nameof(tags), measurement);
                WriteByte((byte)'=');
                WriteEscaped(tag.Value, LineProtocol.Element.TagValue, nameof(tags), measurement, tag.Key);
                previousKey = tag.Key;
            }

            WriteByte((byte)' ');
            WriteEscaped(fieldKey, LineProtocol.Element.FieldKey, nameof(fieldKey), measurement);

            EnsureCapacity(2 * MaxNumberBytes + 3);
            var span = _buffer.AsSpan(_length);
            span[0] = (byte)'=';
            var written = 1;
            written += LineProtocol.WriteDouble(value, span[written..]);
            if (textFieldKey is not null && textValue is not null)
            {
                _length += written;
                WriteByte((byte)',');
                WriteEscaped(textFieldKey, LineProtocol.Element.FieldKey, nameof(textFieldKey), measurement);
                WriteByte((byte)'=');
                EnsureCapacity(LineProtocol.GetMaxStringFieldValueByteCount(textValue.Length) + MaxNumberBytes + 2);
                _length += LineProtocol.WriteStringFieldValue(textValue, _buffer.AsSpan(_length), nameof(textValue), measurement);
                span = _buffer.AsSpan(_length);
                written = 0;
            }

            span[written++] = (byte)' ';
            written += LineProtocol.WriteInt64(timestampUnixMs, span[written..]);
            span[written++] = (byte)'\n';
            _length += written;
        }
        catch
        {
            // Leave no half-written line behind: the batch must stay valid line protocol.
            _length = start;
            throw;
        }

        _pointCount++;
    }

    private void WriteEscaped(string text, LineProtocol.Element element, string paramName, string measurement, string? tagKey = null)
    {
        EnsureCapacity(LineProtocol.GetMaxEscapedByteCount(text.Length));
        _length += LineProtocol.WriteEscaped(text, _buffer.AsSpan(_length), element, paramName, measurement, tagKey);
    }

    private void WriteByte(byte value)
    {
        EnsureCapacity(1);
        _buffer[_length++] = value;
    }

    private void EnsureCapacity(int additional)
    {
        if (_buffer.Length - _length >= additional)
        {
            return;
        }

        var required = checked(_length + additional);
        var newSize = Math.Max(required, Math.Max(256, _buffer.Length * 2));
        if ((uint)newSize > (uint)Array.MaxLength)
        {
            newSize = Math.Max(required, Array.MaxLength);
        }

        Array.Resize(ref _buffer, newSize);
    }
}
