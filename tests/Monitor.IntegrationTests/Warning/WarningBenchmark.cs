using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Monitor.TestUtilities;
using Xunit;

namespace Monitor.IntegrationTests.Warning;

/// <summary>
/// Load figure for docs/benchmarks.md (explicit only: <c>-method "*WarningBenchmark*" -explicit only</c>):
/// 1,000 hosts × 10 rules at 1 Hz into one warning-service process. Reports CPU per evaluated (rule, host)
/// sample and detection latency from the sample's timestamp to the webhook receiving the notification.
/// </summary>
public sealed class WarningBenchmark
{
    private static readonly string[] Metrics =
        ["cpu_rate", "mem_rate", "load1", "load5", "load15", "disk_used_percent", "swap_rate", "process_count", "cpu_iowait_percent", "net_rx_bytes_per_second"];

    [Fact(Explicit = true)]
    public async Task Benchmark_1000HostsTimes10RulesAt1Hz()
    {
        var ct = TestContext.Current.CancellationToken;
        var hosts = int.Parse(Environment.GetEnvironmentVariable("WARNING_BENCH_HOSTS") ?? "1000", CultureInfo.InvariantCulture);
        var seconds = int.Parse(Environment.GetEnvironmentVariable("WARNING_BENCH_SECONDS") ?? "60", CultureInfo.InvariantCulture);
        await using var h = await WarningHarness.StartAsync(settings: new()
        {
            ["Warning__ChannelRateLimitPerMinute"] = "0",
            ["Logging__LogLevel__Default"] = "Warning",
        });
        await h.WebhookChannelAsync("hook", "/hook");
        foreach (var metric in Metrics)
        {
            await h.PostAsync("/api/v1/warning/rules", new
            {
                name = "bench " + metric,
                metric,
                scope = new { kind = "all" },
                bands = new { warning = 90.0 },
                consecutiveBreaches = 1,
                notifyOnResolve = false,
                channels = metric == "cpu_rate" ? new[] { "hook" } : [],
            });
        }
        var pid = h.Instances[0].Process.Pid;
        var evaluationsBefore = await EvaluationsAsync(h);
        var cpuBefore = CpuSeconds(pid);
        var wall = Stopwatch.StartNew();

        // 1 Hz: every host sends one batch with one sample per metric; cpu_rate of 1 % of the hosts breaches each second.
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        for (int s = 0; s < seconds; s++)
        {
            var sends = new List<Task>(hosts);
            var now = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds();
            for (int i = 0; i < hosts; i++)
            {
                var cpu = (s + i) % 100 == 0 ? 95.0 : 10.0;
                sends.Add(h.ProduceAtAsync($"bench-{i:D4}", now, [.. Metrics.Select(m => (m, m == "cpu_rate" ? cpu : 10.0))]));
            }
            await Task.WhenAll(sends);
            await timer.WaitForNextTickAsync(ct);
        }
        var expected = evaluationsBefore + (long)hosts * Metrics.Length * seconds;
        await Poll.UntilAsync(async () => await EvaluationsAsync(h) >= expected, TimeSpan.FromMinutes(5), $"{expected} evaluations", ct);
        var cpuAfter = CpuSeconds(pid);
        var evaluations = await EvaluationsAsync(h) - evaluationsBefore;
        var elapsed = wall.Elapsed;

        var fired = h.Receiver.Requests
            .Select(r => (Request: r, Alert: JsonDocument.Parse(r.Body).RootElement.GetProperty("alert")))
            .Where(x => x.Alert.GetProperty("kind").GetString() == "firing")
            .Select(x => (SampleMs: DateTimeOffset.Parse(x.Alert.GetProperty("windowEnd").GetString()!, CultureInfo.InvariantCulture).ToUnixTimeMilliseconds(), x.Request.ReceivedAtMs))
            .ToList();
        var latencies = fired.Select(f => f.ReceivedAtMs - f.SampleMs).Order().ToList();
        var firstMs = fired.Count == 0 ? 0 : fired.Min(f => f.SampleMs);
        var warm = fired.Where(f => f.SampleMs >= firstMs + 5_000).Select(f => f.ReceivedAtMs - f.SampleMs).Order().ToList();
        var cpuSeconds = cpuAfter - cpuBefore;
        var report = $"""
            warning benchmark: {hosts} hosts x {Metrics.Length} rules at 1 Hz for {seconds} s (+ drain), load average {File.ReadAllText("/proc/loadavg").Trim()}
            evaluations: {evaluations:N0} in {elapsed.TotalSeconds:F1} s
            warning-service CPU: {cpuSeconds:F2} s = {cpuSeconds / elapsed.TotalSeconds * 100:F1} % of one core; {cpuSeconds * 1e6 / evaluations:F2} µs per evaluated (rule, host) sample, {cpuSeconds * 1e6 / (evaluations / (double)Metrics.Length):F2} µs per batch
            firing notifications: {latencies.Count}; detection latency sample timestamp -> webhook received: p50 {Percentile(latencies, 0.50)} ms, p99 {Percentile(latencies, 0.99)} ms, max {latencies.LastOrDefault()} ms; after a 5 s warm-up ({warm.Count}): p50 {Percentile(warm, 0.50)} ms, p99 {Percentile(warm, 0.99)} ms
            """;
        Directory.CreateDirectory(Path.Combine(Repo.Root, ".state", "bench-logs"));
        await File.WriteAllTextAsync(Path.Combine(Repo.Root, ".state", "bench-logs", "warning-benchmark.txt"), report, ct);
        TestContext.Current.SendDiagnosticMessage(report);
        Assert.True(latencies.Count > 0, "no firing notification was received\n" + h.Logs());
    }

    private static long Percentile(List<long> sorted, double p) =>
        sorted.Count == 0 ? 0 : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];

    private static double CpuSeconds(int pid)
    {
        // /proc/<pid>/stat: fields 14 and 15 (utime, stime) in clock ticks (100 Hz), after the ")" of the command name.
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
    }

    private static async Task<long> EvaluationsAsync(WarningHarness h)
    {
        var text = await h.Api.GetStringAsync("/metrics", TestContext.Current.CancellationToken);
        return text.Split('\n')
            .Where(l => l.StartsWith("monitor_warning_evaluations", StringComparison.Ordinal) && !l.StartsWith('#'))
            .Select(l => (long)double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture))
            .Sum();
    }
}
