using System.Globalization;
using Monitor.AnalyzeService.Options;
using Monitor.Influx;

namespace Monitor.AnalyzeService.Query;

/// <summary>
/// Validation of every request parameter. Whatever leaves here and reaches InfluxQL is either a validated metric
/// name, a validated label key, or a string that <see cref="InfluxQl.QuoteString"/> will escape.
/// </summary>
internal static class QueryParsing
{
    public const int MaxHostIdLength = 128;
    public const int MaxLocationLength = 128;
    public const int MaxLabelKeyLength = 64;
    public const int MaxLabelValueLength = 256;
    public const int MaxLabelFilters = 16;

    /// <summary>The original system's metric names, which its dashboards still send.</summary>
    private static readonly Dictionary<string, string> LegacyMetrics = new(StringComparer.OrdinalIgnoreCase)
    {
        ["CPU_Rate"] = "cpu_rate",
        ["MEM_Rate"] = "mem_rate",
    };

    public static string Metric(string? text, string field = "metric")
    {
        var trimmed = text?.Trim();
        if (string.IsNullOrEmpty(trimmed))
        {
            throw new AnalyzeValidationException(field, "is required (e.g. cpu_rate).");
        }
        if (LegacyMetrics.TryGetValue(trimmed, out var mapped))
        {
            return mapped;
        }
        if (!InfluxQl.IsValidMetricName(trimmed))
        {
            throw new AnalyzeValidationException(field, $"'{Shorten(trimmed)}' is not a metric name ([a-z][a-z0-9_]*, at most {InfluxQl.MaxMetricNameLength} characters, or CPU_Rate/MEM_Rate).");
        }
        return trimmed;
    }

    public static string HostId(string? text, string field = "hostId") =>
        Identity(text, field, MaxHostIdLength, "host id");

    public static string Location(string? text, string field = "location") =>
        Identity(text, field, MaxLocationLength, "location");

    public static AggregateFunction Function(string? text, string field = "function") =>
        AggregateFunctions.TryParse(text, out var function)
            ? function
            : throw new AnalyzeValidationException(field, $"'{Shorten(text)}' is not an aggregate function (one of {AggregateFunctions.Names}).");

    /// <summary>Parses a label filter <c>key=value</c> (HTTP form).</summary>
    public static LabelMatch Label(string? text, string field = "label")
    {
        var separator = text?.IndexOf('=', StringComparison.Ordinal) ?? -1;
        if (text is null || separator <= 0)
        {
            throw new AnalyzeValidationException(field, $"'{Shorten(text)}' is not a label filter of the form key=value (e.g. mount=/).");
        }
        return Label(text[..separator], text[(separator + 1)..], field);
    }

    public static LabelMatch Label(string? key, string? value, string field = "labels")
    {
        if (string.IsNullOrEmpty(key) || key.Length > MaxLabelKeyLength || !IsLabelKey(key))
        {
            throw new AnalyzeValidationException(field, $"label key '{Shorten(key)}' is invalid ([A-Za-z_][A-Za-z0-9_]*, at most {MaxLabelKeyLength} characters).");
        }
        if (key is "host_id" or "time")
        {
            throw new AnalyzeValidationException(field, $"label key '{key}' cannot be filtered on; use the host or location parameter.");
        }
        if (string.IsNullOrEmpty(value) || value.Length > MaxLabelValueLength || HasControl(value))
        {
            throw new AnalyzeValidationException(field, $"the value of label '{key}' must be 1 to {MaxLabelValueLength} characters without control characters.");
        }
        return new LabelMatch(key, value);
    }

    public static IReadOnlyList<LabelMatch> Labels(IEnumerable<LabelMatch> labels, string field = "labels")
    {
        var list = labels.ToList();
        if (list.Count > MaxLabelFilters)
        {
            throw new AnalyzeValidationException(field, $"at most {MaxLabelFilters} label filters are allowed.");
        }
        if (list.Select(l => l.Key).Distinct(StringComparer.Ordinal).Count() != list.Count)
        {
            throw new AnalyzeValidationException(field, "a label key may appear only once.");
        }
        return list;
    }

    /// <summary>Parses a positive duration such as <c>500ms</c>, <c>30s</c>, <c>1m</c>, <c>1h30m</c>, <c>7d</c>, <c>1w</c>.</summary>
    public static TimeSpan Duration(string? text, string field)
    {
        if (!TryParseDuration(text, out var duration) || duration <= TimeSpan.Zero)
        {
            throw new AnalyzeValidationException(field, $"'{Shorten(text)}' is not a duration (e.g. 30s, 1m, 1h, 7d; units ms, s, m, h, d, w).");
        }
        return duration;
    }

    /// <summary>Parses a relative start such as <c>-1h</c> (the original API's <c>StartFrom</c>).</summary>
    public static TimeSpan RelativeStart(string? text, string field)
    {
        var trimmed = text?.Trim();
        if (string.IsNullOrEmpty(trimmed) || trimmed[0] != '-' || !TryParseDuration(trimmed[1..], out var duration) || duration <= TimeSpan.Zero)
        {
            throw new AnalyzeValidationException(field, $"'{Shorten(text)}' is not a relative start (a negative duration such as -1h or -30m).");
        }
        return duration;
    }

    /// <summary>Parses an instant: RFC 3339 (<c>2026-11-23T12:00:00Z</c>), <c>now</c>, or relative to now (<c>-1h</c>).</summary>
    public static DateTimeOffset? Instant(string? text, DateTimeOffset now, string field)
    {
        var trimmed = text?.Trim();
        if (string.IsNullOrEmpty(trimmed))
        {
            return null;
        }
        if (trimmed.Equals("now", StringComparison.OrdinalIgnoreCase))
        {
            return now;
        }
        if (trimmed[0] == '-')
        {
            return now - RelativeStart(trimmed, field);
        }
        if (DateTimeOffset.TryParse(trimmed, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var instant)
            && trimmed.Contains('T', StringComparison.Ordinal))
        {
            return instant;
        }
        throw new AnalyzeValidationException(field, $"'{Shorten(text)}' is not a time (RFC 3339 such as 2026-11-23T12:00:00Z, 'now', or relative such as -1h).");
    }

    /// <summary>Applies defaults (end = now, start = end - 1 h) and checks order and length.</summary>
    public static (DateTimeOffset Start, DateTimeOffset End) Range(DateTimeOffset? start, DateTimeOffset? end, DateTimeOffset now, AnalyzeOptions options)
    {
        var e = end ?? now;
        var s = start ?? e - TimeSpan.FromHours(1);
        if (s.ToUnixTimeMilliseconds() < 0 || e.ToUnixTimeMilliseconds() > LineProtocol.MaxTimestampUnixMs)
        {
            throw new AnalyzeValidationException("start", "the range must lie between 1970 and 2262.");
        }
        if (s >= e)
        {
            throw new AnalyzeValidationException("start", "must be before end.");
        }
        if (e - s > options.MaxRange)
        {
            throw new AnalyzeValidationException("start", $"the range {e - s} is longer than the allowed {options.MaxRange}.");
        }
        return (s, e);
    }

    /// <summary>Checks an aggregation step against the minimum and the point cap for the range.</summary>
    public static TimeSpan Step(TimeSpan step, DateTimeOffset start, DateTimeOffset end, AnalyzeOptions options, string field = "step")
    {
        if (step.Ticks % TimeSpan.TicksPerMillisecond != 0)
        {
            throw new AnalyzeValidationException(field, "must be a whole number of milliseconds.");
        }
        if (step < options.MinStep)
        {
            throw new AnalyzeValidationException(field, $"must be at least {InfluxQl.DurationLiteral(options.MinStep)}.");
        }
        var points = Math.Ceiling((end - start) / step);
        if (points > options.MaxPointsPerSeries)
        {
            var minimum = TimeSpan.FromMilliseconds(Math.Ceiling((end - start).TotalMilliseconds / options.MaxPointsPerSeries));
            throw new AnalyzeValidationException(field,
                $"is too small for the range: {points:F0} points per series exceed the limit of {options.MaxPointsPerSeries}; use a step of at least {InfluxQl.DurationLiteral(RoundUp(minimum))}.");
        }
        return step;
    }

    public static bool TryParseDuration(string? text, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        var span = text.AsSpan().Trim();
        if (span.IsEmpty || span.Length > 32)
        {
            return false;
        }
        long totalMs = 0;
        while (!span.IsEmpty)
        {
            var digits = 0;
            while (digits < span.Length && char.IsAsciiDigit(span[digits]))
            {
                digits++;
            }
            if (digits == 0 || !long.TryParse(span[..digits], NumberStyles.None, CultureInfo.InvariantCulture, out var number))
            {
                return false;
            }
            span = span[digits..];
            long unitMs;
            if (span.StartsWith("ms")) { unitMs = 1; span = span[2..]; }
            else if (span.StartsWith("s")) { unitMs = 1_000; span = span[1..]; }
            else if (span.StartsWith("m")) { unitMs = 60_000; span = span[1..]; }
            else if (span.StartsWith("h")) { unitMs = 3_600_000; span = span[1..]; }
            else if (span.StartsWith("d")) { unitMs = 86_400_000; span = span[1..]; }
            else if (span.StartsWith("w")) { unitMs = 604_800_000; span = span[1..]; }
            else { return false; }
            if (number > 100_000L * 86_400_000 / unitMs)
            {
                return false;
            }
            totalMs += number * unitMs;
        }
        duration = TimeSpan.FromMilliseconds(totalMs);
        return true;
    }

    private static TimeSpan RoundUp(TimeSpan minimum)
    {
        foreach (var unit in new[] { 1_000L, 60_000, 3_600_000, 86_400_000 })
        {
            if (minimum.TotalMilliseconds <= unit * 60 || unit == 86_400_000)
            {
                var ms = (long)Math.Ceiling(minimum.TotalMilliseconds / unit) * unit;
                return TimeSpan.FromMilliseconds(Math.Max(ms, unit));
            }
        }
        return minimum;
    }

    private static string Identity(string? text, string field, int maxLength, string what)
    {
        if (string.IsNullOrEmpty(text))
        {
            throw new AnalyzeValidationException(field, $"is required (a {what}).");
        }
        if (text.Length > maxLength || HasControl(text))
        {
            throw new AnalyzeValidationException(field, $"a {what} is 1 to {maxLength} characters without control characters.");
        }
        return text;
    }

    private static bool IsLabelKey(string key)
    {
        if (!(char.IsAsciiLetter(key[0]) || key[0] == '_'))
        {
            return false;
        }
        foreach (var c in key)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c == '_'))
            {
                return false;
            }
        }
        return true;
    }

    private static bool HasControl(string text)
    {
        foreach (var c in text)
        {
            if (char.IsControl(c))
            {
                return true;
            }
        }
        return false;
    }

    private static string Shorten(string? text) =>
        text is null ? string.Empty : text.Length <= 64 ? text : string.Concat(text.AsSpan(0, 64), "…");
}

/// <summary>A label filter: key equals value.</summary>
internal sealed record LabelMatch(string Key, string Value);
