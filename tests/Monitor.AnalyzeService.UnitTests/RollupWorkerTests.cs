using System.Diagnostics.Metrics;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Monitor.AnalyzeService.Extensions;
using Monitor.AnalyzeService.Options;
using Monitor.AnalyzeService.Query;
using Monitor.AnalyzeService.Rollups;
using Monitor.Influx;
using Xunit;

namespace Monitor.AnalyzeService.UnitTests;

public sealed class RollupWorkerTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 23, 12, 0, 30, TimeSpan.Zero);

    [Fact]
    public async Task RunOnce_WritesMinuteRowsWithAllFields_AndAdvancesCoverage()
    {
        var influx = new ScriptedInflux();
        var sink = new CapturingHandler();
        using var http = new HttpClient(sink);
        var writer = new InfluxWriter(http, Microsoft.Extensions.Options.Options.Create(new InfluxOptions { Gzip = false, RetentionPolicy = "rollup_1m" }), NullLogger<InfluxWriter>.Instance);
        var coverage = new RollupCoverage();
        var retention = new RetentionOptions { RollupLag = TimeSpan.Zero, RollupBackfill = TimeSpan.FromMinutes(2) };
        using var meters = new NoopMeterFactory();
        var time = new FakeTimeProvider(Now);
        using var worker = new RollupWorker(influx, new RollupWriters(writer, writer), coverage,
            Microsoft.Extensions.Options.Options.Create(retention), Microsoft.Extensions.Options.Options.Create(new InfluxOptions()),
            new AnalyzeMetrics(meters, time), time, NullLogger<RollupWorker>.Instance);

        var rows = await worker.RunOnceAsync(TestContext.Current.CancellationToken);

        Assert.Equal(1, rows);
        var minuteQuery = Assert.Single(influx.Queries, q => q.Contains("GROUP BY time(1m), *", StringComparison.Ordinal));
        var start = Now.AddSeconds(-30).AddMinutes(-2).ToUnixTimeMilliseconds();
        var end = Now.AddSeconds(-30).ToUnixTimeMilliseconds();
        Assert.Contains($"time >= {start}ms AND time < {end}ms", minuteQuery, StringComparison.Ordinal);
        var body = Assert.Single(sink.Bodies);
        Assert.Equal(
            "cpu_rate,cpu=0,host_id=h1 mean=2.5 60000\n" +
            "cpu_rate,cpu=0,host_id=h1 min=1 60000\n" +
            "cpu_rate,cpu=0,host_id=h1 max=4 60000\n" +
            "cpu_rate,cpu=0,host_id=h1 sum=10 60000\n" +
            "cpu_rate,cpu=0,host_id=h1 count=4 60000\n",
            body);
        Assert.Contains("rp=rollup_1m", sink.Uris.Single(), StringComparison.Ordinal);
        Assert.Equal((start, end), coverage.Get(Resolution.Rollup1m));
        // No whole hour finished yet since the first minute: no hourly rollup.
        Assert.Null(coverage.Get(Resolution.Rollup1h));

        // The next pass continues where this one stopped.
        influx.Queries.Clear();
        time.Advance(TimeSpan.FromMinutes(1));
        await worker.RunOnceAsync(TestContext.Current.CancellationToken);
        Assert.Contains($"time >= {end}ms AND time < {end + 60_000}ms", Assert.Single(influx.Queries, q => q.Contains("GROUP BY time(1m), *", StringComparison.Ordinal)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task EnsureRetentionPolicies_CreatesRollupPoliciesAndSetsRawRetention()
    {
        var influx = new ScriptedInflux();
        using var http = new HttpClient(new CapturingHandler());
        var writer = new InfluxWriter(http, Microsoft.Extensions.Options.Options.Create(new InfluxOptions()), NullLogger<InfluxWriter>.Instance);
        using var meters = new NoopMeterFactory();
        var time = new FakeTimeProvider(Now);
        using var worker = new RollupWorker(influx, new RollupWriters(writer, writer), new RollupCoverage(),
            Microsoft.Extensions.Options.Options.Create(new RetentionOptions()), Microsoft.Extensions.Options.Options.Create(new InfluxOptions { Database = "monitor" }),
            new AnalyzeMetrics(meters, time), time, NullLogger<RollupWorker>.Instance);

        await worker.EnsureRetentionPoliciesAsync(TestContext.Current.CancellationToken);

        var statement = influx.Queries.Last();
        Assert.Equal(
            "ALTER RETENTION POLICY \"autogen\" ON \"monitor\" DURATION 168h SHARD DURATION 1d; " +
            "CREATE RETENTION POLICY \"rollup_1m\" ON \"monitor\" DURATION 2160h REPLICATION 1 SHARD DURATION 1d; " +
            "CREATE RETENTION POLICY \"rollup_1h\" ON \"monitor\" DURATION 17520h REPLICATION 1 SHARD DURATION 7d",
            statement);
    }

    private sealed class ScriptedInflux : IInfluxExecutor
    {
        public List<string> Queries { get; } = [];

        public Task<InfluxQueryResult> QueryAsync(string operation, string influxQl, CancellationToken cancellationToken)
        {
            Queries.Add(influxQl);
            string json;
            if (influxQl.StartsWith("SHOW MEASUREMENTS", StringComparison.Ordinal))
            {
                json = """{"results":[{"statement_id":0,"series":[{"name":"measurements","columns":["name"],"values":[["cpu_rate"]]}]}]}""";
            }
            else if (influxQl.StartsWith("SHOW RETENTION", StringComparison.Ordinal))
            {
                json = """{"results":[{"statement_id":0,"series":[{"columns":["name","duration","shardGroupDuration","replicaN","default"],"values":[["autogen","0s","168h0m0s",1,true]]}]}]}""";
            }
            else if (influxQl.Contains("GROUP BY time(1m), *", StringComparison.Ordinal) && Queries.Count(q => q.Contains("GROUP BY time(1m), *", StringComparison.Ordinal)) == 1)
            {
                json = """{"results":[{"statement_id":0,"series":[{"name":"cpu_rate","tags":{"cpu":"0","host_id":"h1"},"columns":["time","mean","min","max","sum","count"],"values":[[60000,2.5,1,4,10,4]]}]}]}""";
            }
            else
            {
                json = """{"results":[{"statement_id":0}]}""";
            }
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
                        var tags = s.TryGetProperty("tags", out var t) ? t.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!) : [];
                        var columns = s.GetProperty("columns").EnumerateArray().Select(c => c.GetString()!).ToList();
                        var values = s.GetProperty("values").EnumerateArray()
                            .Select(row => (IReadOnlyList<JsonElement?>)[.. row.EnumerateArray().Select(c => (JsonElement?)c.Clone())]).ToList();
                        series.Add(new InfluxSeries(s.TryGetProperty("name", out var n) ? n.GetString()! : "", tags, columns, values));
                    }
                }
                statements.Add(new InfluxStatementResult(0, series));
            }
            return new InfluxQueryResult(statements);
        }
    }

    private sealed class CapturingHandler : HttpMessageHandler
    {
        public List<string> Bodies { get; } = [];

        public List<string> Uris { get; } = [];

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Uris.Add(request.RequestUri!.ToString());
            Bodies.Add(await request.Content!.ReadAsStringAsync(cancellationToken));
            return new HttpResponseMessage(HttpStatusCode.NoContent);
        }
    }

    private sealed class NoopMeterFactory : IMeterFactory
    {
        private readonly List<Meter> _meters = [];

        public Meter Create(MeterOptions options)
        {
            var meter = new Meter(options);
            _meters.Add(meter);
            return meter;
        }

        public void Dispose() => _meters.ForEach(m => m.Dispose());
    }
}
