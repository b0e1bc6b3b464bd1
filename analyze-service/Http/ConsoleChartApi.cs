using Microsoft.AspNetCore.Mvc;
using Monitor.AnalyzeService.Query;
using Monitor.Influx;
using Monitor.ServiceDefaults.Auth;

namespace Monitor.AnalyzeService.Http;

/// <summary>
/// A chart-shaped answer for the web console: the same query as <c>GetHostSeries</c>, but columnar — one shared
/// time axis (<c>timesUnixMs</c>, the union of every series' timestamps, ascending) and one value column per series
/// (<c>null</c> where a series has no sample at that time). A host with 1,000 series × 3,600 points answers ~20 MB
/// of plain numbers instead of ~160 MB of <c>{time, value}</c> objects, which is what lets a browser parse and draw
/// it in well under two seconds.
/// </summary>
internal static class ConsoleChartApi
{
    public static WebApplication MapConsoleChartApi(this WebApplication app)
    {
        app.MapGet(AnalyzeHttpApi.Prefix + "/hosts/{hostId}/metrics/{metric}/chart", async (
            string hostId, string metric, string? start, string? end, string? step, string? function, [FromQuery] string[]? label,
            AnalyzeQueryService queries, TimeProvider time, CancellationToken ct) =>
        {
            var now = time.GetUtcNow();
            var query = new RangeQuery(
                metric,
                QueryParsing.Instant(start, now, "start"),
                QueryParsing.Instant(end, now, "end"),
                string.IsNullOrEmpty(step) ? null : QueryParsing.Duration(step, "step"),
                function,
                [.. (label ?? []).Select(l => QueryParsing.Label(l))]);
            var host = hostId.Replace("%2F", "/", StringComparison.OrdinalIgnoreCase);
            return ToColumns(await queries.HostSeriesAsync("host_chart", host, query, splitByLabels: true, ct).ConfigureAwait(false));
        })
        .WithMetadata(new RequireRoleAttribute(MonitorRole.Viewer))
        .AddEndpointFilter(ProblemFilter.InvokeAsync)
        .WithTags("analyze")
        .WithName("GetHostChart")
        .WithSummary("Records of one host for one metric as columns: one shared time axis (unix ms) and one value column per label set.")
        .ProducesProblem(StatusCodes.Status400BadRequest)
        .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return app;
    }

    /// <summary>Aligns the series on the union of their timestamps.</summary>
    internal static ChartDto ToColumns(SeriesResult result)
    {
        var series = result.Series;
        long[] times;
        var shared = series.Count > 0 && series.All(s => SameTimes(s.Points, series[0].Points));
        if (shared)
        {
            times = [.. series[0].Points.Select(p => p.TimestampMs)];
        }
        else
        {
            var all = new SortedSet<long>();
            foreach (var s in series)
            {
                foreach (var p in s.Points)
                {
                    all.Add(p.TimestampMs);
                }
            }
            times = [.. all];
        }
        var index = shared ? null : times.Select((t, i) => (t, i)).ToDictionary(x => x.t, x => x.i);
        var columns = new List<ChartSeriesDto>(series.Count);
        foreach (var s in series)
        {
            var values = new double?[times.Length];
            for (var i = 0; i < s.Points.Count; i++)
            {
                values[index is null ? i : index[s.Points[i].TimestampMs]] = s.Points[i].Value;
            }
            columns.Add(new ChartSeriesDto(s.HostId, s.Labels, values));
        }
        return new ChartDto(result.Metric, result.Resolution.Name(), result.Step is { } st ? InfluxQl.DurationLiteral(st) : null,
            result.Start.UtcDateTime, result.End.UtcDateTime, result.Truncated, times, columns);
    }

    private static bool SameTimes(List<DataPoint> a, List<DataPoint> b)
    {
        if (a.Count != b.Count)
        {
            return false;
        }
        for (var i = 0; i < a.Count; i++)
        {
            if (a[i].TimestampMs != b[i].TimestampMs)
            {
                return false;
            }
        }
        return true;
    }
}

/// <summary>Columnar records of one host: <c>timesUnixMs[i]</c> is the time of every <c>series[k].values[i]</c>.</summary>
internal sealed record ChartDto(string Metric, string Resolution, string? Step, DateTime Start, DateTime End, bool Truncated,
    IReadOnlyList<long> TimesUnixMs, IReadOnlyList<ChartSeriesDto> Series);

/// <summary>One label set's values on the shared time axis; null where it has no sample.</summary>
internal sealed record ChartSeriesDto(string HostId, IReadOnlyDictionary<string, string> Labels, IReadOnlyList<double?> Values);
