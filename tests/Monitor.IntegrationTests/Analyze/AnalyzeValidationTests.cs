using System.Net;
using System.Text.Json;
using Grpc.Core;
using Grpc.Net.Client;
using Monitor.Protos.V1;
using Monitor.TestUtilities;
using Xunit;

namespace Monitor.IntegrationTests.Analyze;

/// <summary>Bad parameters, unknown names, hostile strings and a dead InfluxDB, against the real process.</summary>
[Collection(AnalyzeCollection.Name)]
public sealed class AnalyzeValidationTests(AnalyzeFixture f)
{
    public static readonly TheoryData<string> Hostile =
    [
        "\"",
        "'",
        "\\",
        "/",
        ";",
        "x' OR '1'='1",
        "x\" OR \"1\"=\"1",
        "x'; DROP DATABASE monitor; SELECT '",
        "' OR host_id =~ /.*/ OR '",
        "/.*/",
        ".*",
        "^an-.*$",
        "(a|b)[c]{1}+?",
        "an-\\'",
        "\\\\'",
    ];

    private static string E(string s) => Uri.EscapeDataString(s);

    private async Task<(HttpStatusCode Status, JsonElement Body, string Text)> GetAsync(string url)
    {
        using var response = await f.Http.GetAsync(url, TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        var body = text.Length > 0 && (text[0] is '{' or '[') ? JsonDocument.Parse(text).RootElement.Clone() : default;
        return (response.StatusCode, body, text);
    }

    [Theory]
    [InlineData("/api/v1/analyze/hosts/h/metrics/no_such_metric/series?step=1m", "metric")]
    [InlineData("/api/v1/analyze/hosts/h/metrics/Not%20A%20Metric/series?step=1m", "metric")]
    [InlineData("/api/v1/analyze/hosts/h/metrics/cpu_rate/series?step=1m&function=median2", "function")]
    [InlineData("/api/v1/analyze/hosts/h/metrics/cpu_rate/series?step=1fortnight", "step")]
    [InlineData("/api/v1/analyze/hosts/h/metrics/cpu_rate/series?step=1s&start=-30d", "step")]
    [InlineData("/api/v1/analyze/hosts/h/metrics/cpu_rate/series?step=1h&start=-5000d", "start")]
    [InlineData("/api/v1/analyze/hosts/h/metrics/cpu_rate/series?start=yesterday", "start")]
    [InlineData("/api/v1/analyze/hosts/h/metrics/cpu_rate/series?start=-1h&end=-2h", "start")]
    [InlineData("/api/v1/analyze/hosts/h/metrics/cpu_rate/series?label=nokey", "label")]
    [InlineData("/api/v1/analyze/metrics/cpu_rate/top?limit=0", "limit")]
    [InlineData("/api/v1/analyze/metrics/cpu_rate/top?order=sideways", "order")]
    [InlineData("/api/v1/analyze/metrics/cpu_rate/latest?window=-1m", "window")]
    [InlineData("/data?HostID=h&StartFrom=1h&MetricsType=CPU_Rate&Granularity=1m&AggregateFunc=mean", "StartFrom")]
    [InlineData("/data?HostID=h&StartFrom=-1h&MetricsType=CPU_Rate&Granularity=1x&AggregateFunc=mean", "Granularity")]
    [InlineData("/data?HostID=h&StartFrom=-1h&MetricsType=CPU_Rate&Granularity=1m&AggregateFunc=avg2", "AggregateFunc")]
    [InlineData("/data?HostID=h&StartFrom=-1h&MetricsType=DISK_Rate&Granularity=1m&AggregateFunc=mean", "MetricsType")]
    [InlineData("/data?StartFrom=-1h&MetricsType=CPU_Rate&Granularity=1m&AggregateFunc=mean", "HostID")]
    [InlineData("/data?HostID=h&StartFrom=-30d&MetricsType=CPU_Rate&Granularity=1s&AggregateFunc=mean", "Granularity")]
    public async Task BadParameters_Are400ProblemsNamingTheField(string url, string field)
    {
        var (status, body, text) = await GetAsync(url);
        Assert.True(status == HttpStatusCode.BadRequest, $"{url} -> {(int)status}: {text}");
        Assert.Equal(400, body.GetProperty("status").GetInt32());
        Assert.True(body.GetProperty("errors").TryGetProperty(field, out _), $"problem does not name {field}: {text}");
    }

    [Fact]
    public async Task UnknownLocation_Is404_AndNotFoundOverGrpc()
    {
        var (status, body, _) = await GetAsync("/location?Location=atlantis&StartFrom=-1h&MetricsType=CPU_Rate&Granularity=1m&AggregateFunc=mean");
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Contains("atlantis", body.GetProperty("detail").GetString(), StringComparison.Ordinal);

        var ex = await Assert.ThrowsAsync<RpcException>(() => f.Grpc.GetLocationSeriesAsync(
            new GetLocationSeriesRequest { Location = "atlantis", Metric = "cpu_rate", StepMs = 60_000 }, cancellationToken: TestContext.Current.CancellationToken).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, ex.StatusCode);
    }

    [Fact]
    public async Task BadGrpcArguments_AreInvalidArgument_NamingTheField()
    {
        var ct = TestContext.Current.CancellationToken;
        var ex = await Assert.ThrowsAsync<RpcException>(() => f.Grpc.GetHostSeriesAsync(
            new GetHostSeriesRequest { HostId = "h", Metric = "cpu_rate", StepMs = 1_000, Range = new AnalyzeTimeRange { StartUnixMs = 1, EndUnixMs = 30L * 86_400_000 } }, cancellationToken: ct).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.StartsWith("step_ms:", ex.Status.Detail, StringComparison.Ordinal);

        ex = await Assert.ThrowsAsync<RpcException>(() => f.Grpc.GetHostSeriesAsync(
            new GetHostSeriesRequest { HostId = "h", Metric = "cpu_rate", StepMs = 60_000, Function = "mode" }, cancellationToken: ct).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.StartsWith("function:", ex.Status.Detail, StringComparison.Ordinal);

        ex = await Assert.ThrowsAsync<RpcException>(() => f.Grpc.GetHostSeriesAsync(
            new GetHostSeriesRequest { HostId = "", Metric = "cpu_rate" }, cancellationToken: ct).ResponseAsync);
        Assert.StartsWith("host_id:", ex.Status.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Hostile))]
    public async Task HostileHostIds_NeitherBreakNorWidenTheQuery(string hostile)
    {
        foreach (var host in new[] { hostile, f.LocationHosts[0] + hostile, hostile + f.LocationHosts[0] })
        {
            var (status, body, text) = await GetAsync($"/api/v1/analyze/hosts/{E(host)}/metrics/cpu_rate/series?start=-4h&step=1h");
            Assert.True(status == HttpStatusCode.OK, $"{host} -> {(int)status}: {text}");
            Assert.Empty(body.GetProperty("series").EnumerateArray());

            (status, body, text) = await GetAsync($"/data?HostID={E(host)}&StartFrom=-4h&MetricsType=CPU_Rate&Granularity=1h&AggregateFunc=mean");
            Assert.True(status == HttpStatusCode.OK, $"{host} -> {(int)status}: {text}");
            Assert.Equal(0, Assert.Single(body.EnumerateArray().ToList()).GetProperty("metrics_value").GetArrayLength());

            (status, body, _) = await GetAsync($"/api/v1/analyze/hosts/{E(host)}/metrics");
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Empty(body.GetProperty("metrics").EnumerateArray());
        }
    }

    [Theory]
    [MemberData(nameof(Hostile))]
    public async Task HostileLabelValuesAndLocations_NeitherBreakNorWidenTheQuery(string hostile)
    {
        var (status, body, text) = await GetAsync($"/api/v1/analyze/hosts/{E(f.LocationHosts[0])}/metrics/disk_used_percent/series?start=-4h&step=1h&label={E("mount=/" + hostile)}");
        Assert.True(status == HttpStatusCode.OK, $"{hostile} -> {(int)status}: {text}");
        Assert.Empty(body.GetProperty("series").EnumerateArray());

        (status, _, text) = await GetAsync($"/api/v1/analyze/locations/{E(hostile)}/metrics/cpu_rate/series?start=-4h&step=1h");
        Assert.True(status == HttpStatusCode.NotFound, $"{hostile} -> {(int)status}: {text}");

        (status, body, text) = await GetAsync($"/api/v1/analyze/hosts/{E(f.LocationHosts[0])}/metrics/{E("cpu_rate" + hostile)}/series?step=1h");
        Assert.True(status == HttpStatusCode.BadRequest, $"{hostile} -> {(int)status}: {text}");
        Assert.True(body.GetProperty("errors").TryGetProperty("metric", out _));
    }

    [Theory]
    [InlineData("a\nb")]
    [InlineData("a\r\nb")]
    [InlineData("a\0b")]
    public async Task ControlCharacters_AreRefused(string hostile)
    {
        var (status, body, _) = await GetAsync($"/api/v1/analyze/hosts/{E(hostile)}/metrics/cpu_rate/series?step=1h");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        // Kestrel itself refuses a NUL in the path (plain 400); everything else reaches our validation.
        if (body.ValueKind == JsonValueKind.Object)
        {
            Assert.True(body.GetProperty("errors").TryGetProperty("hostId", out _));
        }
        (status, _, _) = await GetAsync($"/api/v1/analyze/hosts/h/metrics/cpu_rate/series?step=1h&label={E("mount=" + hostile)}");
        Assert.Equal(HttpStatusCode.BadRequest, status);
    }

    [Fact]
    public async Task AHostWhoseIdIsFullOfMetacharacters_GetsExactlyItsOwnData()
    {
        var (from, to) = (f.T0Ms, f.T0Ms + 3_600_000);
        var url = $"/api/v1/analyze/hosts/{E(f.EvilHost)}/metrics/cpu_rate/series?start={DateTimeOffset.FromUnixTimeMilliseconds(from):O}&end={DateTimeOffset.FromUnixTimeMilliseconds(to):O}&step=1h&function=count";
        var (status, body, text) = await GetAsync(url.Replace("+", "%2B", StringComparison.Ordinal));
        Assert.True(status == HttpStatusCode.OK, text);
        var series = Assert.Single(body.GetProperty("series").EnumerateArray().ToList());
        Assert.Equal(f.EvilHost, series.GetProperty("hostId").GetString());
        Assert.Equal(360, Assert.Single(series.GetProperty("points").EnumerateArray().ToList()).GetProperty("value").GetDouble());

        var located = await f.Grpc.GetLocationSeriesAsync(new GetLocationSeriesRequest
        {
            Location = f.EvilLocation, Metric = "cpu_rate", Range = new AnalyzeTimeRange { StartUnixMs = from, EndUnixMs = to }, StepMs = 3_600_000, Function = "count",
        }, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal([f.EvilHost], located.Series.Select(s => s.HostId));
    }

    [Fact]
    public async Task InfluxDown_Is503AndUnavailable_WithAClearMessage()
    {
        var ct = TestContext.Current.CancellationToken;
        var deadInflux = $"http://127.0.0.1:{Ports.Free()}";
        var grpcUrl = $"http://127.0.0.1:{Ports.Free()}";
        var httpUrl = $"http://127.0.0.1:{Ports.Free()}";
        var process = f.Start("analyze-noinflux", new()
        {
            ["Service__GrpcUrl"] = grpcUrl,
            ["Service__HttpUrl"] = httpUrl,
            ["Influx__Url"] = deadInflux,
            ["Influx__Database"] = f.Influx.Name,
            ["Influx__Timeout"] = "00:00:02",
            ["Manage__Address"] = f.Manage.Address,
            ["Retention__RollupsEnabled"] = "false",
        });
        // Readiness rightly fails without InfluxDB; liveness says the process is up.
        await process.WaitHealthyAsync(httpUrl + "/health/live", TimeSpan.FromSeconds(60), ct);
        using (var ready = await new HttpClient().GetAsync(httpUrl + "/health/ready", ct))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        }

        using var http = new HttpClient { BaseAddress = new Uri(httpUrl) };
        using var response = await http.GetAsync($"/api/v1/analyze/hosts/h/metrics/cpu_rate/series?step=1m", ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains("InfluxDB", text, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", text, StringComparison.Ordinal);

        using var legacy = await http.GetAsync($"/data?HostID=h&StartFrom=-1h&MetricsType=CPU_Rate&Granularity=1m&AggregateFunc=mean", ct);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, legacy.StatusCode);

        using var channel = GrpcChannel.ForAddress(grpcUrl);
        var client = new AnalyzeService.AnalyzeServiceClient(channel);
        var ex = await Assert.ThrowsAsync<RpcException>(() => client.GetLatestAsync(new GetLatestRequest { Metric = "cpu_rate" }, cancellationToken: ct).ResponseAsync);
        Assert.Equal(StatusCode.Unavailable, ex.StatusCode);
        Assert.Contains("InfluxDB", ex.Status.Detail, StringComparison.Ordinal);
        await process.StopAsync(TimeSpan.FromSeconds(20));
    }
}
