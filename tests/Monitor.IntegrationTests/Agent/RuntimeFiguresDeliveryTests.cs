using Monitor.TestUtilities;
using Xunit;

namespace Monitor.IntegrationTests.Agent;

/// <summary>
/// The agent and the prober report their own runtime figures (GC, thread pool, CPU, working set, exceptions) as samples
/// of their host instead of listening on a port: real processes at a 1 s interval, through real report services, Kafka
/// and the persistence service into InfluxDB, labelled <c>component="agent"</c> / <c>component="prober"</c>.
/// </summary>
[Collection(AgentCollection.Name)]
public sealed class RuntimeFiguresDeliveryTests(AgentPipelineFixture pipeline)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private static readonly string[] Figures = ["monitor_gc_heap_bytes", "monitor_process_working_set_bytes", "monitor_gc_collections", "monitor_exceptions", "monitor_threadpool_threads"];

    [Fact]
    public async Task AgentAndProber_RuntimeFiguresReachInfluxDb_LabelledByComponent()
    {
        // Arrange
        var ct = TestContext.Current.CancellationToken;
        await pipeline.EnsureReportsRunningAsync(ct);
        using var agentRun = new AgentRun("rtagent");
        using var proberRun = new AgentRun("rtprober");
        var proberEnv = new Dictionary<string, string>
        {
            ["Agent__Interval"] = "00:00:01",
            ["Agent__SpoolLedgerPath"] = proberRun.SpoolLedgerPath,
        };

        // Act
        var agent = pipeline.StartAgent(agentRun, useEtcd: false);
        await using var prober = pipeline.StartProber("rtprober-" + proberRun.HostId, proberRun, proberEnv);
        List<StoredPoint> fromAgent = [], fromProber = [];
        await Poll.UntilAsync(async () =>
        {
            fromAgent = await pipeline.Influx.PointsAsync(agentRun.HostId, Figures, ct);
            fromProber = await pipeline.Influx.PointsAsync(proberRun.HostId, [.. Figures, "agent_spool_batches"], ct);
            return Figures.All(f => fromAgent.Any(p => p.Measurement == f)) && Figures.All(f => fromProber.Any(p => p.Measurement == f))
                && fromProber.Any(p => p.Measurement == "agent_spool_batches");
        }, Patience, "the runtime figures of the agent and of the prober in InfluxDB", ct);
        await agent.StopAsync(TimeSpan.FromSeconds(30));
        await prober.StopAsync(TimeSpan.FromSeconds(30));

        // Assert
        Assert.All(fromAgent, p => Assert.Equal("agent", p.Tags["component"]));
        Assert.All(fromProber, p => Assert.Equal("prober", p.Tags["component"]));
        Assert.All(fromAgent.Concat(fromProber).Where(p => p.Measurement is "monitor_gc_heap_bytes" or "monitor_process_working_set_bytes"), p => Assert.True(p.Value > 0, p.ToString()));
        Assert.Equal(["gen0", "gen1", "gen2"], fromAgent.Where(p => p.Measurement == "monitor_gc_collections").Select(p => p.Tags["generation"]).Distinct().Order());
        Assert.All(fromAgent.Concat(fromProber).Where(p => p.Measurement is "monitor_gc_collections" or "monitor_exceptions"), p => Assert.True(p.Value >= 0, p.ToString()));
    }
}
