using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Monitor.Diagnostics.Requests;

/// <summary>The request statistics of one instance over a window (JSON of <c>GET /api/v1/{kind}/instance/stats/requests</c>).</summary>
/// <param name="Kind">Service kind.</param>
/// <param name="Instance">Instance id.</param>
/// <param name="WindowSeconds">The window asked for, in seconds (whole minutes).</param>
/// <param name="From">Start of the oldest minute bucket included (UTC).</param>
/// <param name="To">When the snapshot was taken (UTC); the newest bucket is the current, partial minute.</param>
/// <param name="LatencyBoundsMs">Upper bounds of the histogram buckets in <see cref="RouteStats.LatencyCounts"/> (the last count is the overflow).</param>
/// <param name="Routes">One row per route or method that had calls in the window.</param>
public sealed record RequestStatsSnapshot(
    string Kind,
    string Instance,
    int WindowSeconds,
    DateTimeOffset From,
    DateTimeOffset To,
    IReadOnlyList<double> LatencyBoundsMs,
    IReadOnlyList<RouteStats> Routes);

/// <summary>Statistics of one HTTP route template or gRPC method.</summary>
/// <param name="Protocol"><c>http</c> or <c>grpc</c>.</param>
/// <param name="Route"><c>GET /api/v1/manage/hosts/{hostId}</c> or <c>/monitor.v1.ReportService/Report</c>.</param>
/// <param name="Calls">Finished calls in the window.</param>
/// <param name="Errors">Calls that failed: HTTP status ≥ 400, gRPC status other than OK.</param>
/// <param name="CallsPerSecond">Calls divided by the seconds the window covers so far.</param>
/// <param name="ErrorRate">Errors / calls (0..1).</param>
/// <param name="P50Ms">Median latency in milliseconds (interpolated within its histogram bucket).</param>
/// <param name="P99Ms">99th percentile latency in milliseconds.</param>
/// <param name="Statuses">Calls by status code (HTTP status or gRPC status number, as a string key).</param>
/// <param name="LatencyCounts">Histogram counts per bucket of <see cref="RequestStatistics.LatencyBoundsMs"/>, plus overflow.</param>
public sealed record RouteStats(
    string Protocol,
    string Route,
    long Calls,
    long Errors,
    double CallsPerSecond,
    double ErrorRate,
    double? P50Ms,
    double? P99Ms,
    IReadOnlyDictionary<string, long> Statuses,
    IReadOnlyList<long> LatencyCounts)
{
    /// <summary>Whether <paramref name="status"/> counts as an error for <paramref name="protocol"/>.</summary>
    public static bool IsError(string protocol, int status) =>
        string.Equals(protocol, "grpc", StringComparison.Ordinal) ? status != 0 : status >= 400;

    /// <summary>Builds a row from merged counts.</summary>
    public static RouteStats Create(string protocol, string route, IReadOnlyDictionary<int, long> statuses, IReadOnlyList<long> latency, double seconds)
    {
        ArgumentNullException.ThrowIfNull(statuses);
        ArgumentNullException.ThrowIfNull(latency);
        long calls = 0, errors = 0;
        foreach (var (status, count) in statuses)
        {
            calls += count;
            if (IsError(protocol, status))
            {
                errors += count;
            }
        }
        return new RouteStats(
            protocol, route, calls, errors,
            Math.Round(calls / Math.Max(seconds, 1e-9), 4),
            calls == 0 ? 0 : Math.Round((double)errors / calls, 4),
            RequestStatistics.Percentile(latency, 0.50),
            RequestStatistics.Percentile(latency, 0.99),
            statuses.OrderBy(s => s.Key).ToDictionary(s => s.Key.ToString(CultureInfo.InvariantCulture), s => s.Value, StringComparer.Ordinal),
            latency.ToArray());
    }
}

/// <summary>Source-generated JSON metadata (camelCase) for the request statistics, shared by the services and manage's aggregation.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(RequestStatsSnapshot))]
public sealed partial class RequestStatsJsonContext : JsonSerializerContext;
