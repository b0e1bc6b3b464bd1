using System.Globalization;
using System.Net;
using System.Text.Json;
using Xunit;

namespace Monitor.IntegrationTests.Analyze;

/// <summary>
/// <c>GET /api/v1/analyze/hosts/{hostId}/metrics/{metric}/chart</c> (the console's columnar answer) against real InfluxDB:
/// the same samples as the host series, on one shared time axis.
/// </summary>
[Collection(AnalyzeCollection.Name)]
public sealed class AnalyzeChartTests(AnalyzeFixture f)
{
    private const long Minute = 60_000;

    private static string Rfc3339(long ms) =>
        DateTimeOffset.FromUnixTimeMilliseconds(ms).UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);

    private async Task<JsonElement> GetJsonAsync(string url, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var response = await f.Http.GetAsync(url, TestContext.Current.CancellationToken);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.StatusCode == expected, $"GET {url} -> {(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    [Fact]
    public async Task Chart_RawPerMount_HasOneTimeAxisAndOneColumnPerMount_MatchingWhatWasWritten()
    {
        var host = f.LocationHosts[0];
        var (from, to) = (f.T0Ms + (10 * Minute), f.T0Ms + (20 * Minute));

        var chart = await GetJsonAsync($"/api/v1/analyze/hosts/{Uri.EscapeDataString(host)}/metrics/disk_used_percent/chart?start={Rfc3339(from)}&end={Rfc3339(to)}");

        var times = chart.GetProperty("timesUnixMs").EnumerateArray().Select(t => t.GetInt64()).ToList();
        var expectedTimes = f.Points(host, "disk_used_percent", from, to).Select(p => p.TimeMs).Distinct().Order().ToList();
        Assert.Equal(expectedTimes, times);
        var series = chart.GetProperty("series").EnumerateArray().ToList();
        Assert.Equal(["/", "/data"], series.Select(s => s.GetProperty("labels").GetProperty("mount").GetString()).Order(StringComparer.Ordinal));
        foreach (var s in series)
        {
            var mount = s.GetProperty("labels").GetProperty("mount").GetString();
            var written = f.Points(host, "disk_used_percent", from, to, mount).ToDictionary(p => p.TimeMs, p => p.Value);
            var values = s.GetProperty("values").EnumerateArray().ToList();
            Assert.Equal(times.Count, values.Count);
            for (var i = 0; i < times.Count; i++)
            {
                Assert.Equal(written[times[i]], values[i].GetDouble(), 9);
            }
        }
        Assert.Equal("raw", chart.GetProperty("resolution").GetString());
    }

    [Fact]
    public async Task Chart_SeriesWithDifferentTimestamps_AreAlignedWithNullGaps()
    {
        // cpu_rate and a per-step max: compare with the ordinary series answer for the same query.
        var host = f.LocationHosts[2];
        var (from, to) = (f.T0Ms, f.T0Ms + (30 * Minute));
        var query = $"start={Rfc3339(from)}&end={Rfc3339(to)}&step=5m&function=max";

        var chart = await GetJsonAsync($"/api/v1/analyze/hosts/{Uri.EscapeDataString(host)}/metrics/cpu_rate/chart?{query}");
        var plain = await GetJsonAsync($"/api/v1/analyze/hosts/{Uri.EscapeDataString(host)}/metrics/cpu_rate/series?{query}");

        var times = chart.GetProperty("timesUnixMs").EnumerateArray().Select(t => t.GetInt64()).ToList();
        var values = chart.GetProperty("series")[0].GetProperty("values").EnumerateArray().ToList();
        var points = plain.GetProperty("series")[0].GetProperty("points").EnumerateArray()
            .ToDictionary(p => DateTimeOffset.Parse(p.GetProperty("time").GetString()!, CultureInfo.InvariantCulture).ToUnixTimeMilliseconds(), p => p.GetProperty("value").GetDouble());
        Assert.Equal(points.Keys.Order(), times);
        for (var i = 0; i < times.Count; i++)
        {
            Assert.Equal(points[times[i]], values[i].GetDouble(), 9);
        }
        Assert.Equal("5m", chart.GetProperty("step").GetString());
    }

    [Fact]
    public async Task Chart_BadParameters_Are400ProblemsNamingTheField()
    {
        var problem = await GetJsonAsync($"/api/v1/analyze/hosts/{Uri.EscapeDataString(f.LocationHosts[0])}/metrics/cpu_rate/chart?step=banana", HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty("step", out _), problem.GetRawText());
    }
}
