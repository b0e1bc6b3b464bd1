using System.Buffers;
using System.Globalization;
using System.Text;

namespace Monitor.Influx;

/// <summary>
/// InfluxDB line-protocol escaping and formatting rules, shared by <see cref="LineProtocolBuilder"/>.
/// </summary>
/// <remarks>
/// <para>
/// Escaping follows the line-protocol reference ("Special characters"): measurements escape comma and space; tag keys,
/// tag values and field keys escape comma, equals sign and space. Double quotes are literal in all four (only string
/// field values escape them, together with backslashes: Monitor writes one, a sample's free-text <c>message</c>).
/// </para>
/// <para>
/// Backslashes are where the parsers disagree. The current spec, and the InfluxDB 3.x parser, read <c>\\</c> as one
/// literal backslash and a backslash before any other character as itself. The Go parser of InfluxDB 1.x and 2.x never
/// unescapes <c>\\</c> (it stores both characters), and its key scanner takes any backslash right before a delimiter as
/// escaping that delimiter. No encoding reads the same everywhere, so we choose the one that every parser splits into
/// the same elements: a backslash is written as is when the next character is an ordinary one (every parser stores one
/// backslash, so paths such as <c>C:\Windows</c> come out identical everywhere), and doubled only where a single one
/// would be ambiguous: before another backslash, before a character this element escapes, and in field keys (which the
/// Go parser unescapes like strings) before a double quote. That is exact on 3.x and per the spec; 1.x/2.x keep such
/// doubled backslashes as two characters. Leaving them single instead would suit the Go parser but make 3.x split the
/// line differently. Checked against InfluxDB 1.6.7: <c>C:\Windows</c> and <c>a\"b</c> come back unchanged,
/// <c>a\,b</c> comes back as <c>a\\,b</c>. A value that <em>ends</em> in a backslash is rejected: InfluxDB 3.x rejects it
/// and the 1.x parser takes it as escaping the following delimiter and mis-splits the line.
/// </para>
/// <para>
/// Control characters (U+0000 to U+001F: line breaks, tabs, NUL) are rejected: line protocol cannot carry a line break,
/// InfluxDB 3.x ends an element at a tab, and 3.x rejects NUL in measurements. A measurement may not start with
/// <c>#</c> (the line would be a comment and silently dropped). Tags with an empty key or value are skipped (line
/// protocol has no empty tag values; InfluxDB treats a missing tag as empty). Duplicate tag keys are rejected.
/// </para>
/// <para>
/// Field values are IEEE doubles written in the shortest round-trip form with the invariant culture (<c>1.5</c>,
/// <c>42</c>, <c>1E-07</c>); without an <c>i</c> suffix every InfluxDB version stores them as floats. NaN and infinities
/// are rejected. Timestamps are Unix milliseconds (the writer sends <c>precision=ms</c>).
/// </para>
/// </remarks>
public static class LineProtocol
{
    /// <summary>The timestamp precision of the points the builder writes (the <c>precision</c> write parameter).</summary>
    public const string Precision = "ms";

    /// <summary>The smallest timestamp InfluxDB accepts, in Unix milliseconds (about the year 1677).</summary>
    public const long MinTimestampUnixMs = -9_223_372_036_854;

    /// <summary>The largest timestamp InfluxDB accepts, in Unix milliseconds (about the year 2262).</summary>
    public const long MaxTimestampUnixMs = 9_223_372_036_854;

    // The characters each element must look at: the ones it escapes, the backslash, control characters (rejected),
    // and for field keys the double quote (a backslash before it is doubled, see the remarks).
    private const string ControlCharacters =
        "\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\u0008\u0009\u000A\u000B\u000C\u000D\u000E\u000F"
        + "\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001A\u001B\u001C\u001D\u001E\u001F";

    private static readonly SearchValues<char> MeasurementSpecials = SearchValues.Create(", \\" + ControlCharacters);
    private static readonly SearchValues<char> TagSpecials = SearchValues.Create(",= \\" + ControlCharacters);
    private static readonly SearchValues<char> FieldKeySpecials = SearchValues.Create(",= \"\\" + ControlCharacters);
    private static readonly SearchValues<char> StringValueSpecials = SearchValues.Create("\"\\" + ControlCharacters);

    /// <summary>Escapes a measurement name for line protocol.</summary>
    /// <param name="measurement">The measurement name; not empty.</param>
    /// <returns>The escaped name.</returns>
    /// <exception cref="ArgumentException">The name is empty, starts with <c>#</c>, contains a control character (such as a line break) or ends in a backslash.</exception>
    public static string EscapeMeasurement(string measurement)
    {
        ValidateMeasurement(measurement);
        return EscapeToString(measurement, Element.Measurement, nameof(measurement));
    }

    /// <summary>Escapes a tag key or tag value for line protocol.</summary>
    /// <param name="keyOrValue">The tag key or value; not empty.</param>
    /// <returns>The escaped text.</returns>
    /// <exception cref="ArgumentException">The text is empty, contains a control character (such as a line break) or ends in a backslash.</exception>
    public static string EscapeTag(string keyOrValue)
    {
        ArgumentException.ThrowIfNullOrEmpty(keyOrValue);
        return EscapeToString(keyOrValue, Element.TagValue, nameof(keyOrValue));
    }

    /// <summary>Escapes a field key for line protocol.</summary>
    /// <param name="fieldKey">The field key; not empty.</param>
    /// <returns>The escaped key.</returns>
    /// <exception cref="ArgumentException">The key is empty, contains a control character (such as a line break) or ends in a backslash.</exception>
    public static string EscapeFieldKey(string fieldKey)
    {
        ArgumentException.ThrowIfNullOrEmpty(fieldKey);
        return EscapeToString(fieldKey, Element.FieldKey, nameof(fieldKey));
    }

    /// <summary>Formats one point as a line (with its trailing newline); a convenience over <see cref="LineProtocolBuilder"/>.</summary>
    /// <param name="measurement">The measurement name.</param>
    /// <param name="tags">The tags in any order; empty keys or values are skipped.</param>
    /// <param name="fieldKey">The field key.</param>
    /// <param name="value">The field value; finite.</param>
    /// <param name="timestampUnixMs">The timestamp in Unix milliseconds.</param>
    /// <returns>The line, for example <c>cpu_rate,host_id=h1 value=1.5 1700000000000\n</c>.</returns>
    public static string FormatPoint(
        string measurement,
        IEnumerable<KeyValuePair<string, string>>? tags,
        string fieldKey,
        double value,
        long timestampUnixMs)
    {
        var builder = new LineProtocolBuilder(256);
        builder.AppendPoint(measurement, tags, fieldKey, value, timestampUnixMs);
        return builder.ToString();
    }

    internal enum Element
    {
        Measurement,
        TagKey,
        TagValue,
        FieldKey,
    }

    internal static void ValidateMeasurement(string measurement)
    {
        ArgumentException.ThrowIfNullOrEmpty(measurement);
        if (measurement[0] == '#')
        {
            throw new ArgumentException(
                $"Measurement '{measurement}' starts with '#', which line protocol reads as a comment.",
                nameof(measurement));
        }
    }

    /// <summary>An upper bound of the bytes <see cref="WriteStringFieldValue"/> writes for <paramref name="charCount"/> characters (quotes included).</summary>
    internal static int GetMaxStringFieldValueByteCount(int charCount) => checked((charCount + 2) * 3);

    /// <summary>
    /// Writes <paramref name="text"/> as a quoted string field value: <c>"</c> and <c>\</c> are escaped with a
    /// backslash (every InfluxDB version unescapes both in string values); control characters are rejected.
    /// </summary>
    internal static int WriteStringFieldValue(ReadOnlySpan<char> text, Span<byte> destination, string paramName, string measurement)
    {
        destination[0] = (byte)'"';
        var written = 1;
        var remaining = text;
        while (true)
        {
            var index = remaining.IndexOfAny(StringValueSpecials);
            if (index < 0)
            {
                written += Encoding.UTF8.GetBytes(remaining, destination[written..]);
                break;
            }

            written += Encoding.UTF8.GetBytes(remaining[..index], destination[written..]);
            var c = remaining[index];
            if (c < ' ')
            {
                throw new ArgumentException(
                    $"A string field value of measurement '{Shorten(measurement)}' contains the control character U+{(int)c:X4}; line protocol cannot carry line breaks, tabs or other control characters.",
                    paramName);
            }

            destination[written++] = (byte)'\\';
            destination[written++] = (byte)c;
            remaining = remaining[(index + 1)..];
        }

        destination[written++] = (byte)'"';
        return written;
    }

    /// <summary>An upper bound of the bytes <see cref="WriteEscaped"/> writes for <paramref name="charCount"/> characters.</summary>
    internal static int GetMaxEscapedByteCount(int charCount) =>
        // UTF-8 needs at most 3 bytes per UTF-16 char; an escaped char is ASCII and takes 2.
        checked((charCount + 1) * 3);

    /// <summary>
    /// Writes <paramref name="text"/> escaped for <paramref name="element"/> as UTF-8. <paramref name="destination"/>
    /// must hold <see cref="GetMaxEscapedByteCount"/> bytes.
    /// </summary>
    internal static int WriteEscaped(
        ReadOnlySpan<char> text,
        Span<byte> destination,
        Element element,
        string paramName,
        string measurement,
        string? tagKey = null)
    {
        var specials = element switch
        {
            Element.Measurement => MeasurementSpecials,
            Element.FieldKey => FieldKeySpecials,
            _ => TagSpecials,
        };

        var remaining = text;
        var written = 0;
        while (true)
        {
            var index = remaining.IndexOfAny(specials);
            if (index < 0)
            {
                // Specials are all ASCII, so a segment never splits a surrogate pair.
                return written + Encoding.UTF8.GetBytes(remaining, destination[written..]);
            }

            if (index > 0)
            {
                written += Encoding.UTF8.GetBytes(remaining[..index], destination[written..]);
            }

            var c = remaining[index];
            switch (c)
            {
                case < ' ':
                    throw new ArgumentException(
                        $"{Describe(element, text, measurement, tagKey)} contains the control character U+{(int)c:X4}; line protocol cannot carry line breaks, tabs or other control characters.",
                        paramName);
                case '\\':
                    if (index == remaining.Length - 1)
                    {
                        throw new ArgumentException(
                            $"{Describe(element, text, measurement, tagKey)} ends in a backslash, which InfluxDB rejects.",
                            paramName);
                    }

                    destination[written++] = (byte)'\\';
                    if (BackslashNeedsEscape(remaining[index + 1], element))
                    {
                        destination[written++] = (byte)'\\';
                    }

                    break;
                case '"':
                    // Only field keys look for quotes, and only to decide about a preceding backslash.
                    destination[written++] = (byte)'"';
                    break;
                default:
                    destination[written++] = (byte)'\\';
                    destination[written++] = (byte)c;
                    break;
            }

            remaining = remaining[(index + 1)..];
        }
    }

    /// <summary>Writes a finite double in shortest round-trip form with the invariant culture.</summary>
    internal static int WriteDouble(double value, Span<byte> destination)
    {
        if (!value.TryFormat(destination, out var written, "R", CultureInfo.InvariantCulture))
        {
            throw new InvalidOperationException("The destination is too small for a double.");
        }

        return written;
    }

    internal static int WriteInt64(long value, Span<byte> destination)
    {
        if (!value.TryFormat(destination, out var written, default, CultureInfo.InvariantCulture))
        {
            throw new InvalidOperationException("The destination is too small for an integer.");
        }

        return written;
    }

    private static string Describe(Element element, ReadOnlySpan<char> text, string measurement, string? tagKey) => element switch
    {
        Element.Measurement => $"The measurement '{Shorten(text)}'",
        Element.TagKey => $"The tag key '{Shorten(text)}' of measurement '{Shorten(measurement)}'",
        Element.TagValue when tagKey is not null =>
            $"The value '{Shorten(text)}' of tag '{Shorten(tagKey)}' of measurement '{Shorten(measurement)}'",
        Element.TagValue => $"The tag value '{Shorten(text)}'",
        _ => $"The field key '{Shorten(text)}' of measurement '{Shorten(measurement)}'",
    };

    /// <summary>Keeps exception messages bounded and printable when a caller passes a huge or odd value.</summary>
    internal static string Shorten(ReadOnlySpan<char> text)
    {
        var shortened = text.Length <= 128 ? text.ToString() : string.Concat(text[..128], "…");
        return string.Create(shortened.Length, shortened, static (span, source) =>
        {
            for (var i = 0; i < source.Length; i++)
            {
                span[i] = source[i] < ' ' ? '?' : source[i];
            }
        });
    }

    private static bool BackslashNeedsEscape(char next, Element element) => next switch
    {
        '\\' or ',' or ' ' => true,
        '=' => element != Element.Measurement,
        '"' => element == Element.FieldKey,
        _ => false,
    };

    private static string EscapeToString(string text, Element element, string paramName)
    {
        var max = GetMaxEscapedByteCount(text.Length);
        var rented = ArrayPool<byte>.Shared.Rent(max);
        try
        {
            var length = WriteEscaped(text, rented, element, paramName, text);
            return Encoding.UTF8.GetString(rented, 0, length);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }
}
