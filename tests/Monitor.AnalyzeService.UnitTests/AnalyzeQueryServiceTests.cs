using System.Diagnostics.Metrics;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Monitor.AnalyzeService.Extensions;
using Monitor.AnalyzeService.Manage;
using Monitor.AnalyzeService.Options;
using Monitor.AnalyzeService.Query;
using Monitor.Influx;
using Xunit;

namespace Monitor.AnalyzeService.UnitTests;

public sealed class AnalyzeQueryServiceTests : IDisposable
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero));
    private readonly FakeInflux _influx = new();
    private readonly FakeDirectory _directory = new();
    private readonly TestMeterFactory _meters = new();
    private readonly MetricCatalog _catalog;
    private readonly AnalyzeQueryService _service;

    public AnalyzeQueryServiceTests()
    {
        var analyze = Microsoft.Extensions.Options.Options.Create(new AnalyzeOptions());
        _catalog = new MetricCatalog(_influx, analyze, _time);
        _service = new AnalyzeQueryService(
            _influx, _directory, _catalog, new RollupCoverage(), analyze,
            Microsoft.Extensions.Options.Options.Create(new RetentionOptions()),
            Microsoft.Extensions.Options.Options.Create(new InfluxOptions { Database = "monitor" }),
            new AnalyzeMetrics(_meters, _time), _time);
    }

    public void Dispose()
    {
        _catalog.Dispose();
        _meters.Dispose();
    }

    [Fact]
    public async Task LocationSeries_IsOneInfluxQuery_OverEveryHostOfTheLocation()
    {
        _directory.Hosts["dc1"] = ["h1", "h2", "h3"];
        _influx.Answer = """{"results":[{"statement_id":0,"series":[{"name":"cpu_rate","tags":{"host_id":"h2"},"columns":["time","value"],"values":[[1000,5.5],[61000,6.5]]}]}]}""";

        var result = await _service.LocationSeriesAsync("location_series", "dc1",
            new RangeQuery("CPU_Rate", null, null, TimeSpan.FromMinutes(1), "mean", []), allowRaw: false, TestContext.Current.CancellationToken);

        var seriesQueries = _influx.Queries.Where(q => q.StartsWith("SELECT", StringComparison.Ordinal)).ToList();
        var query = Assert.Single(seriesQueries);
        Assert.Contains("(\"host_id\" = 'h1' OR \"host_id\" = 'h2' OR \"host_id\" = 'h3')", query, StringComparison.Ordinal);
        Assert.Contains("GROUP BY time(1m), \"host_id\"", query, StringComparison.Ordinal);
        var series = Assert.Single(result.Series);
        Assert.Equal("h2", series.HostId);
        Assert.Equal([new DataPoint(1000, 5.5), new DataPoint(61000, 6.5)], series.Points);
        Assert.Equal(3, result.HostCount);
        Assert.Equal(Resolution.Raw, result.Resolution);
    }

    [Fact]
    public async Task UnknownLocation_IsNotFound()
    {
        var ex = await Assert.ThrowsAsync<AnalyzeNotFoundException>(() => _service.LocationSeriesAsync("location_series", "nowhere",
            new RangeQuery("cpu_rate", null, null, TimeSpan.FromMinutes(1), null, []), allowRaw: false, TestContext.Current.CancellationToken));
        Assert.Equal("location", ex.Field);
    }

    [Fact]
    public async Task UnknownMetric_IsInvalid_EvenWhenWellFormed()
    {
        var ex = await Assert.ThrowsAsync<AnalyzeValidationException>(() => _service.HostSeriesAsync("host_series", "h1",
            new RangeQuery("no_such_metric", null, null, TimeSpan.FromMinutes(1), null, []), splitByLabels: true, TestContext.Current.CancellationToken));
        Assert.Equal("metric", ex.Field);
        Assert.Contains("unknown metric", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InfluxDown_IsUnavailable()
    {
        _influx.Fail = new AnalyzeUnavailableException("InfluxDB is unavailable: connection refused");
        await Assert.ThrowsAsync<AnalyzeUnavailableException>(() => _service.HostSeriesAsync("host_series", "h1",
            new RangeQuery("cpu_rate", null, null, TimeSpan.FromMinutes(1), null, []), splitByLabels: true, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task RawQuery_IsCutAtTheLimit_AndFlaggedTruncated()
    {
        var options = Microsoft.Extensions.Options.Options.Create(new AnalyzeOptions { MaxRawPoints = 2 });
        using var catalog = new MetricCatalog(_influx, options, _time);
        var service = new AnalyzeQueryService(_influx, _directory, catalog, new RollupCoverage(), options,
            Microsoft.Extensions.Options.Options.Create(new RetentionOptions()), Microsoft.Extensions.Options.Options.Create(new InfluxOptions()),
            new AnalyzeMetrics(_meters, _time), _time);
        _influx.Answer = """{"results":[{"statement_id":0,"series":[{"name":"cpu_rate","tags":{"host_id":"h1","cpu":""},"columns":["time","value"],"values":[[1,1],[2,2],[3,3]]}]}]}""";

        var result = await service.HostSeriesAsync("host_series", "h1", new RangeQuery("cpu_rate", null, null, null, null, []), splitByLabels: true, TestContext.Current.CancellationToken);

        Assert.True(result.Truncated);
        Assert.Equal(2, Assert.Single(result.Series).Points.Count);
        Assert.Empty(result.Series[0].Labels);
        Assert.Contains(_influx.Queries, q => q.EndsWith("LIMIT 3", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Top_SortsHostsAndCutsToN()
    {
        _influx.Answer = """
            {"results":[{"statement_id":0,"series":[
              {"name":"cpu_rate","tags":{"host_id":"a"},"columns":["time","value"],"values":[[0,10]]},
              {"name":"cpu_rate","tags":{"host_id":"b"},"columns":["time","value"],"values":[[0,30]]},
              {"name":"cpu_rate","tags":{"host_id":"c"},"columns":["time","value"],"values":[[0,20]]}]}]}
            """;
        var top = await _service.TopAsync("cpu_rate", null, null, null, "max", 2, ascending: false, [], TestContext.Current.CancellationToken);
        Assert.Equal(["b", "c"], top.Hosts.Select(h => h.HostId));
        var bottom = await _service.TopAsync("cpu_rate", null, null, null, "max", 1, ascending: true, [], TestContext.Current.CancellationToken);
        Assert.Equal(["a"], bottom.Hosts.Select(h => h.HostId));
    }

    [Fact]
    public async Task Operations_RecordLatencyPerOperationAndOutcome()
    {
        using var listener = new MeterListener();
        var recorded = new List<(string Operation, string Outcome)>();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Name == "monitor.analyze.query.duration")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<double>((_, _, tags, _) =>
        {
            var dict = new Dictionary<string, object?>();
            foreach (var tag in tags)
            {
                dict[tag.Key] = tag.Value;
            }
            recorded.Add(((string)dict["operation"]!, (string)dict["outcome"]!));
        });
        listener.Start();

        await Assert.ThrowsAsync<AnalyzeValidationException>(() => _service.MetricsOfHostAsync("", TestContext.Current.CancellationToken));
        await _service.MetricsOfHostAsync("h1", TestContext.Current.CancellationToken);

        Assert.Equal([("list_metrics", "invalid"), ("list_metrics", "ok")], recorded);
    }

    private sealed class FakeInflux : IInfluxExecutor
    {
        public List<string> Queries { get; } = [];

        public string Answer { get; set; } = """{"results":[{"statement_id":0}]}""";

        public Exception? Fail { get; set; }

        public Task<InfluxQueryResult> QueryAsync(string operation, string influxQl, CancellationToken cancellationToken)
        {
            Queries.Add(influxQl);
            if (Fail is not null)
            {
                throw Fail;
            }
            var json = influxQl.StartsWith("SHOW MEASUREMENTS LIMIT", StringComparison.Ordinal)
                ? """{"results":[{"statement_id":0,"series":[{"name":"measurements","columns":["name"],"values":[["cpu_rate"],["mem_rate"]]}]}]}"""
                : Answer;
            return Task.FromResult(Parse(json));
        }

        private static InfluxQueryResult Parse(string json)
        {
            using var doc = JsonDocument.Parse(json);
            var statements = new List<InfluxStatementResult>();
            foreach (var result in doc.RootElement.GetProperty("results").EnumerateArray())
            {
                var series = new List<InfluxSeries>();
                if (result.TryGetProperty("series", out var list))
                {
                    foreach (var s in list.EnumerateArray())
                    {
                        var tags = s.TryGetProperty("tags", out var t)
                            ? t.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!)
                            : new Dictionary<string, string>();
                        var columns = s.GetProperty("columns").EnumerateArray().Select(c => c.GetString()!).ToList();
                        var values = s.GetProperty("values").EnumerateArray()
                            .Select(row => (IReadOnlyList<JsonElement?>)[.. row.EnumerateArray().Select(c => c.ValueKind == JsonValueKind.Null ? (JsonElement?)null : c.Clone())])
                            .ToList();
                        series.Add(new InfluxSeries(s.GetProperty("name").GetString()!, tags, columns, values));
                    }
                }
                statements.Add(new InfluxStatementResult(result.GetProperty("statement_id").GetInt32(), series));
            }
            return new InfluxQueryResult(statements);
        }
    }

    private sealed class FakeDirectory : IHostDirectory
    {
        public Dictionary<string, IReadOnlyList<string>> Hosts { get; } = [];

        public Task<IReadOnlyList<string>> HostsOfAsync(string location, CancellationToken cancellationToken) =>
            Hosts.TryGetValue(location, out var hosts)
                ? Task.FromResult(hosts)
                : throw new AnalyzeNotFoundException("location", $"unknown location '{location}'");
    }

    private sealed class TestMeterFactory : IMeterFactory
    {
        private readonly List<Meter> _meters = [];

        public Meter Create(MeterOptions options)
        {
            var meter = new Meter(options);
            _meters.Add(meter);
            return meter;
        }

        public void Dispose()
        {
            foreach (var meter in _meters)
            {
                meter.Dispose();
            }
        }
    }
}
