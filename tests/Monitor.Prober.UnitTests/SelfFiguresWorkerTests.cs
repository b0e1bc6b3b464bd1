using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Monitor.Agent.Options;
using Monitor.Agent.Sending;
using Monitor.Prober.Scheduling;
using Xunit;

namespace Monitor.Prober.UnitTests;

/// <summary>
/// The prober reports its own spool and runtime figures every <c>Agent:Interval</c> as one batch of its host, all
/// labelled <c>component="prober"</c> (apart from an agent's series on the same host). Time is driven by a fake clock.
/// </summary>
[Collection(SelfFiguresCollection.Name)]
public sealed class SelfFiguresWorkerTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "monitor-prober-self-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly FakeTimeProvider _time = new();

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    private (SelfFiguresWorker Worker, Spool Spool) Create(params string[] disabled)
    {
        var options = Microsoft.Extensions.Options.Options.Create(new AgentOptions
        {
            HostId = "prober-self",
            SpoolDirectory = _dir,
            SpoolFsync = false,
            ReportAddresses = ["http://127.0.0.1:1"],
            Interval = TimeSpan.FromSeconds(30),
            DisabledCollectors = [.. disabled],
        });
        var status = new AgentStatus();
        var spool = new Spool(options, status, _time, NullLogger<Spool>.Instance);
        spool.Open();
        var emitter = new ResultEmitter(spool, options, _time);
        return (new SelfFiguresWorker(status, emitter, options, _time, NullLogger<SelfFiguresWorker>.Instance), spool);
    }

    [Fact]
    public async Task ExecuteAsync_EveryInterval_SpoolsOneBatchOfSpoolAndRuntimeFigures()
    {
        // Arrange
        var startedAt = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var (worker, spool) = Create();
        using var _ = spool;
        var ct = TestContext.Current.CancellationToken;
        await worker.StartAsync(ct);

        // Act: the timer is created on the worker's own thread, so keep moving the fake clock by one interval until two
        // batches are spooled (a tick before the timer existed only moves the first one later).
        for (int i = 0; i < 3000 && spool.Count < 2; i++)
        {
            if (i % 10 == 0)
            {
                _time.Advance(TimeSpan.FromSeconds(30));
            }
            await Task.Delay(10, ct);
        }
        await worker.StopAsync(ct);

        // Assert
        var sequences = spool.After(0, 10);
        Assert.True(sequences.Count >= 2, "two batches spooled");
        var batch = spool.Read(sequences[1])!;
        Assert.Equal("prober-self", batch.HostId);
        Assert.StartsWith("monitor-prober/", batch.AgentVersion, StringComparison.Ordinal);
        var at = batch.Samples[0].TimestampUnixMs;
        Assert.All(batch.Samples, s => Assert.Equal("prober", s.Labels["component"]));
        Assert.All(batch.Samples, s => Assert.Equal(at, s.TimestampUnixMs));
        // The first batch was spooled before this one was sampled: the spool figure counts it.
        Assert.True(batch.Samples.Single(s => s.Metric == "agent_spool_batches").Value >= 1);
        Assert.Contains(batch.Samples, s => s.Metric == "agent_dropped_samples_total");
        Assert.True(batch.Samples.Single(s => s.Metric == "monitor_gc_heap_bytes").Value > 0);
        Assert.Equal((at - startedAt) / 1000.0, batch.Samples.Single(s => s.Metric == "monitor_process_uptime_seconds").Value);
        Assert.Equal(3, batch.Samples.Count(s => s.Metric == "monitor_gc_collections"));
    }

    [Fact]
    public void Collect_RuntimeDisabled_OnlySpoolFigures()
    {
        // Arrange
        var (worker, spool) = Create("runtime");
        using var _ = spool;

        // Act
        var samples = worker.Collect();

        // Assert
        Assert.Contains(samples, s => s.Metric == "agent_spool_bytes");
        Assert.DoesNotContain(samples, s => s.Metric.StartsWith("monitor_", StringComparison.Ordinal));
    }
}

/// <summary>Runs alone: its polling loop must not slow down the scheduler tests, whose fake-clock steps race real threads.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SelfFiguresCollection
{
    public const string Name = "prober self figures";
}
