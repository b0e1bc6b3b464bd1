using System.Diagnostics;
using System.Text.RegularExpressions;
using Monitor.TestUtilities;
using Xunit;

namespace Monitor.IntegrationTests.Agent;

/// <summary>
/// The agent's "never lose a sample" acceptance tests against real processes: report services
/// stopped while the agent keeps sampling, the agent killed with kill -9 and restarted on its
/// spool, and the report instance it streams to killed. Each time InfluxDB must end up holding
/// every sample the agent took, exactly once (count, values, timestamps, labels).
/// </summary>
[Collection(AgentCollection.Name)]
public sealed partial class AgentDeliveryTests(AgentPipelineFixture pipeline)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task ReportServicesDown_AgentKeepsSamplingFiveIntervals_InfluxHoldsEverySampleExactlyOnce()
    {
        // Arrange
        var ct = TestContext.Current.CancellationToken;
        await pipeline.EnsureReportsRunningAsync(ct);
        using var run = new AgentRun("spool");
        var agent = pipeline.StartAgent(run, useEtcd: true);
        await Poll.UntilAsync(() => run.AckedBatchCount() >= 2, Patience, "2 acknowledged batches", ct);

        // Act: stop every report service while the agent keeps sampling for 5 intervals.
        StopAllReportServices();
        var ackedWhileUp = run.AckedBatchCount();
        var takenWhileUp = run.TakenBatches().Count;
        await Poll.UntilAsync(() => run.TakenBatches().Count >= takenWhileUp + 5, Patience, "5 batches sampled while no report service runs", ct);
        var takenDuringOutage = run.TakenBatches().Count;
        Assert.Equal(ackedWhileUp, run.AckedBatchCount());
        Assert.False(agent.HasExited, "the agent must not exit because the servers are away");
        await pipeline.EnsureReportsRunningAsync(ct);
        await Poll.UntilAsync(() => run.AckedBatchCount() >= takenDuringOutage + 1, Patience, "the outage's batches acknowledged after the restart", ct);
        await agent.StopAsync(TimeSpan.FromSeconds(30));

        // Assert
        await run.AssertInfluxHoldsEverySampleExactlyOnceAsync(pipeline.Influx, ct);
    }

    [Fact]
    public async Task AgentKilledWithUnackedSpool_RestartedOnSameSpool_InfluxHoldsEverySampleExactlyOnce()
    {
        // Arrange: batches pile up in the spool while the report services are away.
        var ct = TestContext.Current.CancellationToken;
        await pipeline.EnsureReportsRunningAsync(ct);
        using var run = new AgentRun("crash");
        var agent = pipeline.StartAgent(run, useEtcd: false);
        await Poll.UntilAsync(() => run.AckedBatchCount() >= 2, Patience, "2 acknowledged batches", ct);
        StopAllReportServices();
        var takenBefore = run.TakenBatches().Count;
        await Poll.UntilAsync(() => run.TakenBatches().Count >= takenBefore + 3, Patience, "3 batches spooled while no report service runs", ct);

        // Act: kill -9 mid-stream, then start again on the same spool.
        agent.Kill();
        var spooled = Directory.GetFiles(run.SpoolDirectory, "*.batch").Length;
        var takenAtKill = run.TakenBatches().Count;
        await pipeline.EnsureReportsRunningAsync(ct);
        var restarted = pipeline.StartAgent(run, useEtcd: false);
        await Poll.UntilAsync(() => run.AckedBatchCount() >= takenAtKill + 3, Patience, "the spooled batches replayed and 3 more acknowledged", ct);
        await restarted.StopAsync(TimeSpan.FromSeconds(30));

        // Assert
        Assert.True(spooled >= 3, $"{spooled} batch file(s) were in the spool at the kill");
        Assert.Contains($"{spooled} batch(es)", restarted.Tail(400), StringComparison.Ordinal);
        var sequences = run.TakenBatches().Select(t => t.Sequence).ToList();
        Assert.Equal(sequences.Order(), sequences);
        Assert.Equal(sequences.Count, sequences.Distinct().Count());
        await run.AssertInfluxHoldsEverySampleExactlyOnceAsync(pipeline.Influx, ct);
    }

    [Fact]
    public async Task ReportInstanceKilled_AgentFailsOverWithinOneInterval_NoSampleLost()
    {
        // Arrange
        var ct = TestContext.Current.CancellationToken;
        await pipeline.EnsureReportsRunningAsync(ct);
        using var run = new AgentRun("failover");
        var agent = pipeline.StartAgent(run, useEtcd: true);
        await Poll.UntilAsync(() => run.AckedBatchCount() >= 3, Patience, "3 acknowledged batches", ct);
        var connected = LastConnectedAddress(agent.Tail(400));
        var victim = pipeline.Reports.Single(r => r.GrpcUrl == connected);
        var survivor = pipeline.Reports.Single(r => r != victim);

        // Act
        var ackedAtKill = run.AckedBatchCount();
        victim.Process!.Kill();
        var clock = Stopwatch.StartNew();
        await Poll.UntilAsync(() => run.AckedBatchCount() > ackedAtKill, Patience, "an acknowledgement after the kill", ct);
        var failover = clock.Elapsed;
        await Poll.UntilAsync(() => run.AckedBatchCount() >= ackedAtKill + 3, Patience, "3 more acknowledged batches", ct);
        await agent.StopAsync(TimeSpan.FromSeconds(30));

        // Assert: the next batch (due within one 1 s interval) was acknowledged by the other instance.
        Assert.True(failover < TimeSpan.FromSeconds(2.5), $"failover took {failover}");
        Assert.Equal(survivor.GrpcUrl, LastConnectedAddress(agent.Tail(400)));
        await run.AssertInfluxHoldsEverySampleExactlyOnceAsync(pipeline.Influx, ct);
    }

    /// <summary>
    /// Takes every report service away. SIGKILL rather than SIGTERM: the report service does not end
    /// open Report streams on SIGTERM, so a graceful stop with an agent attached waits out its 30 s
    /// shutdown timeout; for the agent both look the same (the stream breaks, the port refuses).
    /// </summary>
    private void StopAllReportServices()
    {
        foreach (var report in pipeline.Reports)
        {
            report.Process!.Kill();
        }
    }

    private static string LastConnectedAddress(string log) =>
        ConnectedRegex().Matches(log).Select(m => m.Groups[1].Value).LastOrDefault()
            ?? throw new InvalidOperationException("the agent never logged a connection:\n" + log);

    [GeneratedRegex(@"Streaming to (\S+);")]
    private static partial Regex ConnectedRegex();
}
