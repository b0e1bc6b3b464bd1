using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;
using Monitor.Agent.Collectors;
using Monitor.Agent.Options;
using Monitor.Protos.V1;
using Xunit;

namespace Monitor.Agent.UnitTests;

/// <summary>
/// The agent reports its own runtime figures (GC, thread pool, CPU, working set, exceptions) as samples of its host,
/// labelled <c>component="agent"</c>, under the names the services' self-metrics use. The figures are the real ones of
/// this test process; the interval is driven by a fake clock.
/// </summary>
public sealed partial class RuntimeCollectorTests
{
    [GeneratedRegex("^[a-z][a-z0-9_]*$")]
    private static partial Regex MetricName();

    private static List<Sample> Collect(RuntimeCollector collector)
    {
        var writer = new SampleWriter(new Dictionary<string, string> { ["location"] = "dc1" }, 1_700_000_000_000);
        collector.Collect(writer);
        return writer.Samples;
    }

    private static Sample One(List<Sample> samples, string metric, string? generation = null) =>
        Assert.Single(samples, s => s.Metric == metric && (generation is null || s.Labels["generation"] == generation));

    [Fact]
    public void Collect_AfterAllocationCollectionAndException_ReportsEveryFigureWithSaneValues()
    {
        // Arrange
        var time = new FakeTimeProvider();
        var collector = new RuntimeCollector(RuntimeCollector.AgentComponent, time);
        var junk = new byte[100][];
        for (int i = 0; i < junk.Length; i++)
        {
            junk[i] = new byte[100_000];
        }
        GC.KeepAlive(junk);
        GC.Collect(0, GCCollectionMode.Forced, blocking: true);
        try
        {
            throw new InvalidOperationException("counted");
        }
        catch (InvalidOperationException)
        {
        }
        time.Advance(TimeSpan.FromSeconds(10));

        // Act
        var samples = Collect(collector);

        // Assert
        Assert.Equal("runtime", collector.Name);
        Assert.All(samples, s =>
        {
            Assert.Matches(MetricName(), s.Metric);
            Assert.Equal("agent", s.Labels["component"]);
            Assert.Equal("dc1", s.Labels["location"]);
            Assert.True(double.IsFinite(s.Value) && s.Value >= 0, $"{s.Metric} = {s.Value}");
            Assert.Equal(1_700_000_000_000, s.TimestampUnixMs);
        });
        Assert.True(One(samples, "monitor_gc_heap_bytes").Value > 0);
        Assert.True(One(samples, "monitor_gc_committed_bytes").Value >= One(samples, "monitor_gc_heap_bytes").Value / 2);
        Assert.True(One(samples, "monitor_process_working_set_bytes").Value > 1024 * 1024);
        Assert.Equal(10, One(samples, "monitor_process_uptime_seconds").Value);
        // 10 MB allocated; the runtime's cheap (imprecise) count may lag by the allocation contexts not yet retired.
        Assert.True(One(samples, "monitor_gc_allocated_bytes").Value >= 5_000_000);
        Assert.True(One(samples, "monitor_gc_collections", "gen0").Value >= 1);
        Assert.True(One(samples, "monitor_exceptions").Value >= 1);
        Assert.True(One(samples, "monitor_threadpool_threads").Value >= 0);
        Assert.True(One(samples, "monitor_process_cpu_percent").Value <= 100);
        foreach (var metric in new[] { "monitor_process_cpu_seconds", "monitor_gc_fragmentation_bytes", "monitor_gc_pause_seconds",
            "monitor_threadpool_queue_length", "monitor_threadpool_completed_items", "monitor_lock_contentions" })
        {
            One(samples, metric);
        }
        Assert.Equal(["gen0", "gen1", "gen2"], samples.Where(s => s.Metric == "monitor_gc_collections").Select(s => s.Labels["generation"]).Order());
    }

    [Fact]
    public void Collect_TwoSnapshots_CountersAreIncreasesAndCpuPercentMatchesCpuSecondsOverTheInterval()
    {
        // Arrange
        var time = new FakeTimeProvider();
        var figures = new Monitor.Diagnostics.SelfMetrics.RuntimeFigures(time);
        time.Advance(TimeSpan.FromSeconds(2));
        var first = figures.Read();
        // Spend some CPU that the process's own clock sees (polls the condition, no timing guess).
        var cpuStart = Environment.CpuUsage.TotalTime;
        var spins = 0L;
        while (Environment.CpuUsage.TotalTime <= cpuStart)
        {
            spins++;
        }
        GC.KeepAlive(spins);
        GC.Collect(0, GCCollectionMode.Forced, blocking: true);
        time.Advance(TimeSpan.FromSeconds(4));

        // Act
        var second = figures.Read();

        // Assert
        foreach (var f in second.Where(f => f.IsCounter))
        {
            var previous = first.Single(p => p.Metric == f.Metric && p.LabelValue == f.LabelValue);
            Assert.True(f.Total >= previous.Total, f.Metric);
            // Both are rounded to 6 decimals: compare with a tolerance, not by decimal places (rounding boundaries).
            Assert.Equal(f.Total - previous.Total, f.Value, 1e-5);
        }
        var gen0 = second.Single(f => f.Metric == "monitor_gc_collections" && f.LabelValue == "gen0");
        Assert.True(gen0.Value >= 1);
        var cpuSeconds = second.Single(f => f.Metric == "monitor_process_cpu_seconds").Value;
        Assert.True(cpuSeconds > 0);
        var expectedPercent = cpuSeconds / 4 / Environment.ProcessorCount * 100;
        Assert.Equal(expectedPercent, second.Single(f => f.Metric == "monitor_process_cpu_percent").Value, 0.002);
        Assert.Equal(6, second.Single(f => f.Metric == "monitor_process_uptime_seconds").Value);
    }

    [Fact]
    public void AddAgent_Defaults_RuntimeCollectorRegisteredAndDisabledByName()
    {
        // Arrange
        static List<Sample> SnapshotWith(params string[] disabled)
        {
            var builder = Microsoft.Extensions.Hosting.Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
            var args = new List<string> { "--Agent:ReportAddresses:0=http://127.0.0.1:1", "--Agent:SpoolDirectory=/nonexistent-not-opened" };
            for (int i = 0; i < disabled.Length; i++)
            {
                args.Add($"--Agent:DisabledCollectors:{i}={disabled[i]}");
            }
            builder.AddAgent([.. args]);
            using var host = builder.Build();
            var samples = new List<Sample>();
            host.Services.GetRequiredService<HostCollector>().CollectAsync(1, samples, TestContext.Current.CancellationToken).GetAwaiter().GetResult();
            return samples;
        }
        string[] procReaders = ["cpu", "memory", "system", "disk_usage", "disk_io", "network", "tcp"];

        // Act
        var enabled = SnapshotWith(procReaders);
        var disabled = SnapshotWith([.. procReaders, "runtime"]);

        // Assert
        Assert.Contains(enabled, s => s.Metric == "monitor_gc_heap_bytes" && s.Labels["component"] == "agent");
        Assert.Contains(enabled, s => s.Metric == "agent_spool_batches" && !s.Labels.ContainsKey("component"));
        Assert.DoesNotContain(disabled, s => s.Metric.StartsWith("monitor_", StringComparison.Ordinal));
        Assert.Contains(disabled, s => s.Metric == "agent_spool_batches");
    }

    [Fact]
    public void Validate_RuntimeCollectorNameAcceptedAndItsLabelsReserved()
    {
        // Arrange
        var options = new AgentOptions
        {
            ReportAddresses = ["http://127.0.0.1:8443"],
            DisabledCollectors = ["runtime"],
            Labels = new() { ["component"] = "x", ["generation"] = "y" },
        };

        // Act
        var result = new AgentOptionsCustomValidator().Validate(null, options);

        // Assert
        Assert.DoesNotContain(result.Failures ?? [], f => f.Contains("DisabledCollectors", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.StartsWith("Agent:Labels:component collides", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.StartsWith("Agent:Labels:generation collides", StringComparison.Ordinal));
    }
}
