using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Monitor.Protos.V1;
using MySqlConnector;

namespace Monitor.LoadGen;

/// <summary>
/// <c>--warning</c> in rate mode: a warning-service process in its own consumer group on the run's samples topic
/// (the same traffic the persistence services write to InfluxDB), 10 rules for every host, and an in-process webhook
/// receiver. The fleet's <c>cpu_rate</c> breaches on 1 % of the hosts each second (<see cref="Shape"/>), so 10 alerts
/// fire per second at 1,000 hosts × 1 Hz; detection latency is sample timestamp → firing notification received.
/// </summary>
internal sealed class WarningProbe : IAsyncDisposable
{
    /// <summary>The metric whose breaches are timed; the other nine rules are evaluated but never breach.</summary>
    public const string TimedMetric = "cpu_rate";

    private static readonly (string Metric, double Threshold)[] Rules =
    [
        (TimedMetric, 90), ("mem_rate", 1_000), ("swap_rate", 1_000), ("cpu_core_rate", 1_000), ("load_1m", 1_000),
        ("load_5m", 1_000), ("load_15m", 1_000), ("disk_used_rate", 1_000), ("uptime_seconds", 1e9), ("mem_available_bytes", 1e12),
    ];

    private static readonly string[] HookChannels = ["bench-hook"];

    private readonly WebApplication _receiver;
    private readonly List<(long ReceivedAtMs, string Body)> _received;
    private readonly string _connectionString;
    private readonly string _database;

    private WarningProbe(WebApplication receiver, List<(long, string)> received, ChildService service, string connectionString, string database)
    {
        _receiver = receiver;
        _received = received;
        Service = service;
        _connectionString = connectionString;
        _database = database;
    }

    public ChildService Service { get; }

    public static int RuleCount => Rules.Length;

    /// <summary>Makes 1 % of the hosts breach <see cref="TimedMetric"/> in each second (a different 1 % every second), the rest stay at 10 %.</summary>
    public static void Shape(int hostIndex, ulong sequence, SampleBatch batch)
    {
        var breach = ((long)sequence + hostIndex) % 100 == 0;
        foreach (var sample in batch.Samples)
        {
            if (sample.Metric == TimedMetric)
            {
                sample.Value = breach ? 95 : 10;
            }
        }
    }

    public static async Task<WarningProbe> StartAsync(StackEndpoints stack, string runId, IReadOnlyDictionary<string, string> commonEnv, CancellationToken ct)
    {
        var mariaDb = Environment.GetEnvironmentVariable("MONITOR_TEST_MARIADB") is { Length: > 0 } m ? m
            : throw new InvalidOperationException("MONITOR_TEST_MARIADB is not set: source .state/stack/endpoints.env (benchmarks/run-ingest.sh does)");
        var database = $"monitor_bench_{runId}_warning";
        var connectionString = new MySqlConnectionStringBuilder(mariaDb) { Database = database }.ConnectionString;

        var port = StackEndpoints.FreePort();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port));
        var receiver = builder.Build();
        var received = new List<(long, string)>();
        receiver.MapPost("/hook", async (HttpRequest request) =>
        {
            using var reader = new StreamReader(request.Body);
            var body = await reader.ReadToEndAsync();
            var at = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds();
            lock (received)
            {
                received.Add((at, body));
            }
            return Results.Ok();
        });
        await receiver.StartAsync(ct);

        var env = new Dictionary<string, string>(commonEnv)
        {
            ["Service__InstanceId"] = $"bench-warning-{runId}",
            ["ConnectionStrings__Warning"] = connectionString,
            ["Auth__Enabled"] = "false",
            ["Warning__GroupId"] = $"monitor-bench-{runId}-warning",
            ["Warning__LeaderKey"] = $"/monitor-bench-{runId}/leaders/warning",
            ["Warning__ChannelRateLimitPerMinute"] = "0",
            ["Kafka__Consumer__auto.offset.reset"] = "latest",
            ["Kafka__Consumer__session.timeout.ms"] = "6000",
            ["Kafka__Consumer__heartbeat.interval.ms"] = "1000",
            ["Influx__Url"] = stack.Influx,
            ["Influx__Database"] = $"monitor_bench_{runId}_e2e",
            ["Logging__LogLevel__Default"] = "Warning",
        };
        // The load workload's metric names that the shipped list does not know (appended to Warning:KnownMetrics).
        var extra = new[] { "cpu_core_rate", "load_1m", "load_5m", "load_15m", "disk_used_rate" };
        for (int i = 0; i < extra.Length; i++)
        {
            env[$"Warning__KnownMetrics__{1000 + i}"] = extra[i];
        }
        var service = ChildService.Start(stack, $"warning-{runId}", stack.ServiceAssembly("warning-service", "Monitor.WarningService"),
            $"http://127.0.0.1:{StackEndpoints.FreePort()}", $"http://127.0.0.1:{StackEndpoints.FreePort()}", env);
        var probe = new WarningProbe(receiver, received, service, connectionString, database);
        await service.WaitReadyAsync(TimeSpan.FromSeconds(90), ct);

        using var http = new HttpClient { BaseAddress = new Uri(service.HttpUrl), Timeout = TimeSpan.FromSeconds(30) };
        await PostAsync(http, "/api/v1/warning/channels", new { name = "bench-hook", type = "webhook", url = $"http://127.0.0.1:{port}/hook" }, ct);
        foreach (var (metric, threshold) in Rules)
        {
            await PostAsync(http, "/api/v1/warning/rules", new
            {
                name = "bench " + metric,
                metric,
                scope = new { kind = "all" },
                bands = new { warning = threshold },
                consecutiveBreaches = 1,
                notifyOnResolve = false,
                channels = metric == TimedMetric ? HookChannels : [],
            }, ct);
        }
        return probe;
    }

    private static async Task PostAsync(HttpClient http, string path, object body, CancellationToken ct)
    {
        using var response = await http.PostAsJsonAsync(path, body, ct);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"POST {path} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(ct)}");
        }
    }

    /// <summary>Total (rule, host) evaluations so far (the service's <c>monitor.warning.evaluations</c> counter).</summary>
    public async Task<double> EvaluationsAsync(CancellationToken ct) =>
        await PrometheusScrape.SumAsync([Service.HttpUrl], "monitor_warning_evaluations_total", ct)
        + await PrometheusScrape.SumAsync([Service.HttpUrl], "monitor_warning_evaluations", ct);

    /// <summary>Seconds the stream evaluator is behind the newest sample it evaluated (its <c>monitor.warning.evaluation.lag</c> gauge).</summary>
    public async Task<double> EvaluationLagAsync(CancellationToken ct) =>
        await PrometheusScrape.SumAsync([Service.HttpUrl], "monitor_warning_evaluation_lag_seconds", ct);

    /// <summary>The service's own mean of sample timestamp → firing transition persisted in MySQL (ms), and how many.</summary>
    public async Task<(double MeanMs, double Count)> PersistedDetectionAsync(CancellationToken ct)
    {
        var sum = await PrometheusScrape.SumAsync([Service.HttpUrl], "monitor_warning_detection_latency_milliseconds_sum", ct);
        var count = await PrometheusScrape.SumAsync([Service.HttpUrl], "monitor_warning_detection_latency_milliseconds_count", ct);
        return (count > 0 ? sum / count : double.NaN, count);
    }

    /// <summary>Latency (ms) of every firing notification whose sample was stamped in [<paramref name="fromMs"/>, <paramref name="toMs"/>).</summary>
    public double[] Latencies(long fromMs, long toMs)
    {
        List<(long ReceivedAtMs, string Body)> copy;
        lock (_received)
        {
            copy = [.. _received];
        }
        var result = new List<double>();
        foreach (var (at, body) in copy)
        {
            using var doc = JsonDocument.Parse(body);
            var alert = doc.RootElement.GetProperty("alert");
            if (alert.GetProperty("kind").GetString() != "firing")
            {
                continue;
            }
            var sampleMs = DateTimeOffset.Parse(alert.GetProperty("windowEnd").GetString()!, CultureInfo.InvariantCulture).ToUnixTimeMilliseconds();
            if (sampleMs >= fromMs && sampleMs < toMs)
            {
                result.Add(at - sampleMs);
            }
        }
        return [.. result];
    }

    public async ValueTask DisposeAsync()
    {
        await Service.DisposeAsync();
        await _receiver.StopAsync();
        await _receiver.DisposeAsync();
        try
        {
            await using var connection = new MySqlConnection(new MySqlConnectionStringBuilder(_connectionString) { Database = "" }.ConnectionString);
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = $"DROP DATABASE IF EXISTS `{_database}`";
            await command.ExecuteNonQueryAsync();
        }
        catch (MySqlException)
        {
            // A leftover benchmark database is harmless.
        }
    }
}
