using System.Buffers;
using System.Globalization;
using System.Text;

namespace Monitor.Influx;

/// <summary>
/// Helpers to build InfluxQL safely: quoting of identifiers and string literals, validation of metric names, and
/// time literals. Every value that reaches a query from outside goes through one of these.
/// </summary>
/// <remarks>
/// InfluxQL reads <c>\\</c>, <c>\"</c>, <c>\'</c> and <c>\n</c> as escapes inside both quote styles and rejects any
/// other escape; a raw line break ends a quoted token with an error, and the parser turns a carriage return into a line
/// break and treats NUL as the end of input. So quoting escapes backslash, the quote, and line feed, and rejects
/// carriage return and NUL.
/// </remarks>
public static class InfluxQl
{
    /// <summary>The longest metric name <see cref="IsValidMetricName"/> accepts.</summary>
    public const int MaxMetricNameLength = 128;

    private static readonly SearchValues<char> QuoteSpecials = SearchValues.Create("\\\"'\n\r\0");

    /// <summary>
    /// Quotes an identifier (measurement, tag key, field key, retention policy, database) in double quotes, for
    /// example <c>cpu rate</c> → <c>"cpu rate"</c>.
    /// </summary>
    /// <param name="identifier">The identifier; not empty.</param>
    /// <returns>The quoted identifier.</returns>
    /// <exception cref="ArgumentException">The identifier is empty or contains a carriage return or NUL.</exception>
    public static string QuoteIdentifier(string identifier)
    {
        ArgumentException.ThrowIfNullOrEmpty(identifier);
        return Quote(identifier, '"', nameof(identifier));
    }

    /// <summary>Quotes a string literal (a tag value to compare with) in single quotes, for example <c>it's</c> → <c>'it\'s'</c>.</summary>
    /// <param name="value">The value; may be empty.</param>
    /// <returns>The quoted literal.</returns>
    /// <exception cref="ArgumentException">The value contains a carriage return or NUL.</exception>
    public static string QuoteString(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return Quote(value, '\'', nameof(value));
    }

    /// <summary>
    /// Checks a metric (measurement) name against the schema rule <c>[a-z][a-z0-9_]*</c>, at most
    /// <see cref="MaxMetricNameLength"/> characters.
    /// </summary>
    /// <param name="name">The name to check.</param>
    /// <returns><see langword="true"/> if the name is valid.</returns>
    public static bool IsValidMetricName(string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > MaxMetricNameLength || name[0] is < 'a' or > 'z')
        {
            return false;
        }

        foreach (var c in name)
        {
            if (c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '_'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Throws unless <paramref name="name"/> passes <see cref="IsValidMetricName"/>.</summary>
    /// <param name="name">The name to check.</param>
    /// <param name="paramName">The argument the name came from.</param>
    /// <returns>The name, for chaining.</returns>
    /// <exception cref="ArgumentException">The name is not a valid metric name.</exception>
    public static string ValidateMetricName(string? name, string paramName = "name")
    {
        if (!IsValidMetricName(name))
        {
            throw new ArgumentException(
                $"'{LineProtocol.Shorten(name ?? string.Empty)}' is not a valid metric name ([a-z][a-z0-9_]*, at most {MaxMetricNameLength} characters).",
                paramName);
        }

        return name!;
    }

    /// <summary>Formats a Unix-millisecond instant as an InfluxQL time literal, for example <c>1700000000000ms</c>.</summary>
    /// <param name="unixMs">The instant in Unix milliseconds.</param>
    /// <returns>The literal, to compare with <c>time</c>.</returns>
    public static string TimeLiteral(long unixMs) =>
        unixMs.ToString(CultureInfo.InvariantCulture) + "ms";

    /// <summary>Formats an instant as an InfluxQL time literal in Unix milliseconds.</summary>
    /// <param name="instant">The instant.</param>
    /// <returns>The literal, for example <c>1700000000000ms</c>.</returns>
    public static string TimeLiteral(DateTimeOffset instant) => TimeLiteral(instant.ToUnixTimeMilliseconds());

    /// <summary>Formats a positive duration as an InfluxQL duration literal, in the largest exact unit (<c>1h</c>, <c>90s</c>, <c>1500ms</c>).</summary>
    /// <param name="duration">The duration; at least 1 millisecond and a whole number of milliseconds.</param>
    /// <returns>The literal, for example for <c>GROUP BY time(...)</c>.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The duration is below 1 ms or not a whole number of milliseconds.</exception>
    public static string DurationLiteral(TimeSpan duration)
    {
        if (duration < TimeSpan.FromMilliseconds(1) || duration.Ticks % TimeSpan.TicksPerMillisecond != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(duration), duration, "The duration must be a positive whole number of milliseconds.");
        }

        var ms = duration.Ticks / TimeSpan.TicksPerMillisecond;
        return ms switch
        {
            _ when ms % 604_800_000 == 0 => string.Create(CultureInfo.InvariantCulture, $"{ms / 604_800_000}w"),
            _ when ms % 86_400_000 == 0 => string.Create(CultureInfo.InvariantCulture, $"{ms / 86_400_000}d"),
            _ when ms % 3_600_000 == 0 => string.Create(CultureInfo.InvariantCulture, $"{ms / 3_600_000}h"),
            _ when ms % 60_000 == 0 => string.Create(CultureInfo.InvariantCulture, $"{ms / 60_000}m"),
            _ when ms % 1_000 == 0 => string.Create(CultureInfo.InvariantCulture, $"{ms / 1_000}s"),
            _ => string.Create(CultureInfo.InvariantCulture, $"{ms}ms"),
        };
    }

    private static string Quote(string text, char quote, string paramName)
    {
        var span = text.AsSpan();
        if (span.IndexOfAny(QuoteSpecials) < 0)
        {
            return string.Concat([quote], text, [quote]);
        }

        var builder = new StringBuilder(text.Length + 8);
        builder.Append(quote);
        foreach (var c in span)
        {
            switch (c)
            {
                case '\\':
                    builder.Append(@"\\");
                    break;
                case '\n':
                    builder.Append(@"\n");
                    break;
                case '\r' or '\0':
                    throw new ArgumentException(
                        $"'{LineProtocol.Shorten(text)}' contains a carriage return or NUL, which InfluxQL cannot quote.", paramName);
                case '"' or '\'' when c == quote:
                    builder.Append('\\').Append(c);
                    break;
                default:
                    builder.Append(c);
                    break;
            }
        }

        return builder.Append(quote).ToString();
    }
}
