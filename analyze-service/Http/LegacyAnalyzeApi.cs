using System.Text.Json.Serialization;
using Monitor.AnalyzeService.Query;
using Monitor.ServiceDefaults.Auth;

namespace Monitor.AnalyzeService.Http;

/// <summary>
/// The original system's API, kept exactly for existing dashboards and scripts (behind nginx under
/// <c>/analysis/</c>): <c>GET /data</c> and <c>GET /location</c>, answering
/// <c>[{"host_id","metrics_type","metrics_value":[…],"time_stamp":[…unix seconds…]}]</c>.
/// </summary>
internal static class LegacyAnalyzeApi
{
    public static WebApplication MapLegacyAnalyzeApi(this WebApplication app)
    {
        var legacy = app.MapGroup(string.Empty)
            .WithMetadata(new RequireRoleAttribute(MonitorRole.Viewer))
            .AddEndpointFilter(ProblemFilter.InvokeAsync)
            .AddEndpointFilter(RenameFields)
            .WithTags("legacy")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        legacy.MapGet("/data", async (
            [AsParameters] LegacyDataQuery q, AnalyzeQueryService queries, TimeProvider time, CancellationToken ct) =>
        {
            QueryParsing.HostId(q.HostID, "HostID");
            var query = Range(q.MetricsType, q.StartFrom, q.Granularity, q.AggregateFunc, time);
            var result = await queries.HostSeriesAsync("legacy_data", q.HostID, query, splitByLabels: false, ct).ConfigureAwait(false);
            var hostId = q.HostID!;
            return Shape([hostId], result, q.MetricsType!);
        })
        .WithName("LegacyData")
        .WithSummary("Original API: one host's records, e.g. /data?HostID=h1&StartFrom=-1h&MetricsType=CPU_Rate&Granularity=1m&AggregateFunc=mean.");

        legacy.MapGet("/location", async (
            [AsParameters] LegacyLocationQuery q, AnalyzeQueryService queries, TimeProvider time, CancellationToken ct) =>
        {
            QueryParsing.Location(q.Location, "Location");
            var query = Range(q.MetricsType, q.StartFrom, q.Granularity, q.AggregateFunc, time);
            var result = await queries.LocationSeriesAsync("legacy_location", q.Location, query, allowRaw: false, ct).ConfigureAwait(false);
            return Shape(result.HostIds, result, q.MetricsType!);
        })
        .WithName("LegacyLocation")
        .WithSummary("Original API: every host of a location, e.g. /location?Location=dc1&StartFrom=-1h&MetricsType=MEM_Rate&Granularity=5m&AggregateFunc=max.")
        .ProducesProblem(StatusCodes.Status404NotFound);

        return app;
    }

    /// <summary>The shared validation names fields as the new API spells them; the original API's callers see its parameter names.</summary>
    private static async ValueTask<object?> RenameFields(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await next(context).ConfigureAwait(false);
        }
        catch (AnalyzeValidationException ex) when (LegacyName(ex.Field) is { } name)
        {
            throw new AnalyzeValidationException(name, ex.Message);
        }
    }

    private static string? LegacyName(string field) => field switch
    {
        "hostId" => "HostID",
        "location" => "Location",
        "metric" => "MetricsType",
        "step" => "Granularity",
        "start" => "StartFrom",
        "function" => "AggregateFunc",
        _ => null,
    };

    private static RangeQuery Range(string? metricsType, string? startFrom, string? granularity, string? aggregateFunc, TimeProvider time)
    {
        if (string.IsNullOrEmpty(metricsType))
        {
            throw new AnalyzeValidationException("MetricsType", "is required (CPU_Rate, MEM_Rate or a metric name).");
        }
        QueryParsing.Metric(metricsType, "MetricsType");
        var back = string.IsNullOrEmpty(startFrom) ? TimeSpan.FromHours(1) : QueryParsing.RelativeStart(startFrom, "StartFrom");
        var step = string.IsNullOrEmpty(granularity) ? TimeSpan.FromMinutes(1) : QueryParsing.Duration(granularity, "Granularity");
        if (!AggregateFunctions.TryParse(aggregateFunc, out _))
        {
            throw new AnalyzeValidationException("AggregateFunc", $"'{aggregateFunc}' is not an aggregate function (one of {AggregateFunctions.Names}).");
        }
        var now = time.GetUtcNow();
        return new RangeQuery(metricsType, now - back, now, step, aggregateFunc, []);
    }

    /// <summary>One entry per host; <paramref name="requested"/> hosts without data get empty arrays, as host-by-host queries did.</summary>
    private static List<LegacySeries> Shape(IReadOnlyList<string>? requested, SeriesResult result, string metricsType)
    {
        var byHost = result.Series.ToDictionary(s => s.HostId, StringComparer.Ordinal);
        var hostIds = requested ?? [.. byHost.Keys];
        return [.. hostIds.Select(host => byHost.TryGetValue(host, out var series)
            ? new LegacySeries(host, metricsType, [.. series.Points.Select(p => p.Value)], [.. series.Points.Select(p => p.TimestampMs / 1000)])
            : new LegacySeries(host, metricsType, [], []))];
    }
}

/// <summary>Query string of <c>GET /data</c> (names as the original API spelled them).</summary>
internal sealed record LegacyDataQuery(string? HostID, string? StartFrom, string? MetricsType, string? Granularity, string? AggregateFunc);

/// <summary>Query string of <c>GET /location</c>.</summary>
internal sealed record LegacyLocationQuery(string? Location, string? StartFrom, string? MetricsType, string? Granularity, string? AggregateFunc);

/// <summary>One element of the original API's answer.</summary>
internal sealed record LegacySeries(
    [property: JsonPropertyName("host_id")] string HostId,
    [property: JsonPropertyName("metrics_type")] string MetricsType,
    [property: JsonPropertyName("metrics_value")] IReadOnlyList<double> MetricsValue,
    [property: JsonPropertyName("time_stamp")] IReadOnlyList<long> TimeStamp);
