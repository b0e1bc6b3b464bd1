using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Monitor.Agent.Options;
using Monitor.Agent.Sending;
using Monitor.Prober.Probes;
using Monitor.Prober.Scheduling;
using Monitor.Prober.Targets;
using Monitor.Protos.V1;
using Xunit;

namespace Monitor.Prober.UnitTests;

/// <summary>
/// The scheduler follows the target store: adds start at once, edits apply at the next run and
/// never interrupt a running probe, pauses and deletes stop the target; results land in the spool.
/// Time is driven by a fake clock.
/// </summary>
public sealed class ProbeSchedulerTests : IAsyncLifetime
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "monitor-prober-unit-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly FakeTimeProvider _time = new();
    private readonly TargetStore _store = new();
    private readonly ScriptedFactory _factory = new();
    private Spool _spool = null!;
    private ProbeScheduler _scheduler = null!;

    /// <summary>Probes whose runs a test releases one by one; every run is recorded with its definition.</summary>
    private sealed class ScriptedFactory : IProbeFactory
    {
        public List<(TargetDefinition Target, TaskCompletionSource<ProbeResult> Result, CancellationToken Token)> Runs { get; } = [];

        public IProbe Create(TargetDefinition target) => new ScriptedProbe(this, target);

        public int RunsOf(string name, string? port = null)
        {
            lock (Runs)
            {
                return Runs.Count(r => r.Target.Name == name && (port is null || r.Target.Config["port"] == port));
            }
        }

        public (TargetDefinition Target, TaskCompletionSource<ProbeResult> Result, CancellationToken Token) Last(string name)
        {
            lock (Runs)
            {
                return Runs.Last(r => r.Target.Name == name);
            }
        }

        private sealed class ScriptedProbe(ScriptedFactory owner, TargetDefinition target) : IProbe
        {
            public Task<ProbeResult> RunAsync(CancellationToken cancellationToken)
            {
                var tcs = new TaskCompletionSource<ProbeResult>(TaskCreationOptions.RunContinuationsAsynchronously);
                lock (owner.Runs)
                {
                    owner.Runs.Add((target, tcs, cancellationToken));
                }
                return tcs.Task;
            }
        }
    }

    public async ValueTask InitializeAsync()
    {
        var agent = Microsoft.Extensions.Options.Options.Create(new AgentOptions { HostId = "prober-unit", SpoolDirectory = _dir, SpoolFsync = false, ReportAddresses = ["http://127.0.0.1:1"] });
        _spool = new Spool(agent, new AgentStatus(), _time, NullLogger<Spool>.Instance);
        _spool.Open();
        _scheduler = new ProbeScheduler(_store, _factory, new ProbeRunner(_time), new ResultEmitter(_spool, agent, _time), _time, NullLogger<ProbeScheduler>.Instance);
        await _scheduler.StartAsync(TestContext.Current.CancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        lock (_factory.Runs)
        {
            foreach (var run in _factory.Runs)
            {
                run.Result.TrySetResult(ProbeResult.Ok([]));
            }
        }
        await _scheduler.StopAsync(CancellationToken.None);
        _scheduler.Dispose();
        _spool.Dispose();
        // A loop removed by a test (not awaited by StopAsync) may still be finishing its last spool write.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                Directory.Delete(_dir, recursive: true);
                return;
            }
            catch (IOException) when (attempt < 10)
            {
                await Task.Delay(100);
            }
        }
    }

    private static TargetDefinition Tcp(string name, int port, bool enabled = true, double intervalS = 10) =>
        new(name, "tcp", TargetDefinition.ConfigFromJson($$"""{"host":"h","port":{{port}}}"""), TimeSpan.FromSeconds(intervalS), TimeSpan.FromSeconds(5), enabled);

    private static async Task UntilAsync(Func<bool> condition, string what)
    {
        for (int i = 0; i < 500 && !condition(); i++)
        {
            await Task.Delay(10, TestContext.Current.CancellationToken);
        }
        Assert.True(condition(), what);
    }

    private List<SampleBatch> Spooled() => _spool.After(0, 1000).Select(s => _spool.Read(s)!).ToList();

    [Fact]
    public async Task Added_RunsAtOnce_ThenEveryInterval_ResultsSpooled()
    {
        // Act
        _store.Publish(TargetStore.StaticSource, [Tcp("a", 1)]);
        await UntilAsync(() => _factory.RunsOf("a") == 1, "first run at once");
        _factory.Last("a").Result.SetResult(ProbeResult.Ok([new("probe_tcp_connect_ms", 1.5)]));
        await UntilAsync(() => Spooled().Count == 1, "first result spooled");
        _time.Advance(TimeSpan.FromSeconds(10));
        await UntilAsync(() => _factory.RunsOf("a") == 2, "second run after one interval");

        // Assert
        var batch = Assert.Single(Spooled());
        Assert.Equal("prober-unit", batch.HostId);
        Assert.Contains(batch.Samples, s => s.Metric == "probe_success" && s.Value == 1 && s.Labels["target"] == "a" && s.Labels["type"] == "tcp");
        Assert.Contains(batch.Samples, s => s.Metric == "probe_tcp_connect_ms" && s.Value == 1.5);
    }

    [Fact]
    public async Task EditedWhileRunning_RunningProbeNotInterrupted_NextRunUsesTheEdit()
    {
        // Arrange: a run in progress.
        _store.Publish(TargetStore.StaticSource, [Tcp("a", 1)]);
        await UntilAsync(() => _factory.RunsOf("a") == 1, "first run");
        var running = _factory.Last("a");

        // Act: the port changes while the probe runs.
        _store.Publish(TargetStore.StaticSource, [Tcp("a", 2)]);
        await UntilAsync(() => _scheduler.TargetOf("a")?.Config["port"] == "2", "edit applied");
        await Task.Delay(100, TestContext.Current.CancellationToken);
        var cancelledByEdit = running.Token.IsCancellationRequested;
        running.Result.SetResult(ProbeResult.Ok([]));
        await UntilAsync(() => Spooled().Count == 1, "the running probe's result spooled");
        _time.Advance(TimeSpan.FromSeconds(10));
        await UntilAsync(() => _factory.RunsOf("a", "2") == 1, "the next run with the new port");

        // Assert
        Assert.False(cancelledByEdit);
        Assert.Equal(1, _factory.RunsOf("a", "1"));
    }

    [Fact]
    public async Task IntervalShortened_NextRunMovesEarlier()
    {
        // Arrange
        _store.Publish(TargetStore.StaticSource, [Tcp("a", 1, intervalS: 60)]);
        await UntilAsync(() => _factory.RunsOf("a") == 1, "first run");
        _factory.Last("a").Result.SetResult(ProbeResult.Ok([]));
        await UntilAsync(() => Spooled().Count == 1, "first result");

        // Act
        _store.Publish(TargetStore.StaticSource, [Tcp("a", 1, intervalS: 5)]);
        await UntilAsync(() => _scheduler.TargetOf("a")?.Interval == TimeSpan.FromSeconds(5), "edit applied");
        _time.Advance(TimeSpan.FromSeconds(5));

        // Assert
        await UntilAsync(() => _factory.RunsOf("a") == 2, "second run 5 s after the first, not 60 s");
    }

    [Fact]
    public async Task PausedThenResumed_NoRunsWhilePaused()
    {
        // Arrange
        _store.Publish(TargetStore.StaticSource, [Tcp("a", 1)]);
        await UntilAsync(() => _factory.RunsOf("a") == 1, "first run");
        _factory.Last("a").Result.SetResult(ProbeResult.Ok([]));

        // Act
        _store.Publish(TargetStore.StaticSource, [Tcp("a", 1, enabled: false)]);
        // The scheduler applies the store's change on its own loop: only once it has can the clock move on.
        await UntilAsync(() => _scheduler.TargetOf("a") is { Enabled: false }, "pause applied");
        for (int i = 0; i < 5; i++)
        {
            await Task.Delay(20, TestContext.Current.CancellationToken);
            _time.Advance(TimeSpan.FromSeconds(10));
        }
        var whilePaused = _factory.RunsOf("a");
        _store.Publish(TargetStore.StaticSource, [Tcp("a", 1)]);

        // Assert
        Assert.Equal(1, whilePaused);
        await UntilAsync(() => _factory.RunsOf("a") == 2, "runs again once resumed");
    }

    [Fact]
    public async Task Deleted_StopsAfterItsCurrentRun_OthersKeepRunning()
    {
        // Arrange
        _store.Publish(TargetStore.StaticSource, [Tcp("a", 1), Tcp("b", 2)]);
        await UntilAsync(() => _factory.RunsOf("a") == 1 && _factory.RunsOf("b") == 1, "both run");
        _factory.Last("b").Result.SetResult(ProbeResult.Ok([]));

        // Act: delete a while it runs.
        _store.Publish(TargetStore.StaticSource, [Tcp("b", 2)]);
        await UntilAsync(() => !_scheduler.Running.Contains("a"), "a removed");
        _factory.Last("a").Result.SetResult(ProbeResult.Ok([]));
        for (int i = 0; i < 3; i++)
        {
            await Task.Delay(20, TestContext.Current.CancellationToken);
            _time.Advance(TimeSpan.FromSeconds(10));
            await UntilAsync(() => _factory.RunsOf("b") == i + 2, "b keeps running");
            _factory.Last("b").Result.SetResult(ProbeResult.Ok([]));
        }

        // Assert
        Assert.Equal(1, _factory.RunsOf("a"));
    }

    [Fact]
    public async Task StaticAndManageSources_Merged_StaticWinsOnName()
    {
        // Act
        _store.Publish(TargetStore.StaticSource, [Tcp("a", 1)]);
        _store.Publish(TargetStore.ManageSource, [Tcp("a", 9), Tcp("m", 3)]);
        await UntilAsync(() => _factory.RunsOf("m") == 1 && _factory.RunsOf("a") == 1, "both run");
        _store.Publish(TargetStore.ManageSource, []);
        await UntilAsync(() => !_scheduler.Running.Contains("m"), "m removed with the manage set");

        // Assert
        Assert.Equal(1, _factory.RunsOf("a", "1"));
        Assert.Equal(0, _factory.RunsOf("a", "9"));
        Assert.Contains("a", _scheduler.Running);
    }
}
