using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text.Json;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Monitor.Diagnostics.SelfMetrics;
using Monitor.Protos.V1;
using Monitor.TestUtilities;
using Xunit;

namespace Monitor.Diagnostics.FunctionalTests;

public sealed class SelfMetricsCollectorTests
{
    [Fact]
    public void Tick_TurnsCountersIntoIncreases_GaugesIntoValues_HistogramsIntoCountAndAverage()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 23, 10, 0, 0, TimeSpan.Zero));
        using var collector = new SelfMetricsCollector(time);
        using var meter = new Meter("Monitor.SelfObsTest." + Guid.NewGuid().ToString("N"));
        var failures = meter.CreateCounter<long>("monitor.test.write.failures");
        var duration = meter.CreateHistogram<double>("monitor.test.write.duration");
        var lag = new Dictionary<int, long> { [0] = 5, [1] = 7 };
        meter.CreateObservableGauge("monitor.test.consumer.lag", () => lag.Select(kv => new Measurement<long>(kv.Value, new KeyValuePair<string, object?>("partition", kv.Key))));

        failures.Add(2, new KeyValuePair<string, object?>("kind", "transient"));
        failures.Add(1, new KeyValuePair<string, object?>("kind", "transient"));
        duration.Record(10);
        duration.Record(30);
        time.Advance(TimeSpan.FromSeconds(15));
        var first = collector.Tick("persistent", "p1");

        Assert.Equal("monitor.persistent.p1", first.HostId);
        Assert.Equal(15, first.IntervalSeconds);
        var f = Assert.Single(first.Figures, x => x.Metric == "monitor_test_write_failures");
        Assert.Equal(("counter", 3.0, 3.0, "transient"), (f.Type, f.Value, f.Total, f.Labels["kind"]));
        Assert.Equal(2, Assert.Single(first.Figures, x => x.Metric == "monitor_test_write_duration_count").Value);
        Assert.Equal(20, Assert.Single(first.Figures, x => x.Metric == "monitor_test_write_duration_avg").Value);
        Assert.Equal(5, Assert.Single(first.Figures, x => x.Metric == "monitor_test_consumer_lag" && x.Labels["partition"] == "0").Value);
        Assert.Equal(12, Assert.Single(first.Figures, x => x.Metric == "monitor_test_consumer_lag_sum").Value);

        failures.Add(4, new KeyValuePair<string, object?>("kind", "transient"));
        lag[1] = 70;
        time.Advance(TimeSpan.FromSeconds(15));
        var second = collector.Tick("persistent", "p1");
        f = Assert.Single(second.Figures, x => x.Metric == "monitor_test_write_failures");
        Assert.Equal((4.0, 7.0), (f.Value, f.Total));
        Assert.Equal(0, Assert.Single(second.Figures, x => x.Metric == "monitor_test_write_duration_count").Value);
        Assert.DoesNotContain(second.Figures, x => x.Metric == "monitor_test_write_duration_avg");
        Assert.Equal(75, Assert.Single(second.Figures, x => x.Metric == "monitor_test_consumer_lag_sum").Value);
        Assert.Same(second, collector.Latest);
    }

    [Fact]
    public async Task Tick_WhileNewSeriesAppearOnOtherThreads_DoesNotThrow()
    {
        // A report service under load creates series (a new rejection reason, a new partition) while the feeder ticks.
        // Sorting the live dictionary once threw ArgumentException from its CopyTo, which stopped the whole service.
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 23, 10, 0, 0, TimeSpan.Zero));
        using var collector = new SelfMetricsCollector(time);
        using var meter = new Meter("Monitor.SelfObsTest." + Guid.NewGuid().ToString("N"));
        var counter = meter.CreateCounter<long>("monitor.test.appearing");
        const int seriesCount = SelfMetricsCollector.MaxSeries - 100;
        using var done = new CancellationTokenSource();
        var writers = Enumerable.Range(0, 2).Select(w => Task.Run(() =>
        {
            for (var i = w; i < seriesCount; i += 2)
            {
                counter.Add(1, new KeyValuePair<string, object?>("n", i));
                Thread.SpinWait(5_000); // spread the new series over many ticks
            }
        }, TestContext.Current.CancellationToken)).ToArray();
        var ticks = 0;
        while (!writers.All(t => t.IsCompleted))
        {
            collector.Tick("report", "r1");
            ticks++;
        }
        await Task.WhenAll(writers);

        var last = collector.Tick("report", "r1");
        Assert.True(ticks > 0);
        Assert.Equal(seriesCount, last.Figures.Count(f => f.Metric == "monitor_test_appearing"));
        Assert.Equal(seriesCount, last.Figures.Where(f => f.Metric == "monitor_test_appearing").Sum(f => f.Total));
    }

    [Fact]
    public void Tick_IncludesTheRuntimeFigures_CountersAsIncreasesWithTotals()
    {
        // Arrange
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 23, 10, 0, 0, TimeSpan.Zero));
        using var collector = new SelfMetricsCollector(time);
        time.Advance(TimeSpan.FromSeconds(15));
        var first = collector.Tick("report", "r1");
        try
        {
            throw new InvalidOperationException("counted");
        }
        catch (InvalidOperationException)
        {
        }
        time.Advance(TimeSpan.FromSeconds(15));

        // Act
        var second = collector.Tick("report", "r1");

        // Assert: the same names and meaning as the agent's and prober's runtime samples (RuntimeFigures).
        string[] gauges = ["monitor_process_cpu_percent", "monitor_process_working_set_bytes", "monitor_process_uptime_seconds", "monitor_gc_heap_bytes",
            "monitor_gc_committed_bytes", "monitor_gc_fragmentation_bytes", "monitor_threadpool_threads", "monitor_threadpool_queue_length"];
        string[] counters = ["monitor_process_cpu_seconds", "monitor_gc_allocated_bytes", "monitor_gc_pause_seconds", "monitor_threadpool_completed_items",
            "monitor_lock_contentions", "monitor_exceptions"];
        foreach (var metric in gauges)
        {
            Assert.Equal("gauge", Assert.Single(second.Figures, x => x.Metric == metric).Type);
        }
        foreach (var metric in counters)
        {
            var now = Assert.Single(second.Figures, x => x.Metric == metric);
            var before = Assert.Single(first.Figures, x => x.Metric == metric);
            Assert.Equal("counter", now.Type);
            Assert.Equal(now.Total - before.Total, now.Value, 1e-5);
        }
        Assert.Equal(["gen0", "gen1", "gen2"], second.Figures.Where(x => x.Metric == "monitor_gc_collections").Select(x => x.Labels["generation"]).Order());
        Assert.Equal(30, Assert.Single(second.Figures, x => x.Metric == "monitor_process_uptime_seconds").Value);
        Assert.True(Assert.Single(second.Figures, x => x.Metric == "monitor_exceptions").Value >= 1);
        Assert.True(Assert.Single(second.Figures, x => x.Metric == "monitor_process_working_set_bytes").Value > 0);
        // Counters carry no _sum figure (only labelled gauges do).
        Assert.DoesNotContain(second.Figures, x => x.Metric == "monitor_gc_collections_sum");
    }

    [Theory]
    [InlineData("monitor.persistence.write.failures", "monitor_persistence_write_failures")]
    [InlineData("Monitor.X-y", "monitor_x_y")]
    [InlineData("9lives", "m9lives")]
    public void MetricName_IsAValidSampleMetric(string instrument, string expected) =>
        Assert.Equal(expected, SelfMetricsCollector.MetricName(instrument));

    [Fact]
    public void ToBatch_UsesThePseudoHost_AndSanitisesLabelKeys()
    {
        var at = new DateTimeOffset(2026, 11, 23, 10, 0, 0, TimeSpan.Zero);
        var snapshot = new SelfFiguresSnapshot("report", "r1", "monitor.report.r1", at, 15, [
            new SelfFigure("monitor_report_inflight", "gauge", new Dictionary<string, string> { ["host_id"] = "h", ["channel.type"] = "webhook" }, 3, 3),
        ]);
        var batch = SelfMetricsFeeder.ToBatch(snapshot, 42);
        Assert.Equal("monitor.report.r1", batch.HostId);
        Assert.Equal(42UL, batch.Sequence);
        var sample = Assert.Single(batch.Samples);
        Assert.Equal(("monitor_report_inflight", 3.0, at.ToUnixTimeMilliseconds()), (sample.Metric, sample.Value, sample.TimestampUnixMs));
        Assert.Equal("h", sample.Labels["host"]);
        Assert.Equal("webhook", sample.Labels["channel_type"]);
    }
}

/// <summary>The feeder of a real host sends its figures to a (fake, in-test) report service over gRPC, and serves them as JSON.</summary>
public sealed class SelfMetricsFeederTests
{
    [Fact]
    public async Task Feeder_SendsThePseudoHostsFiguresToTheReportService_AndTheViewServesThem()
    {
        var ct = TestContext.Current.CancellationToken;
        var received = new ConcurrentQueue<(SampleBatch Batch, string? Authorization)>();
        var reportUrl = $"http://127.0.0.1:{Ports.Free()}";
        var reportBuilder = WebApplication.CreateBuilder();
        reportBuilder.Logging.SetMinimumLevel(LogLevel.Warning);
        reportBuilder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, new Uri(reportUrl).Port, o => o.Protocols = HttpProtocols.Http2));
        reportBuilder.Services.AddGrpc();
        reportBuilder.Services.AddSingleton(received);
        await using var report = reportBuilder.Build();
        report.MapGrpcService<RecordingReportService>();
        await report.StartAsync(ct);

        using var meter = new Meter("Monitor.SelfObsFeedTest");
        var failures = meter.CreateCounter<long>("monitor.feedtest.failures");
        await using var host = await SelfHost.StartAsync(token: null, extra: new Dictionary<string, string?>
        {
            ["SelfMetrics:Interval"] = "00:00:00.200",
            ["SelfMetrics:ReportAddresses:0"] = reportUrl,
            ["SelfMetrics:Token"] = "agent-token-for-test",
        });
        failures.Add(3);

        await Poll.UntilAsync(() => received.Any(r => r.Batch.Samples.Any(s => s.Metric == "monitor_feedtest_failures" && s.Value == 3)),
            TimeSpan.FromSeconds(30), "a batch carrying the counter's increase", ct);
        var (batch, authorization) = received.First(r => r.Batch.Samples.Any(s => s.Metric == "monitor_feedtest_failures"));
        Assert.Equal("monitor.selftest.selftest-1", batch.HostId);
        Assert.Equal("Bearer agent-token-for-test", authorization);
        Assert.All(batch.Samples, s => Assert.Matches("^[a-z][a-z0-9_]*$", s.Metric));
        var sequences = received.Select(r => r.Batch.Sequence).ToList();
        Assert.Equal(sequences.Order().ToList(), sequences);

        using var http = new HttpClient { BaseAddress = new Uri(host.HttpUrl) };
        var json = JsonDocument.Parse(await http.GetStringAsync("/api/v1/selftest/instance/stats/pipeline", ct)).RootElement;
        Assert.Equal("monitor.selftest.selftest-1", json.GetProperty("hostId").GetString());
        Assert.Contains(json.GetProperty("figures").EnumerateArray(), f => f.GetProperty("metric").GetString() == "monitor_feedtest_failures" && f.GetProperty("total").GetDouble() == 3);
    }

    private sealed class RecordingReportService(ConcurrentQueue<(SampleBatch, string?)> received) : ReportService.ReportServiceBase
    {
        public override async Task Report(IAsyncStreamReader<SampleBatch> requestStream, IServerStreamWriter<ReportAck> responseStream, ServerCallContext context)
        {
            await foreach (var batch in requestStream.ReadAllAsync(context.CancellationToken))
            {
                received.Enqueue((batch, context.RequestHeaders.GetValue("authorization")));
                await responseStream.WriteAsync(new ReportAck { Sequence = batch.Sequence, AcceptedCount = (uint)batch.Samples.Count });
            }
        }
    }
}
