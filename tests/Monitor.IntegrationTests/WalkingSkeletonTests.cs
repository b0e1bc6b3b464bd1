using System.Globalization;
using System.Text.Json;
using dotnet_etcd;
using Monitor.TestUtilities;
using Xunit;

namespace Monitor.IntegrationTests;

/// <summary>
/// The Foundation acceptance test: a real agent samples its host every second and streams to two
/// real report services (the first address it is given is dead, so it must fail over); the samples
/// travel through Kafka and the persistence service into InfluxDB, and InfluxDB must hold exactly
/// what the agent's ledger says was acknowledged: same count, same values, same timestamps.
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class WalkingSkeletonTests(PipelineFixture pipeline)
{
    [Fact]
    public async Task AgentSamples_TravelWholePipeline_InfluxHoldsExactlyWhatWasAcked()
    {
        // Arrange
        var ct = TestContext.Current.CancellationToken;
        var hostId = "e2e-" + Guid.NewGuid().ToString("N")[..10];
        var ledgerPath = Path.Combine(Path.GetTempPath(), $"ledger-{hostId}.jsonl");
        var spoolDirectory = Path.Combine(Path.GetTempPath(), $"spool-{hostId}");
        var deadAddress = $"http://127.0.0.1:{Ports.Free()}";
        var agent = pipeline.Start("agent", Repo.Assembly("agent", "monitor-agent"), new()
        {
            ["Agent__HostId"] = hostId,
            ["Agent__Interval"] = "00:00:01",
            ["Agent__ReportAddresses__0"] = deadAddress,
            ["Agent__ReportAddresses__1"] = pipeline.Reports[0].GrpcUrl,
            ["Agent__ReportAddresses__2"] = pipeline.Reports[1].GrpcUrl,
            ["Agent__ReconnectInitialDelay"] = "00:00:00.200",
            ["Agent__LedgerPath"] = ledgerPath,
            ["Agent__SpoolDirectory"] = spoolDirectory,
        });

        // Act: let it report for a few intervals, then stop it gracefully.
        await Poll.UntilAsync(() => LedgerLines(ledgerPath).Count >= 10, TimeSpan.FromSeconds(60), "10 acknowledged samples in the agent's ledger", ct);
        await agent.StopAsync(TimeSpan.FromSeconds(20));
        // The agent reports many metrics; this test follows the original system's two.
        var sent = LedgerLines(ledgerPath).Where(e => e.Metric is "cpu_rate" or "mem_rate").ToList();

        // Assert: InfluxDB holds exactly the acknowledged samples.
        var expected = sent.Select(e => $"{e.Metric}@{e.TimestampUnixMs}={e.Value.ToString("R", CultureInfo.InvariantCulture)}").Order().ToList();
        List<string> stored = [];
        await Poll.UntilAsync(async () =>
        {
            var points = await pipeline.Influx.PointsAsync(hostId, ["cpu_rate", "mem_rate"], ct);
            stored = points.Select(p => p.ToString()).Order().ToList();
            return stored.Count >= expected.Count;
        }, TimeSpan.FromSeconds(30), $"{expected.Count} points for {hostId} in InfluxDB", ct);

        Assert.Contains(sent, e => e.Metric == "cpu_rate");
        Assert.Contains(sent, e => e.Metric == "mem_rate");
        Assert.Equal(expected, stored);
        Assert.Contains($"Stream to {deadAddress} failed", agent.Tail(400), StringComparison.Ordinal);
        File.Delete(ledgerPath);
        Directory.Delete(spoolDirectory, recursive: true);
    }

    [Fact]
    public async Task Services_RegisterInEtcd_UnderLeasedKeys()
    {
        // Arrange
        var ct = TestContext.Current.CancellationToken;
        using var etcd = new EtcdClient(StackEnvironment.Etcd);

        // Act
        var response = await etcd.GetRangeAsync("/monitor/services/report/", cancellationToken: ct);
        var byKey = response.Kvs.ToDictionary(kv => kv.Key.ToStringUtf8(), kv => kv);

        // Assert
        foreach (var report in pipeline.Reports)
        {
            Assert.True(byKey.TryGetValue($"/monitor/services/report/{report.InstanceId}", out var kv), $"{report.InstanceId} is not registered");
            Assert.NotEqual(0, kv.Lease);
            using var json = JsonDocument.Parse(kv.Value.ToStringUtf8());
            Assert.Equal(report.GrpcUrl, json.RootElement.GetProperty("grpc").GetString());
            Assert.Equal(report.HttpUrl, json.RootElement.GetProperty("http").GetString());
        }
    }

    private static List<LedgerLine> LedgerLines(string path)
    {
        if (!File.Exists(path))
        {
            return [];
        }
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        var result = new List<LedgerLine>();
        while (reader.ReadLine() is { } line)
        {
            if (line.Length > 0)
            {
                result.Add(JsonSerializer.Deserialize<LedgerLine>(line, JsonOptions)!);
            }
        }
        return result;
    }

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    private sealed record LedgerLine(string Host, ulong Sequence, string Metric, double Value, long TimestampUnixMs);
}

[CollectionDefinition(Name)]
public sealed class PipelineCollection : ICollectionFixture<PipelineFixture>
{
    public const string Name = "pipeline";
}
