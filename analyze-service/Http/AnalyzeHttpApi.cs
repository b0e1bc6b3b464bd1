using Microsoft.AspNetCore.Mvc;
using Monitor.AnalyzeService.Query;
using Monitor.Influx;
using Monitor.ServiceDefaults.Auth;

namespace Monitor.AnalyzeService.Http;

/// <summary>The new HTTP API under <c>/api/v1/analyze/</c>: the gRPC operations as JSON (camelCase, RFC 3339 UTC times).</summary>
internal static class AnalyzeHttpApi
{
    public const string Prefix = "/api/v1/analyze";

    public static WebApplication MapAnalyzeApi(this WebApplication app)
    {
        app.MapOpenApi(Prefix + "/openapi.json").WithMetadata(new RequireRoleAttribute(MonitorRole.Anonymous));

        var api = app.MapGroup(Prefix)
            .WithMetadata(new RequireRoleAttribute(MonitorRole.Viewer))
            .AddEndpointFilter(ProblemFilter.InvokeAsync)
            .WithTags("analyze")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        api.MapGet("/hosts/{hostId}/metrics/{metric}/series", async (
            string hostId, string metric, string? start, string? end, string? step, string? function, [FromQuery] string[]? label,
            AnalyzeQueryService queries, TimeProvider time, CancellationToken ct) =>
        {
            var result = await queries.HostSeriesAsync("host_series", Segment(hostId), Range(metric, start, end, step, function, label, time), splitByLabels: true, ct).ConfigureAwait(false);
            return ToDto(result);
        })
        .WithName("GetHostSeries")
        .WithSummary("Records of one host for one metric; raw when step is omitted, else aggregated per step.");

        api.MapGet("/locations/{location}/metrics/{metric}/series", async (
            string location, string metric, string? start, string? end, string? step, string? function, [FromQuery] string[]? label,
            AnalyzeQueryService queries, TimeProvider time, CancellationToken ct) =>
        {
            var result = await queries.LocationSeriesAsync("location_series", Segment(location), Range(metric, start, end, step ?? "1m", function, label, time), allowRaw: false, ct).ConfigureAwait(false);
            return ToDto(result);
        })
        .WithName("GetLocationSeries")
        .WithSummary("Records of every host of a location, one series per host (one InfluxQL query). Step defaults to 1m.")
        .ProducesProblem(StatusCodes.Status404NotFound);

        api.MapGet("/metrics/{metric}/latest", async (
            string metric, string? location, string? window, [FromQuery] string[]? label, AnalyzeQueryService queries, CancellationToken ct) =>
        {
            var span = string.IsNullOrEmpty(window) ? (TimeSpan?)null : QueryParsing.Duration(window, "window");
            var values = await queries.LatestAsync(metric, location, span, Labels(label), ct).ConfigureAwait(false);
            return new LatestDto(QueryParsing.Metric(metric), [.. values.Select(ToDto)]);
        })
        .WithName("GetLatest")
        .WithSummary("The latest value per host (fleet table), optionally of one location; window defaults to 10m.")
        .ProducesProblem(StatusCodes.Status404NotFound);

        api.MapGet("/metrics/{metric}/top", async (
            string metric, string? location, string? start, string? end, string? function, int? limit, string? order, [FromQuery] string[]? label,
            AnalyzeQueryService queries, TimeProvider time, CancellationToken ct) =>
        {
            var now = time.GetUtcNow();
            var ascending = order?.ToLowerInvariant() switch
            {
                null or "" or "desc" => false,
                "asc" => true,
                _ => throw new AnalyzeValidationException("order", "must be asc or desc."),
            };
            var result = await queries.TopAsync(metric, location, QueryParsing.Instant(start, now, "start"), QueryParsing.Instant(end, now, "end"),
                function, limit, ascending, Labels(label), ct).ConfigureAwait(false);
            return new TopDto(QueryParsing.Metric(metric), result.Resolution.Name(), [.. result.Hosts.Select(ToDto)]);
        })
        .WithName("GetTopHosts")
        .WithSummary("The top (order=desc, default) or bottom (order=asc) N hosts by an aggregate over a window.")
        .ProducesProblem(StatusCodes.Status404NotFound);

        api.MapGet("/locations/{location}/metrics/{metric}/rollup", async (
            string location, string metric, string? start, string? end, string? step, string? function, [FromQuery] string[]? label,
            AnalyzeQueryService queries, TimeProvider time, CancellationToken ct) =>
        {
            var result = await queries.LocationRollupAsync(Segment(location), Range(metric, start, end, step ?? "1m", function, label, time), ct).ConfigureAwait(false);
            return new RollupDto(QueryParsing.Metric(metric), result.Resolution.Name(), InfluxQl.DurationLiteral(result.Step), result.HostCount,
                [.. result.Points.Select(p => new RollupPointDto(Time(p.TimestampMs), p.Mean, p.Min, p.Max, p.HostCount))]);
        })
        .WithName("GetLocationRollup")
        .WithSummary("Per step across the hosts of a location: mean, min and max of the per-host aggregate, and the number of hosts.")
        .ProducesProblem(StatusCodes.Status404NotFound);

        api.MapGet("/hosts/{hostId}/metrics", async (string hostId, AnalyzeQueryService queries, CancellationToken ct) =>
            new MetricsDto(Segment(hostId), await queries.MetricsOfHostAsync(Segment(hostId), ct).ConfigureAwait(false)))
        .WithName("ListMetrics")
        .WithSummary("The metrics that exist for a host.");

        api.MapGet("/hosts/{hostId}/metrics/{metric}/labels", async (string hostId, string metric, AnalyzeQueryService queries, CancellationToken ct) =>
        {
            var labels = await queries.LabelValuesAsync(Segment(hostId), metric, ct).ConfigureAwait(false);
            return new LabelsDto(Segment(hostId), QueryParsing.Metric(metric), labels.ToDictionary(l => l.Key, l => l.Values, StringComparer.Ordinal));
        })
        .WithName("ListLabelValues")
        .WithSummary("The label keys and values that exist for a host and metric.");

        return app;
    }

    private static RangeQuery Range(string metric, string? start, string? end, string? step, string? function, string[]? label, TimeProvider time)
    {
        var now = time.GetUtcNow();
        return new RangeQuery(
            metric,
            QueryParsing.Instant(start, now, "start"),
            QueryParsing.Instant(end, now, "end"),
            string.IsNullOrEmpty(step) ? null : QueryParsing.Duration(step, "step"),
            function,
            Labels(label));
    }

    /// <summary>
    /// Kestrel decodes every escape in the path except <c>%2F</c>, so a host id or location containing '/' arrives
    /// with it still escaped; finish the decoding here.
    /// </summary>
    private static string Segment(string value) => value.Replace("%2F", "/", StringComparison.OrdinalIgnoreCase);

    private static List<LabelMatch> Labels(string[]? label) => [.. (label ?? []).Select(l => QueryParsing.Label(l))];

    private static DateTime Time(long unixMs) => DateTimeOffset.FromUnixTimeMilliseconds(unixMs).UtcDateTime;

    private static SeriesDto ToDto(SeriesResult result) => new(
        result.Metric,
        result.Resolution.Name(),
        result.Step is { } s ? InfluxQl.DurationLiteral(s) : null,
        result.Start.UtcDateTime,
        result.End.UtcDateTime,
        result.Truncated,
        [.. result.Series.Select(s => new SeriesItemDto(s.HostId, s.Labels, [.. s.Points.Select(p => new PointDto(Time(p.TimestampMs), p.Value))]))]);

    private static HostValueDto ToDto(HostValue value) => new(value.HostId, value.Value, Time(value.TimestampMs));
}

/// <summary>Answers records of one host or location.</summary>
internal sealed record SeriesDto(string Metric, string Resolution, string? Step, DateTime Start, DateTime End, bool Truncated, IReadOnlyList<SeriesItemDto> Series);

internal sealed record SeriesItemDto(string HostId, IReadOnlyDictionary<string, string> Labels, IReadOnlyList<PointDto> Points);

internal sealed record PointDto(DateTime Time, double Value);

internal sealed record HostValueDto(string HostId, double Value, DateTime Time);

internal sealed record LatestDto(string Metric, IReadOnlyList<HostValueDto> Hosts);

internal sealed record TopDto(string Metric, string Resolution, IReadOnlyList<HostValueDto> Hosts);

internal sealed record RollupPointDto(DateTime Time, double Mean, double Min, double Max, int HostCount);

internal sealed record RollupDto(string Metric, string Resolution, string Step, int HostCount, IReadOnlyList<RollupPointDto> Points);

internal sealed record MetricsDto(string HostId, IReadOnlyList<string> Metrics);

internal sealed record LabelsDto(string HostId, string Metric, IReadOnlyDictionary<string, IReadOnlyList<string>> Labels);
