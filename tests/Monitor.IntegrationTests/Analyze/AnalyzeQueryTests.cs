using System.Globalization;
using System.Net;
using System.Text.Json;
using Grpc.Core;
using Monitor.Protos.V1;
using Monitor.TestUtilities;
using Xunit;

namespace Monitor.IntegrationTests.Analyze;

/// <summary>
/// The analyze service as a real process against real InfluxDB: every answer is compared with aggregates the test
/// computes itself from the samples it wrote.
/// </summary>
[Collection(AnalyzeCollection.Name)]
public sealed class AnalyzeQueryTests(AnalyzeFixture f)
{
    private const long Minute = 60_000;
    private const long Hour = 3_600_000;

    private static string Rfc3339(long ms) =>
        DateTimeOffset.FromUnixTimeMilliseconds(ms).UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);

    private static string E(string s) => Uri.EscapeDataString(s);

    private async Task<JsonElement> GetJsonAsync(string url, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var response = await f.Http.GetAsync(url, TestContext.Current.CancellationToken);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.StatusCode == expected, $"GET {url} -> {(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private static void AssertSeries(SortedDictionary<long, double> expected, JsonElement points)
    {
        var actual = points.EnumerateArray().ToDictionary(
            p => DateTimeOffset.Parse(p.GetProperty("time").GetString()!, CultureInfo.InvariantCulture).ToUnixTimeMilliseconds(),
            p => p.GetProperty("value").GetDouble());
        Assert.Equal(expected.Keys, actual.Keys.Order());
        foreach (var (t, v) in expected)
        {
            Assert.True(Math.Abs(v - actual[t]) < 1e-9, $"at {Rfc3339(t)}: expected {v}, got {actual[t]}");
        }
    }

    [Theory]
    [InlineData("mean")]
    [InlineData("min")]
    [InlineData("max")]
    [InlineData("sum")]
    [InlineData("count")]
    [InlineData("last")]
    [InlineData("p50")]
    [InlineData("p90")]
    [InlineData("p95")]
    [InlineData("p99")]
    public async Task HostSeries_PerStepAggregates_MatchIndependentComputation(string function)
    {
        var host = f.LocationHosts[1];
        var (from, to) = (f.T0Ms + (20 * Minute), f.T0Ms + (50 * Minute));
        var json = await GetJsonAsync($"/api/v1/analyze/hosts/{E(host)}/metrics/cpu_rate/series?start={Rfc3339(from)}&end={Rfc3339(to)}&step=90s&function={function}");

        // 90 s is not a whole number of minutes: no rollup can answer it.
        Assert.Equal("raw", json.GetProperty("resolution").GetString());
        Assert.Equal("90s", json.GetProperty("step").GetString());
        var series = Assert.Single(json.GetProperty("series").EnumerateArray().ToList());
        Assert.Equal(host, series.GetProperty("hostId").GetString());
        var expected = Expect.PerStep(f.Points(host, "cpu_rate", from, to), 90_000, function);
        AssertSeries(expected, series.GetProperty("points"));
    }

    [Fact]
    public async Task HostSeries_WithoutStep_ReturnsEveryRawSample()
    {
        var host = f.LocationHosts[0];
        var (from, to) = (f.T0Ms + (5 * Minute), f.T0Ms + (15 * Minute));
        var json = await GetJsonAsync($"/api/v1/analyze/hosts/{E(host)}/metrics/mem_rate/series?start={Rfc3339(from)}&end={Rfc3339(to)}");
        Assert.Equal("raw", json.GetProperty("resolution").GetString());
        Assert.False(json.GetProperty("truncated").GetBoolean());
        var points = Assert.Single(json.GetProperty("series").EnumerateArray().ToList()).GetProperty("points");
        var expected = new SortedDictionary<long, double>(f.Points(host, "mem_rate", from, to).ToDictionary(s => s.TimeMs, s => s.Value));
        Assert.Equal(60, expected.Count);
        AssertSeries(expected, points);
    }

    [Fact]
    public async Task HostSeries_SplitsByLabel_AndLabelFiltersSelect()
    {
        var host = f.LocationHosts[2];
        var (from, to) = (f.T0Ms + (10 * Minute), f.T0Ms + (20 * Minute));
        var all = await GetJsonAsync($"/api/v1/analyze/hosts/{E(host)}/metrics/disk_used_percent/series?start={Rfc3339(from)}&end={Rfc3339(to)}&step=30s&function=max");
        var mounts = all.GetProperty("series").EnumerateArray().Select(s => s.GetProperty("labels").GetProperty("mount").GetString()).ToList();
        Assert.Equal(["/", "/data"], mounts);

        var data = await GetJsonAsync($"/api/v1/analyze/hosts/{E(host)}/metrics/disk_used_percent/series?start={Rfc3339(from)}&end={Rfc3339(to)}&step=30s&function=max&label={E("mount=/data")}");
        var series = Assert.Single(data.GetProperty("series").EnumerateArray().ToList());
        AssertSeries(Expect.PerStep(f.Points(host, "disk_used_percent", from, to, "/data"), 30_000, "max"), series.GetProperty("points"));
    }

    [Fact]
    public async Task Rollups_AreWrittenByMonitor_AndQueriesPickTheCoarsestResolution()
    {
        var ct = TestContext.Current.CancellationToken;
        var host = f.LocationHosts[0];
        var (from, to) = (f.T0Ms, f.T0Ms + (2 * Hour));
        var url = $"/api/v1/analyze/hosts/{E(host)}/metrics/cpu_rate/series?start={Rfc3339(from)}&end={Rfc3339(to)}&step=1h&function=";
        await Poll.UntilAsync(async () => (await GetJsonAsync(url + "mean")).GetProperty("resolution").GetString() == "rollup_1h",
            TimeSpan.FromSeconds(90), "the hourly rollups to cover the first two hours", ct);

        foreach (var function in new[] { "mean", "min", "max", "sum", "count" })
        {
            var json = await GetJsonAsync(url + function);
            Assert.Equal("rollup_1h", json.GetProperty("resolution").GetString());
            var series = Assert.Single(json.GetProperty("series").EnumerateArray().ToList());
            AssertSeries(Expect.PerStep(f.Points(host, "cpu_rate", from, to), Hour, function), series.GetProperty("points"));
        }

        // A 5-minute step is answered from the 1-minute rollups, with the same numbers raw would give.
        var minutes = await GetJsonAsync($"/api/v1/analyze/hosts/{E(host)}/metrics/cpu_rate/series?start={Rfc3339(from)}&end={Rfc3339(to)}&step=5m&function=mean");
        Assert.Equal("rollup_1m", minutes.GetProperty("resolution").GetString());
        AssertSeries(Expect.PerStep(f.Points(host, "cpu_rate", from, to), 5 * Minute, "mean"),
            Assert.Single(minutes.GetProperty("series").EnumerateArray().ToList()).GetProperty("points"));

        // Percentiles cannot come from rollups: raw, still exact.
        var p95 = await GetJsonAsync(url + "p95");
        Assert.Equal("raw", p95.GetProperty("resolution").GetString());

        // The rollup rows themselves: retention policy rollup_1h, fields mean/min/max/sum/count.
        var stored = await f.Influx.ExecuteAsync($"SELECT \"mean\", \"count\" FROM \"{f.Influx.Name}\".\"rollup_1h\".\"cpu_rate\" WHERE \"host_id\" = '{host}' AND time >= {from}ms AND time < {to}ms", ct);
        var rows = stored.GetProperty("results")[0].GetProperty("series")[0].GetProperty("values").EnumerateArray().ToList();
        Assert.Equal(2, rows.Count);
        Assert.Equal(360, rows[0][2].GetInt64());
    }

    [Fact]
    public async Task LocationSeries_OneSeriesPerHostOfTheLocation_OverHttpAndGrpc()
    {
        var (from, to) = (f.T0Ms + (30 * Minute), f.T0Ms + (60 * Minute));
        var json = await GetJsonAsync($"/api/v1/analyze/locations/{E(f.Location)}/metrics/CPU_Rate/series?start={Rfc3339(from)}&end={Rfc3339(to)}&step=2m&function=max");
        var series = json.GetProperty("series").EnumerateArray().ToList();
        Assert.Equal(f.LocationHosts, series.Select(s => s.GetProperty("hostId").GetString()!));
        foreach (var s in series)
        {
            AssertSeries(Expect.PerStep(f.Points(s.GetProperty("hostId").GetString()!, "cpu_rate", from, to), 2 * Minute, "max"), s.GetProperty("points"));
        }

        var grpc = await f.Grpc.GetLocationSeriesAsync(new GetLocationSeriesRequest
        {
            Location = f.Location,
            Metric = "cpu_rate",
            Range = new AnalyzeTimeRange { StartUnixMs = from, EndUnixMs = to },
            StepMs = 120_000,
            Function = "max",
        }, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(3, grpc.HostCount);
        Assert.Equal(f.LocationHosts, grpc.Series.Select(s => s.HostId));
        var expected = Expect.PerStep(f.Points(f.LocationHosts[2], "cpu_rate", from, to), 2 * Minute, "max");
        Assert.Equal(expected.Values, grpc.Series[2].Points.Select(p => p.Value));
    }

    [Fact]
    public async Task LegacyData_HasTheOriginalShape()
    {
        var host = f.LocationHosts[1];
        var json = await GetJsonAsync($"/data?HostID={E(host)}&StartFrom=-1h&MetricsType=CPU_Rate&Granularity=1m&AggregateFunc=max");
        var entry = Assert.Single(json.EnumerateArray().ToList());
        Assert.Equal(["host_id", "metrics_type", "metrics_value", "time_stamp"], entry.EnumerateObject().Select(p => p.Name));
        Assert.Equal(host, entry.GetProperty("host_id").GetString());
        Assert.Equal("CPU_Rate", entry.GetProperty("metrics_type").GetString());
        var values = entry.GetProperty("metrics_value").EnumerateArray().Select(v => v.GetDouble()).ToList();
        var stamps = entry.GetProperty("time_stamp").EnumerateArray().Select(v => v.GetInt64()).ToList();
        Assert.Equal(values.Count, stamps.Count);
        Assert.InRange(values.Count, 55, 61);
        var expected = Expect.PerStep(f.Points(host, "cpu_rate", f.T0Ms, f.EndMs), Minute, "max");
        // Unix seconds at whole minutes; the first (partial) minute is skipped.
        for (var i = 1; i < stamps.Count; i++)
        {
            Assert.Equal(0, stamps[i] % 60);
            Assert.Equal(expected[stamps[i] * 1000], values[i]);
        }
    }

    [Fact]
    public async Task LegacyLocation_ListsEveryHostOfTheLocation()
    {
        var json = await GetJsonAsync($"/location?Location={E(f.Location)}&StartFrom=-30m&MetricsType=MEM_Rate&Granularity=5m&AggregateFunc=mean");
        var entries = json.EnumerateArray().ToList();
        Assert.Equal(f.LocationHosts, entries.Select(e => e.GetProperty("host_id").GetString()!));
        Assert.All(entries, e => Assert.Equal("MEM_Rate", e.GetProperty("metrics_type").GetString()));
        Assert.All(entries, e => Assert.InRange(e.GetProperty("metrics_value").GetArrayLength(), 6, 7));
    }

    [Fact]
    public async Task Latest_IsTheLastSampleOfEachHost()
    {
        var json = await GetJsonAsync($"/api/v1/analyze/metrics/cpu_rate/latest?location={E(f.Location)}&window=30m");
        var hosts = json.GetProperty("hosts").EnumerateArray().ToList();
        Assert.Equal(f.LocationHosts, hosts.Select(h => h.GetProperty("hostId").GetString()!));
        foreach (var h in hosts)
        {
            var last = f.Points(h.GetProperty("hostId").GetString()!, "cpu_rate", f.T0Ms, f.EndMs)[^1];
            Assert.Equal(last.Value, h.GetProperty("value").GetDouble());
            Assert.Equal(Rfc3339(last.TimeMs), DateTimeOffset.Parse(h.GetProperty("time").GetString()!, CultureInfo.InvariantCulture).UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture));
        }

        var fleet = await f.Grpc.GetLatestAsync(new GetLatestRequest { Metric = "cpu_rate", WindowMs = 1_800_000 }, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(f.AllHosts.Order(StringComparer.Ordinal), fleet.Values.Select(v => v.HostId));
    }

    [Fact]
    public async Task TopHosts_AreRankedByTheAggregate()
    {
        var (from, to) = (f.T0Ms, f.T0Ms + Hour);
        var json = await GetJsonAsync($"/api/v1/analyze/metrics/cpu_rate/top?location={E(f.Location)}&start={Rfc3339(from)}&end={Rfc3339(to)}&function=mean&limit=2");
        var expected = f.LocationHosts
            .Select(h => (Host: h, Value: Expect.Aggregate("mean", [.. f.Points(h, "cpu_rate", from, to).Select(s => s.Value)])))
            .OrderByDescending(x => x.Value).Take(2).ToList();
        var hosts = json.GetProperty("hosts").EnumerateArray().ToList();
        Assert.Equal(expected.Select(e => e.Host), hosts.Select(h => h.GetProperty("hostId").GetString()!));
        Assert.Equal(expected[0].Value, hosts[0].GetProperty("value").GetDouble(), 9);

        var bottom = await f.Grpc.GetTopHostsAsync(new GetTopHostsRequest
        {
            Metric = "cpu_rate", Range = new AnalyzeTimeRange { StartUnixMs = from, EndUnixMs = to }, Function = "max", Limit = 1, Ascending = true,
        }, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(f.AllHosts.OrderBy(h => Expect.Aggregate("max", [.. f.Points(h, "cpu_rate", from, to).Select(s => s.Value)])).First(), Assert.Single(bottom.Hosts).HostId);
    }

    [Fact]
    public async Task LocationRollup_CombinesThePerHostAggregatesAcrossHosts()
    {
        var (from, to) = (f.T0Ms + (30 * Minute), f.T0Ms + (90 * Minute));
        var json = await GetJsonAsync($"/api/v1/analyze/locations/{E(f.Location)}/metrics/cpu_rate/rollup?start={Rfc3339(from)}&end={Rfc3339(to)}&step=10m&function=mean");
        Assert.Equal(3, json.GetProperty("hostCount").GetInt32());
        var perHost = f.LocationHosts.Select(h => Expect.PerStep(f.Points(h, "cpu_rate", from, to), 10 * Minute, "mean")).ToList();
        var points = json.GetProperty("points").EnumerateArray().ToList();
        Assert.Equal(6, points.Count);
        foreach (var p in points)
        {
            var t = DateTimeOffset.Parse(p.GetProperty("time").GetString()!, CultureInfo.InvariantCulture).ToUnixTimeMilliseconds();
            var values = perHost.Select(h => h[t]).ToList();
            Assert.Equal(values.Average(), p.GetProperty("mean").GetDouble(), 9);
            Assert.Equal(values.Min(), p.GetProperty("min").GetDouble(), 9);
            Assert.Equal(values.Max(), p.GetProperty("max").GetDouble(), 9);
            Assert.Equal(3, p.GetProperty("hostCount").GetInt32());
        }
    }

    [Fact]
    public async Task MetricsAndLabels_OfAHost_AreListed()
    {
        var host = f.LocationHosts[0];
        var metrics = await GetJsonAsync($"/api/v1/analyze/hosts/{E(host)}/metrics");
        Assert.Equal(["cpu_rate", "disk_used_percent", "mem_rate"], metrics.GetProperty("metrics").EnumerateArray().Select(m => m.GetString()!));

        var labels = await f.Grpc.ListLabelValuesAsync(new ListLabelValuesRequest { HostId = host, Metric = "disk_used_percent" }, cancellationToken: TestContext.Current.CancellationToken);
        var mount = Assert.Single(labels.Labels);
        Assert.Equal("mount", mount.Key);
        Assert.Equal(["/", "/data"], mount.Values);
    }

    [Fact]
    public async Task OpenApiDocument_DescribesTheApi()
    {
        var doc = await GetJsonAsync("/api/v1/analyze/openapi.json");
        var paths = doc.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();
        Assert.Contains("/api/v1/analyze/hosts/{hostId}/metrics/{metric}/series", paths);
        Assert.Contains("/api/v1/analyze/locations/{location}/metrics/{metric}/series", paths);
        Assert.Contains("/data", paths);
        Assert.Contains("/location", paths);
    }

    [Fact]
    public async Task Metrics_ExposeQueryAndInfluxLatencyPerOperation()
    {
        await GetJsonAsync($"/api/v1/analyze/hosts/{E(f.LocationHosts[0])}/metrics");
        var ct = TestContext.Current.CancellationToken;
        string text = "";
        await Poll.UntilAsync(async () =>
        {
            text = await f.Http.GetStringAsync("/metrics", ct);
            return text.Contains("monitor_analyze_query_duration", StringComparison.Ordinal);
        }, TimeSpan.FromSeconds(30), "analyze metrics on /metrics", ct);
        Assert.Contains("operation=\"list_metrics\"", text, StringComparison.Ordinal);
        Assert.Contains("monitor_analyze_influx_duration", text, StringComparison.Ordinal);
        Assert.Contains("monitor_analyze_rollup_points", text, StringComparison.Ordinal);
    }
}
