using System.Collections.Concurrent;
using System.Numerics;
using System.Text;
using Microsoft.Extensions.Options;
using Monitor.Protos.V1;
using Monitor.ReportService.Options;

namespace Monitor.ReportService.Validation;

/// <summary>The outcome of validating one batch.</summary>
/// <param name="Accepted">The batch minus rejected samples (the same instance when nothing was rejected); null when the whole batch was rejected.</param>
/// <param name="Rejections">Rejected samples with reasons.</param>
/// <param name="ClockSkewMs">Agent clock minus ours, milliseconds (0 when the batch carried no send time).</param>
/// <param name="ClockSkewed">True when the skew is beyond the warning threshold.</param>
internal sealed record ValidationResult(SampleBatch? Accepted, IReadOnlyList<SampleRejection> Rejections, long ClockSkewMs, bool ClockSkewed)
{
    public int AcceptedCount => Accepted?.Samples.Count ?? 0;
}

/// <summary>
/// Checks every batch and sample against <see cref="ReportOptions"/>. Valid samples of a batch
/// go through; each rejected one is reported with a reason that names the field.
/// </summary>
internal sealed partial class BatchValidator(IOptions<ReportOptions> options)
{
    private readonly ReportOptions _options = options.Value;

    // host id -> series keys seen. Bounded per host by MaxSeriesPerHost (the cardinality guard).
    private readonly ConcurrentDictionary<string, HashSet<ulong>> _seriesByHost = new(StringComparer.Ordinal);

    public ValidationResult Validate(SampleBatch batch, long nowUnixMs)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var (skew, skewed) = ClockSkew(batch.SentAtUnixMs, nowUnixMs);

        var batchProblem = CheckBatch(batch);
        if (batchProblem is not null)
        {
            return new ValidationResult(null, [batchProblem], skew, skewed);
        }

        List<SampleRejection>? rejections = null;
        List<Sample>? accepted = null;
        var samples = batch.Samples;
        var (oldest, newest) = TimestampWindow(nowUnixMs);
        var series = _seriesByHost.GetOrAdd(batch.HostId, static _ => new HashSet<ulong>());
        for (int i = 0; i < samples.Count; i++)
        {
            var rejection = CheckSample(batch.HostId, series, samples[i], i, oldest, newest);
            if (rejection is null)
            {
                accepted?.Add(samples[i]);
                continue;
            }
            rejections ??= [];
            rejections.Add(rejection);
            if (accepted is null)
            {
                // First rejection: copy the samples accepted so far.
                accepted = new List<Sample>(samples.Count);
                for (int j = 0; j < i; j++)
                {
                    accepted.Add(samples[j]);
                }
            }
        }

        if (rejections is null)
        {
            return new ValidationResult(batch, [], skew, skewed);
        }
        var trimmed = new SampleBatch
        {
            HostId = batch.HostId,
            Sequence = batch.Sequence,
            SentAtUnixMs = batch.SentAtUnixMs,
            AgentVersion = batch.AgentVersion,
        };
        trimmed.Samples.AddRange(accepted!);
        return new ValidationResult(trimmed, rejections, skew, skewed);
    }

    /// <summary>Agent clock minus ours (0 when the batch carried no send time), and whether it is beyond the warning threshold.</summary>
    private (long SkewMs, bool Skewed) ClockSkew(long sentAtUnixMs, long nowUnixMs)
    {
        long skew = sentAtUnixMs > 0 ? sentAtUnixMs - nowUnixMs : 0;
        return (skew, Math.Abs(skew) > (long)_options.SkewWarningThreshold.TotalMilliseconds);
    }

    /// <summary>The sample timestamps accepted now, unix milliseconds, both ends inclusive.</summary>
    private (long Oldest, long Newest) TimestampWindow(long nowUnixMs) =>
        (nowUnixMs - (long)_options.MaxSampleAge.TotalMilliseconds, nowUnixMs + (long)_options.MaxFutureSkew.TotalMilliseconds);

    private SampleRejection? CheckBatch(SampleBatch batch)
    {
        if (string.IsNullOrEmpty(batch.HostId))
        {
            return Reject(-1, RejectionReasons.HostIdMissing, "host_id: must not be empty");
        }
        if (batch.HostId.Length > _options.MaxHostIdLength)
        {
            return Reject(-1, RejectionReasons.HostIdTooLong, $"host_id: {batch.HostId.Length} characters, at most {_options.MaxHostIdLength} allowed");
        }
        if (!IsPrintable(batch.HostId))
        {
            return Reject(-1, RejectionReasons.HostIdInvalid, "host_id: control characters are not allowed");
        }
        if (batch.Samples.Count > _options.MaxSamplesPerBatch)
        {
            return Reject(-1, RejectionReasons.BatchTooLarge, $"samples: {batch.Samples.Count} samples, at most {_options.MaxSamplesPerBatch} per batch");
        }
        return null;
    }

    private SampleRejection? CheckSample(string hostId, HashSet<ulong> series, Sample sample, int index, long oldest, long newest)
    {
        var metric = sample.Metric;
        if (metric.Length > _options.MaxMetricNameLength)
        {
            return Reject(index, RejectionReasons.MetricNameTooLong, $"samples[{index}].metric: {metric.Length} characters, at most {_options.MaxMetricNameLength}");
        }
        if (!IsMetricName(metric))
        {
            return Reject(index, RejectionReasons.InvalidMetricName, $"samples[{index}].metric: '{Truncate(metric)}' does not match [a-z][a-z0-9_]*");
        }
        if (!double.IsFinite(sample.Value))
        {
            return Reject(index, RejectionReasons.NonFiniteValue, $"samples[{index}].value: {sample.Value} is not a finite number");
        }
        if (sample.TimestampUnixMs < oldest || sample.TimestampUnixMs > newest)
        {
            return Reject(index, RejectionReasons.TimestampOutOfRange,
                $"samples[{index}].timestamp_unix_ms: {sample.TimestampUnixMs} is outside [{oldest}, {newest}] (max age {_options.MaxSampleAge}, max future skew {_options.MaxFutureSkew})");
        }
        if (sample.Labels.Count > _options.MaxLabelsPerSample)
        {
            return Reject(index, RejectionReasons.TooManyLabels, $"samples[{index}].labels: {sample.Labels.Count} labels, at most {_options.MaxLabelsPerSample}");
        }
        foreach (var (key, value) in sample.Labels)
        {
            if (key.Length > _options.MaxLabelKeyLength || !IsLabelKey(key))
            {
                return Reject(index, RejectionReasons.InvalidLabelKey,
                    $"samples[{index}].labels: key '{Truncate(key)}' must match [A-Za-z_][A-Za-z0-9_]* (at most {_options.MaxLabelKeyLength} characters) and must not be 'host_id'");
            }
            if (value.Length == 0 || value.Length > _options.MaxLabelValueLength || !IsPrintable(value))
            {
                return Reject(index, RejectionReasons.InvalidLabelValue,
                    $"samples[{index}].labels[{key}]: value must be 1..{_options.MaxLabelValueLength} printable characters");
            }
        }
        if (sample.Message.Length > _options.MaxMessageLength)
        {
            return Reject(index, RejectionReasons.MessageTooLong,
                $"samples[{index}].message: {sample.Message.Length} characters, at most {_options.MaxMessageLength} (Report:MaxMessageLength)");
        }
        if (!TrackSeries(series, sample))
        {
            return Reject(index, RejectionReasons.SeriesLimitExceeded,
                $"samples[{index}]: host '{Truncate(hostId)}' already has {_options.MaxSeriesPerHost} distinct series (Report:MaxSeriesPerHost)");
        }
        return null;
    }

    private bool TrackSeries(HashSet<ulong> set, Sample sample)
    {
        var key = SeriesHash(sample);
        lock (set)
        {
            return set.Contains(key) || (set.Count < _options.MaxSeriesPerHost && set.Add(key));
        }
    }

    /// <summary>
    /// A 64-bit identity of the series (metric + label set) computed without allocating, from the UTF-8 bytes of its
    /// strings, so that <see cref="TryAcceptWire"/> gets the same value from the wire bytes. Label pairs are mixed and
    /// summed, so their order does not matter. A collision would at worst let one extra series past the cardinality
    /// guard, which only bounds growth.
    /// </summary>
    internal static ulong SeriesHash(Sample sample)
    {
        ulong labels = 0;
        foreach (var label in sample.Labels)
        {
            labels += MixLabel(HashUtf8(label.Key), HashUtf8(label.Value));
        }
        return CombineSeriesHash(HashUtf8(sample.Metric), sample.Labels.Count > 0, labels);
    }

    private static ulong MixLabel(int keyHash, int valueHash) => Mix(((ulong)(uint)keyHash << 32) | (uint)valueHash);

    private static ulong CombineSeriesHash(int metricHash, bool hasLabels, ulong labelSum)
    {
        var hash = Mix((ulong)(uint)metricHash);
        return hasLabels ? hash ^ Mix(labelSum + 0x9E3779B97F4A7C15UL) : hash;
    }

    private static int HashUtf8(ReadOnlySpan<byte> utf8)
    {
        var hash = new HashCode();
        hash.AddBytes(utf8);
        return hash.ToHashCode();
    }

    private static int HashUtf8(string text)
    {
        var max = Encoding.UTF8.GetMaxByteCount(text.Length);
        Span<byte> buffer = max <= 1024 ? stackalloc byte[1024] : new byte[max];
        return HashUtf8(buffer[..Encoding.UTF8.GetBytes(text, buffer)]);
    }

    // splitmix64 finaliser
    private static ulong Mix(ulong x)
    {
        x ^= x >> 30;
        x *= 0xBF58476D1CE4E5B9UL;
        x ^= x >> 27;
        x *= 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }

    internal static bool IsMetricName(string name) => IsMetricName<char>(name);

    internal static bool IsLabelKey(string key) => IsLabelKey<char>(key);

    // The rules once, for decoded strings (char) and for UTF-8 wire bytes (byte): both are ASCII-only.
    private static bool IsMetricName<T>(ReadOnlySpan<T> name) where T : unmanaged, IBinaryInteger<T>
    {
        if (name.IsEmpty || !IsLower(name[0]))
        {
            return false;
        }
        foreach (var c in name)
        {
            if (!(IsLower(c) || IsDigit(c) || Is(c, '_')))
            {
                return false;
            }
        }
        return true;
    }

    private static bool IsLabelKey<T>(ReadOnlySpan<T> key) where T : unmanaged, IBinaryInteger<T>
    {
        if (key.IsEmpty || IsDigit(key[0]) || IsHostIdKey(key))
        {
            return false;
        }
        foreach (var c in key)
        {
            if (!(IsLower(c) || IsUpper(c) || IsDigit(c) || Is(c, '_')))
            {
                return false;
            }
        }
        return true;
    }

    private static bool IsHostIdKey<T>(ReadOnlySpan<T> key) where T : unmanaged, IBinaryInteger<T>
    {
        const string HostId = "host_id";
        if (key.Length != HostId.Length)
        {
            return false;
        }
        for (int i = 0; i < HostId.Length; i++)
        {
            if (!Is(key[i], HostId[i]))
            {
                return false;
            }
        }
        return true;
    }

    private static bool Is<T>(T c, char ascii) where T : IBinaryInteger<T> => int.CreateTruncating(c) == ascii;

    private static bool IsLower<T>(T c) where T : IBinaryInteger<T> => int.CreateTruncating(c) is >= 'a' and <= 'z';

    private static bool IsUpper<T>(T c) where T : IBinaryInteger<T> => int.CreateTruncating(c) is >= 'A' and <= 'Z';

    private static bool IsDigit<T>(T c) where T : IBinaryInteger<T> => int.CreateTruncating(c) is >= '0' and <= '9';

    private static bool IsPrintable(string s)
    {
        foreach (var c in s)
        {
            if (char.IsControl(c))
            {
                return false;
            }
        }
        return true;
    }

    private static string Truncate(string s) => s.Length <= 64 ? s : string.Concat(s.AsSpan(0, 64), "…");

    private static SampleRejection Reject(int index, string reason, string detail) =>
        new() { Index = index, Reason = reason, Detail = detail };
}
