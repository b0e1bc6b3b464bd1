using System.Globalization;
using Monitor.IntegrationTests.Agent;
using Monitor.TestUtilities;
using Xunit;

namespace Monitor.IntegrationTests.Probes;

/// <summary>
/// monitor-prober end to end: a real prober process runs static targets (ping of 127.0.0.1, TCP to
/// a closed port) at 1 s and sends the results through real report services, Kafka and the
/// persistence service into InfluxDB, on the agent's lossless path (spool, acks).
/// </summary>
[Collection(AgentCollection.Name)]
public sealed class ProberDeliveryTests(AgentPipelineFixture pipeline)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Prober_ResultsOfEveryTargetReachInfluxDb_WithLabelsReasonAndMessage()
    {
        // Arrange
        var ct = TestContext.Current.CancellationToken;
        await pipeline.EnsureReportsRunningAsync(ct);
        using var run = new AgentRun("prober");
        var closedPort = NativeProcess.FreePort();
        var env = new Dictionary<string, string>
        {
            ["Agent__SpoolLedgerPath"] = run.SpoolLedgerPath,
            ["Agent__DrainTimeout"] = "00:00:10",
            ["Probes__Targets__0__Name"] = "e2e-ping",
            ["Probes__Targets__0__Type"] = "icmp",
            ["Probes__Targets__0__Interval"] = "00:00:01",
            ["Probes__Targets__0__Timeout"] = "00:00:00.800",
            ["Probes__Targets__0__Config__Host"] = "127.0.0.1",
            ["Probes__Targets__0__Config__Count"] = "2",
            ["Probes__Targets__1__Name"] = "e2e-closed",
            ["Probes__Targets__1__Type"] = "tcp",
            ["Probes__Targets__1__Interval"] = "00:00:01",
            ["Probes__Targets__1__Timeout"] = "00:00:00.800",
            ["Probes__Targets__1__Config__Host"] = "127.0.0.1",
            ["Probes__Targets__1__Config__Port"] = closedPort.ToString(CultureInfo.InvariantCulture),
        };

        // Act
        await using var prober = pipeline.StartProber("prober-" + run.HostId, run, env);
        await Poll.UntilAsync(() =>
        {
            var acked = run.AckedSamples().Where(a => a.Metric == "probe_success").ToList();
            return acked.Count(a => a.Labels["target"] == "e2e-ping") >= 3 && acked.Count(a => a.Labels["target"] == "e2e-closed") >= 3;
        }, Patience, "3 acknowledged results of each target", ct);
        await prober.StopAsync(TimeSpan.FromSeconds(30));

        // Assert: every result taken was acknowledged; InfluxDB holds exactly the acknowledged samples.
        var taken = run.TakenBatches();
        var acked = run.AckedSamples();
        Assert.Equal(taken.Select(t => t.Sequence).Order(), acked.Select(a => a.Sequence).Distinct().Order());
        var measurements = acked.Select(a => a.Metric).Distinct().ToList();
        Assert.Contains("probe_duration_ms", measurements);
        Assert.Contains("probe_icmp_rtt_ms", measurements);
        List<StoredPoint> stored = [];
        await Poll.UntilAsync(async () =>
        {
            stored = await pipeline.Influx.PointsAsync(run.HostId, measurements, ct);
            return stored.Count >= acked.Count;
        }, Patience, $"{acked.Count} probe points in InfluxDB", ct);
        Assert.Equal(acked.Count, stored.Count);

        var ping = stored.Where(p => p.Measurement == "probe_success" && p.Tags["target"] == "e2e-ping").ToList();
        Assert.All(ping, p =>
        {
            Assert.Equal(1, p.Value);
            Assert.Equal("icmp", p.Tags["type"]);
            Assert.False(p.Tags.ContainsKey("reason"));
        });
        var closed = stored.Where(p => p.Measurement == "probe_success" && p.Tags["target"] == "e2e-closed").ToList();
        Assert.NotEmpty(closed);
        Assert.All(closed, p =>
        {
            Assert.Equal(0, p.Value);
            Assert.Equal("tcp", p.Tags["type"]);
            Assert.Equal("refused", p.Tags["reason"]);
            // The free-text message is a string field (not a tag) holding the failure.
            Assert.Contains("refused", p.Tags["message"], StringComparison.OrdinalIgnoreCase);
        });
        var tags = await pipeline.Influx.ExecuteAsync("SHOW TAG KEYS FROM \"probe_success\"", ct);
        Assert.DoesNotContain("\"message\"", tags.GetRawText(), StringComparison.Ordinal);
    }
}
