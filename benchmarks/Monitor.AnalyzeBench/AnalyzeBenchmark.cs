using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Monitor.AnalyzeService.Query;
using Monitor.Influx;
using Monitor.Protos.V1;

namespace Monitor.AnalyzeBench;

/// <summary>
/// Service versus direct: every operation is timed through the analyze service and, interleaved in the same run,
/// as the identical InfluxQL sent straight to InfluxDB's /query (body read completely, not parsed).
/// </summary>
internal static class AnalyzeBenchmark
{
    private const string Metric = "cpu_rate";

    public static async Task<int> RunAsync(BenchOptions o, CancellationToken ct)
    {
        using var influx = new HttpClient { BaseAddress = new Uri(o.Influx.TrimEnd('/') + "/"), Timeout = TimeSpan.FromMinutes(5) };
        var hosts = Enumerable.Range(0, o.Hosts).Select(i => $"bench-{i:D4}").ToList();
        if (!o.SkipLoad)
        {
            await LoadAsync(o, influx, hosts, ct);
        }
        var (firstMs, lastMs) = await DataRangeAsync(o, influx, ct);
        var endMs = lastMs + 1;
        Console.WriteLine($"data: {DateTimeOffset.FromUnixTimeMilliseconds(firstMs):O} .. {DateTimeOffset.FromUnixTimeMilliseconds(lastMs):O}");

        await using var manage = await FakeManage.StartAsync(hosts, o.LocationSize, ct);
        using var service = AnalyzeProcess.Start(o, manage.Address);
        try
        {
            await service.WaitReadyAsync(ct);
            using var http = new HttpClient { BaseAddress = new Uri(service.HttpUrl), Timeout = TimeSpan.FromMinutes(2) };
            using var channel = GrpcChannel.ForAddress(service.GrpcUrl);
            var grpc = new Protos.V1.AnalyzeService.AnalyzeServiceClient(channel);
            var builder = new InfluxQueryBuilder(o.Database, "rollup_1m", "rollup_1h");

            var host = hosts[Math.Min(42, hosts.Count - 1)];
            var location = hosts.Take(o.LocationSize).ToList();
            var hourStart = endMs - 3_600_000;
            var fiveMinStart = endMs - 300_000;
            string Rfc(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms).UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
            var hour = $"start={Rfc(hourStart)}&end={Rfc(endMs)}";
            var none = Array.Empty<LabelMatch>();

            var operations = new List<Operation>
            {
                new("host_series 1h/1m mean (HTTP)", o.Iterations,
                    () => GetAsync(http, $"/api/v1/analyze/hosts/{host}/metrics/{Metric}/series?{hour}&step=1m&function=mean", ct),
                    () => builder.Aggregated(Metric, new QueryPart(Resolution.Raw, hourStart, endMs), TimeSpan.FromMinutes(1), AggregateFunction.Mean, [host], none, splitByLabels: true)),
                new("host_series 1h/1m mean (gRPC)", o.Iterations,
                    async () => await grpc.GetHostSeriesAsync(new GetHostSeriesRequest
                    {
                        HostId = host, Metric = Metric, StepMs = 60_000, Function = "mean",
                        Range = new AnalyzeTimeRange { StartUnixMs = hourStart, EndUnixMs = endMs },
                    }, cancellationToken: ct),
                    () => builder.Aggregated(Metric, new QueryPart(Resolution.Raw, hourStart, endMs), TimeSpan.FromMinutes(1), AggregateFunction.Mean, [host], none, splitByLabels: true)),
                new("host_series 1h/1m p95 (HTTP)", o.Iterations,
                    () => GetAsync(http, $"/api/v1/analyze/hosts/{host}/metrics/{Metric}/series?{hour}&step=1m&function=p95", ct),
                    () => builder.Aggregated(Metric, new QueryPart(Resolution.Raw, hourStart, endMs), TimeSpan.FromMinutes(1), AggregateFunction.P95, [host], none, splitByLabels: true)),
                new("host raw 10 min (HTTP)", o.Iterations,
                    () => GetAsync(http, $"/api/v1/analyze/hosts/{host}/metrics/{Metric}/series?start={Rfc(endMs - 600_000)}&end={Rfc(endMs)}", ct),
                    () => builder.Raw(Metric, endMs - 600_000, endMs, [host], none, splitByLabels: true, 10_001)),
                new($"location_series {location.Count} hosts 1h/1m (HTTP)", o.Iterations,
                    () => GetAsync(http, $"/api/v1/analyze/locations/loc-0000/metrics/{Metric}/series?{hour}&step=1m&function=mean", ct),
                    () => builder.Aggregated(Metric, new QueryPart(Resolution.Raw, hourStart, endMs), TimeSpan.FromMinutes(1), AggregateFunction.Mean, location, none, splitByLabels: false)),
                new($"location_rollup {location.Count} hosts 1h/5m (HTTP)", o.Iterations,
                    () => GetAsync(http, $"/api/v1/analyze/locations/loc-0000/metrics/{Metric}/rollup?{hour}&step=5m&function=mean", ct),
                    () => builder.LocationRollup(Metric, new QueryPart(Resolution.Raw, hourStart, endMs), TimeSpan.FromMinutes(5), AggregateFunction.Mean, location, none)),
                new($"top 10 of {hosts.Count} hosts, 5 min mean (HTTP)", o.Iterations,
                    () => GetAsync(http, $"/api/v1/analyze/metrics/{Metric}/top?start={Rfc(fiveMinStart)}&end={Rfc(endMs)}&function=mean&limit=10", ct),
                    () => builder.PerHost(Metric, fiveMinStart, endMs, AggregateFunction.Mean, null, none)),
                new($"latest of {hosts.Count} hosts, 5 min window (HTTP)", o.Iterations,
                    () => GetAsync(http, $"/api/v1/analyze/metrics/{Metric}/latest?window=5m", ct),
                    () => builder.Latest(Metric, TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds() - 300_000, null, none)),
                new("legacy /data -1h 1m mean", o.Iterations,
                    () => GetAsync(http, $"/data?HostID={host}&StartFrom=-1h&MetricsType=CPU_Rate&Granularity=1m&AggregateFunc=mean", ct),
                    () =>
                    {
                        var now = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds();
                        return builder.Aggregated(Metric, new QueryPart(Resolution.Raw, now - 3_600_000, now), TimeSpan.FromMinutes(1), AggregateFunction.Mean, [host], none, splitByLabels: false);
                    }),
                new($"location_series whole fleet ({hosts.Count} hosts) 1h/1m (HTTP)", Math.Max(10, o.Iterations / 5),
                    () => GetAsync(http, $"/api/v1/analyze/locations/fleet/metrics/{Metric}/series?{hour}&step=1m&function=mean", ct),
                    () => builder.Aggregated(Metric, new QueryPart(Resolution.Raw, hourStart, endMs), TimeSpan.FromMinutes(1), AggregateFunction.Mean, hosts, none, splitByLabels: false)),
            };

            var results = new List<string>();
            var allOk = true;
            foreach (var op in operations)
            {
                var (service50, service99, direct50, direct99) = await MeasureAsync(op, influx, o.Database, ct);
                var target = (1.2 * direct99) + 5;
                var ok = service99 <= target;
                allOk &= ok;
                var line = string.Create(CultureInfo.InvariantCulture,
                    $"| {op.Name} | {op.Iterations} | {service50:F1} | {service99:F1} | {direct50:F1} | {direct99:F1} | {target:F1} | {(ok ? "yes" : "**no**")} |");
                Console.WriteLine(line);
                results.Add(line);
            }

            Console.WriteLine();
            Console.WriteLine($"hosts={hosts.Count} interval={o.IntervalSeconds}s hours={o.Hours} database={o.Database} iterations={o.Iterations} machine={Environment.ProcessorCount} cores");
            Console.WriteLine("| operation | n | service p50 ms | service p99 ms | direct p50 ms | direct p99 ms | target p99 ms (1.2 x direct + 5) | met |");
            Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
            foreach (var line in results)
            {
                Console.WriteLine(line);
            }
            await PrintServiceTimingsAsync(http, ct);
            return allOk ? 0 : 1;
        }
        finally
        {
            service.Stop();
        }
    }

    /// <summary>
    /// The service's own view from /metrics: mean time inside the service per operation (from request to answer
    /// object, excluding Kestrel and the network) and mean InfluxDB request time, over every call including warm-up.
    /// </summary>
    private static async Task PrintServiceTimingsAsync(HttpClient http, CancellationToken ct)
    {
        var text = await http.GetStringAsync("/metrics", ct);
        var sums = new SortedDictionary<string, (double Sum, double Count)>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n'))
        {
            var match = System.Text.RegularExpressions.Regex.Match(line, @"^monitor_analyze_(query|influx)_duration\w*_(sum|count)\{([^}]*)\} ([0-9.eE+-]+)");
            if (!match.Success)
            {
                continue;
            }
            var operation = System.Text.RegularExpressions.Regex.Match(match.Groups[3].Value, "operation=\"([^\"]*)\"").Groups[1].Value;
            var outcome = System.Text.RegularExpressions.Regex.Match(match.Groups[3].Value, "outcome=\"([^\"]*)\"").Groups[1].Value;
            if (outcome is not ("" or "ok"))
            {
                continue;
            }
            var key = $"{match.Groups[1].Value} {operation}";
            var value = double.Parse(match.Groups[4].Value, CultureInfo.InvariantCulture);
            var (sum, count) = sums.GetValueOrDefault(key);
            sums[key] = match.Groups[2].Value == "sum" ? (sum + value, count) : (sum, count + value);
        }
        Console.WriteLine();
        Console.WriteLine("| service-side timer | operation | calls | mean ms |");
        Console.WriteLine("| --- | --- | ---: | ---: |");
        foreach (var (key, (sum, count)) in sums)
        {
            var parts = key.Split(' ');
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {(parts[0] == "query" ? "whole operation" : "InfluxDB request")} | {parts[1]} | {count:F0} | {(count == 0 ? 0 : sum / count):F2} |"));
        }
    }

    private sealed record Operation(string Name, int Iterations, Func<Task> Service, Func<string> InfluxQl);

    private static async Task<(double, double, double, double)> MeasureAsync(Operation op, HttpClient influx, string database, CancellationToken ct)
    {
        // Enough calls for tiered JIT to promote the hot paths (30 calls + background compile), so p99 measures
        // steady state rather than tier-0 code.
        var warmup = Math.Clamp(op.Iterations / 2, 3, 40);
        for (var i = 0; i < warmup; i++)
        {
            await op.Service();
            await DirectAsync(influx, database, op.InfluxQl(), ct);
        }
        var service = new List<double>(op.Iterations);
        var direct = new List<double>(op.Iterations);
        for (var i = 0; i < op.Iterations; i++)
        {
            // Alternate the order so neither path always runs on a cache the other just warmed.
            if (i % 2 == 0)
            {
                service.Add(await TimeAsync(op.Service));
                direct.Add(await TimeAsync(() => DirectAsync(influx, database, op.InfluxQl(), ct)));
            }
            else
            {
                direct.Add(await TimeAsync(() => DirectAsync(influx, database, op.InfluxQl(), ct)));
                service.Add(await TimeAsync(op.Service));
            }
        }
        return (Percentile(service, 50), Percentile(service, 99), Percentile(direct, 50), Percentile(direct, 99));
    }

    private static async Task<double> TimeAsync(Func<Task> action)
    {
        var started = Stopwatch.GetTimestamp();
        await action();
        return Stopwatch.GetElapsedTime(started).TotalMilliseconds;
    }

    private static double Percentile(List<double> values, double p)
    {
        var sorted = values.Order().ToList();
        return sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Count) - 1, 0, sorted.Count - 1)];
    }

    private static async Task GetAsync(HttpClient http, string url, CancellationToken ct)
    {
        using var response = await http.GetAsync(url, ct);
        var body = await response.Content.ReadAsByteArrayAsync(ct);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"GET {url} -> {(int)response.StatusCode}: {Encoding.UTF8.GetString(body)}");
        }
    }

    /// <summary>The same request shape InfluxQueryClient sends: GET up to 4,096 characters, else a form POST.</summary>
    private static async Task DirectAsync(HttpClient influx, string database, string influxQl, CancellationToken ct)
    {
        var prefix = $"query?db={Uri.EscapeDataString(database)}&epoch=ms";
        using var request = influxQl.Length <= 4096 && !influxQl.Contains(';', StringComparison.Ordinal)
            ? new HttpRequestMessage(HttpMethod.Get, $"{prefix}&q={Uri.EscapeDataString(influxQl)}")
            : new HttpRequestMessage(HttpMethod.Post, prefix) { Content = new FormUrlEncodedContent([new("q", influxQl)]) };
        using var response = await influx.SendAsync(request, ct);
        var body = await response.Content.ReadAsByteArrayAsync(ct);
        if (!response.IsSuccessStatusCode || body.AsSpan().IndexOf("\"error\""u8) >= 0)
        {
            throw new InvalidOperationException($"direct query failed ({(int)response.StatusCode}): {Encoding.UTF8.GetString(body)}");
        }
    }

    private static async Task ExecuteAsync(HttpClient influx, string database, string influxQl, CancellationToken ct)
    {
        using var content = new FormUrlEncodedContent([new("q", influxQl), new("db", database)]);
        using var response = await influx.PostAsync("query", content, ct);
        response.EnsureSuccessStatusCode();
    }

    private static async Task LoadAsync(BenchOptions o, HttpClient influx, List<string> hosts, CancellationToken ct)
    {
        await ExecuteAsync(influx, o.Database, $"DROP DATABASE \"{o.Database}\"", ct);
        await ExecuteAsync(influx, o.Database, $"CREATE DATABASE \"{o.Database}\"", ct);
        var intervalMs = o.IntervalSeconds * 1000L;
        var now = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds();
        var end = now - (now % intervalMs);
        var points = (long)(o.Hours * 3_600_000 / intervalMs);
        var start = end - (points * intervalMs);
        Console.WriteLine($"loading {hosts.Count} hosts x {points} points = {hosts.Count * points:N0} points into {o.Database} ...");

        var writer = new InfluxWriter(influx, Microsoft.Extensions.Options.Options.Create(new InfluxOptions
        {
            Url = new Uri(o.Influx),
            Database = o.Database,
            Timeout = TimeSpan.FromMinutes(5),
        }), NullLogger<InfluxWriter>.Instance);
        var clock = Stopwatch.StartNew();
        var next = -1;
        long written = 0;
        async Task WriterAsync()
        {
            var batch = new LineProtocolBuilder(1 << 20);
            int h;
            while ((h = Interlocked.Increment(ref next)) < hosts.Count)
            {
                KeyValuePair<string, string>[] tags = [new("host_id", hosts[h])];
                for (var k = 0L; k < points; k++)
                {
                    // A smooth wave per host plus a little jitter: realistic CPU percentages.
                    var value = 50 + (30 * Math.Sin((k / 300.0) + h)) + ((k * 7919 + h) % 100 / 50.0);
                    batch.AppendPointSorted(Metric, tags, "value", Math.Round(value, 2), start + (k * intervalMs));
                    if (batch.PointCount >= 10_000)
                    {
                        await writer.WriteAsync(batch, ct);
                        Interlocked.Add(ref written, batch.PointCount);
                        batch.Reset();
                    }
                }
            }
            await writer.WriteAsync(batch, ct);
            Interlocked.Add(ref written, batch.PointCount);
        }
        await Task.WhenAll(WriterAsync(), WriterAsync());
        Console.WriteLine($"loaded {written:N0} points in {clock.Elapsed.TotalSeconds:F1} s ({written / clock.Elapsed.TotalSeconds:N0} points/s)");
    }

    private static async Task<(long First, long Last)> DataRangeAsync(BenchOptions o, HttpClient influx, CancellationToken ct)
    {
        var q = $"SELECT first(\"value\") FROM \"{Metric}\"; SELECT last(\"value\") FROM \"{Metric}\"";
        using var content = new FormUrlEncodedContent([new("q", q), new("db", o.Database), new("epoch", "ms")]);
        using var response = await influx.PostAsync("query", content, ct);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
        long Time(int statement) => doc.RootElement.GetProperty("results")[statement].GetProperty("series")[0].GetProperty("values")[0][0].GetInt64();
        return (Time(0), Time(1));
    }

    /// <summary>ManageService.ListHosts over the bench hosts: location loc-NNNN holds hosts in blocks of --location-size; "fleet" holds all.</summary>
    private sealed class FakeManage : ManageService.ManageServiceBase, IAsyncDisposable
    {
        private readonly List<string> _hosts;
        private readonly int _size;
        private WebApplication? _app;

        private FakeManage(List<string> hosts, int size)
        {
            _hosts = hosts;
            _size = size;
        }

        public string Address { get; private set; } = "";

        public static async Task<FakeManage> StartAsync(List<string> hosts, int size, CancellationToken ct)
        {
            var fake = new FakeManage(hosts, size);
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            var port = FreePort();
            builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port, l => l.Protocols = HttpProtocols.Http2));
            builder.Services.AddGrpc();
            builder.Services.AddSingleton(fake);
            fake._app = builder.Build();
            fake._app.MapGrpcService<FakeManage>();
            await fake._app.StartAsync(ct);
            fake.Address = $"http://127.0.0.1:{port}";
            return fake;
        }

        public override Task<ListHostsResponse> ListHosts(ListHostsRequest request, ServerCallContext context)
        {
            var response = new ListHostsResponse();
            var selected = _hosts.Select((h, i) => (Host: h, Location: $"loc-{i / _size:D4}"))
                .Where(x => request.Location == "fleet" || x.Location == request.Location)
                .Select(x => new Host { HostId = x.Host, Location = request.Location == "fleet" ? "fleet" : x.Location });
            response.Hosts.AddRange(selected);
            return Task.FromResult(response);
        }

        public async ValueTask DisposeAsync()
        {
            if (_app is not null)
            {
                await _app.StopAsync();
                await _app.DisposeAsync();
            }
        }
    }

    internal static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>The analyze service as a child process (<c>dotnet Monitor.AnalyzeService.dll</c>).</summary>
internal sealed class AnalyzeProcess : IDisposable
{
    private readonly Process _process;

    private AnalyzeProcess(Process process, string httpUrl, string grpcUrl)
    {
        _process = process;
        HttpUrl = httpUrl;
        GrpcUrl = grpcUrl;
    }

    public string HttpUrl { get; }

    public string GrpcUrl { get; }

    public static AnalyzeProcess Start(BenchOptions o, string manageAddress)
    {
        var root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "Monitor.sln")))
        {
            root = Path.GetDirectoryName(root.TrimEnd(Path.DirectorySeparatorChar)) ?? throw new InvalidOperationException("Monitor.sln not found");
        }
        var configuration = AppContext.BaseDirectory.Contains("/Release/", StringComparison.Ordinal) ? "Release" : "Debug";
        var dll = Path.Combine(root, "analyze-service", "bin", configuration, "net10.0", "Monitor.AnalyzeService.dll");
        var http = $"http://127.0.0.1:{AnalyzeBenchmark.FreePort()}";
        var grpc = $"http://127.0.0.1:{AnalyzeBenchmark.FreePort()}";
        var psi = new ProcessStartInfo("dotnet") { UseShellExecute = false, WorkingDirectory = Path.GetDirectoryName(dll)! };
        psi.ArgumentList.Add(dll);
        psi.Environment["DOTNET_ENVIRONMENT"] = "Production";
        psi.Environment["Service__HttpUrl"] = http;
        psi.Environment["Service__GrpcUrl"] = grpc;
        psi.Environment["Service__InstanceId"] = "analyze-bench";
        psi.Environment["Etcd__Endpoints__0"] = o.Etcd;
        psi.Environment["Influx__Url"] = o.Influx;
        psi.Environment["Influx__Database"] = o.Database;
        psi.Environment["Influx__Timeout"] = "00:02:00";
        psi.Environment["Manage__Address"] = manageAddress;
        // Both paths read raw samples, so the comparison is the service's overhead over the same InfluxQL.
        psi.Environment["Retention__RollupsEnabled"] = "false";
        psi.Environment["Retention__ManageRetentionPolicies"] = "false";
        psi.Environment["Logging__LogLevel__Default"] = "Warning";
        return new AnalyzeProcess(Process.Start(psi)!, http, grpc);
    }

    public async Task WaitReadyAsync(CancellationToken ct)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(120))
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"the analyze service exited with code {_process.ExitCode}");
            }
            try
            {
                using var response = await http.GetAsync(HttpUrl + "/health/ready", ct);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException || (ex is TaskCanceledException && !ct.IsCancellationRequested))
            {
                // Not listening yet, or too busy to answer within 2 s: ask again.
            }
            await Task.Delay(200, ct);
        }
        throw new TimeoutException("the analyze service did not become ready within 120 s");
    }

    public void Stop()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
    }

    public void Dispose()
    {
        Stop();
        _process.Dispose();
    }
}
