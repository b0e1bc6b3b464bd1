using Microsoft.Extensions.Options;
using Monitor.Influx;

namespace Monitor.ManageService.Probes;

internal static class ProbeStatuses
{
    public const string Unknown = "unknown";
    public const string Healthy = "healthy";
    public const string Unhealthy = "unhealthy";
    public const string Disabled = "disabled";
}

/// <summary>The status of a target and the message of the result it was derived from.</summary>
internal sealed record ProbeStatus(string Status, string Message, DateTimeOffset? LastResultAt)
{
    public static readonly ProbeStatus Unknown = new(ProbeStatuses.Unknown, "", null);
}

/// <summary>
/// Target status from InfluxDB: the latest <c>probe_success</c> (and its <c>message</c>) of every (target, agent host).
/// A target is unhealthy when the latest result of any agent failed, healthy when every agent's latest result
/// succeeded, unknown without results within <c>Probes:StatusLookBack</c> (or while InfluxDB does not answer), and
/// disabled while paused.
/// </summary>
internal sealed partial class ProbeStatusReader(InfluxQueryClient influx, IOptions<ProbeOptions> options, TimeProvider timeProvider, ILogger<ProbeStatusReader> logger)
{
    public const string Measurement = "probe_success";

    /// <summary>Statuses of <paramref name="targets"/>, by name.</summary>
    public async Task<Dictionary<string, ProbeStatus>> ReadAsync(IReadOnlyList<ProbeTarget> targets, CancellationToken cancellationToken)
    {
        var result = new Dictionary<string, ProbeStatus>(StringComparer.Ordinal);
        foreach (var t in targets)
        {
            result[t.Name] = t.Enabled ? ProbeStatus.Unknown : new ProbeStatus(ProbeStatuses.Disabled, "", null);
        }
        if (!targets.Any(t => t.Enabled))
        {
            return result;
        }
        var since = timeProvider.GetUtcNow() - options.Value.StatusLookBack;
        // One target: filter by it; several: read them all (the store's names are validated, and quoted anyway).
        var filter = targets.Count == 1 ? $" AND \"target\" = {InfluxQl.QuoteString(targets[0].Name)}" : "";
        var query = $"SELECT \"value\", \"message\" FROM {InfluxQl.QuoteIdentifier(Measurement)} WHERE time > {InfluxQl.TimeLiteral(since)}{filter} GROUP BY \"target\", \"host_id\" ORDER BY time DESC LIMIT 1";
        InfluxQueryResult answer;
        try
        {
            answer = await influx.QueryAsync(query, cancellationToken).ConfigureAwait(false);
        }
        catch (InfluxQueryException ex)
        {
            Log.StatusUnavailable(logger, ex);
            return result;
        }
        return Merge(result, answer);
    }

    internal static Dictionary<string, ProbeStatus> Merge(Dictionary<string, ProbeStatus> statuses, InfluxQueryResult answer)
    {
        foreach (var series in answer.Series)
        {
            if (!series.Tags.TryGetValue("target", out var target) || !statuses.TryGetValue(target, out var current)
                || current.Status == ProbeStatuses.Disabled || series.RowCount == 0)
            {
                continue;
            }
            var time = series.GetColumnIndex("time");
            var value = series.GetColumnIndex("value");
            var message = series.GetColumnIndex("message");
            var at = time >= 0 && series.GetInt64(0, time) is { } ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : (DateTimeOffset?)null;
            var ok = value >= 0 && series.GetDouble(0, value) is { } v && v >= 0.5;
            var text = message >= 0 ? series.GetString(0, message) ?? "" : "";
            var status = new ProbeStatus(ok ? ProbeStatuses.Healthy : ProbeStatuses.Unhealthy, text, at);
            statuses[target] = Worse(current, status);
        }
        return statuses;
    }

    /// <summary>Unhealthy beats healthy beats unknown; among equals the newer result (its message) wins.</summary>
    private static ProbeStatus Worse(ProbeStatus a, ProbeStatus b)
    {
        static int Rank(string s) => s switch { ProbeStatuses.Unhealthy => 2, ProbeStatuses.Healthy => 1, _ => 0 };
        if (Rank(a.Status) != Rank(b.Status))
        {
            return Rank(a.Status) > Rank(b.Status) ? a : b;
        }
        return (b.LastResultAt ?? DateTimeOffset.MinValue) > (a.LastResultAt ?? DateTimeOffset.MinValue) ? b : a;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 6130, EventName = "ProbeStatusUnavailable", Level = LogLevel.Warning,
            Message = "Reading probe results from InfluxDB failed; target status is unknown")]
        public static partial void StatusUnavailable(ILogger logger, Exception exception);
    }
}
