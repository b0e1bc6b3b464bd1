using System.Globalization;
using System.Text.Json;
using Monitor.TestUtilities;
using Xunit;

namespace Monitor.IntegrationTests.Agent;

/// <summary>
/// One agent identity for a test: host id, spool directory, the ack ledger (every acknowledged
/// sample) and the spool ledger (every batch taken), plus the "exactly once" check against InfluxDB.
/// </summary>
public sealed class AgentRun : IDisposable
{
    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    public AgentRun(string prefix)
    {
        HostId = $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 11)];
        var root = Path.Combine(Path.GetTempPath(), "monitor-agent-test-" + HostId);
        Directory.CreateDirectory(root);
        Root = root;
    }

    public string HostId { get; }
    public string Root { get; }
    public string SpoolDirectory => Path.Combine(Root, "spool");
    public string LedgerPath => Path.Combine(Root, "acked.jsonl");
    public string SpoolLedgerPath => Path.Combine(Root, "taken.jsonl");

    public sealed record Acked(string Host, ulong Sequence, string Metric, Dictionary<string, string> Labels, double Value, long TimestampUnixMs)
    {
        public string Key => $"{Metric}{{{string.Join(',', Labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}={l.Value}"))}}}@{TimestampUnixMs}={Value.ToString("R", CultureInfo.InvariantCulture)}";
    }

    public sealed record Taken(string Host, ulong Sequence, int Samples);

    public List<Acked> AckedSamples() => ReadLines<Acked>(LedgerPath);

    public List<Taken> TakenBatches() => ReadLines<Taken>(SpoolLedgerPath);

    /// <summary>Distinct batches acknowledged so far.</summary>
    public int AckedBatchCount() => AckedSamples().Select(a => a.Sequence).Distinct().Count();

    /// <summary>
    /// Every batch the agent took was acknowledged with all its samples, and InfluxDB holds exactly
    /// the acknowledged samples: the same set (a batch replayed after a crash overwrites identical
    /// points), the same count, the same values and timestamps.
    /// </summary>
    public async Task AssertInfluxHoldsEverySampleExactlyOnceAsync(InfluxTestDatabase influx, CancellationToken ct)
    {
        var taken = TakenBatches();
        var acked = AckedSamples();
        Assert.NotEmpty(taken);

        // Nothing sampled is missing: every batch written to the spool was acknowledged, whole.
        var ackedPerBatch = acked.GroupBy(a => a.Sequence).ToDictionary(g => g.Key, g => g.Select(a => a.Key).Distinct().Count());
        foreach (var batch in taken)
        {
            Assert.True(ackedPerBatch.TryGetValue(batch.Sequence, out var count), $"batch {batch.Sequence} was taken but never acknowledged");
            Assert.Equal(batch.Samples, count);
        }

        var expected = acked.Select(a => a.Key).Distinct().Order(StringComparer.Ordinal).ToList();
        var measurements = acked.Select(a => a.Metric).Distinct().ToList();
        List<string> stored = [];
        await Poll.UntilAsync(async () =>
        {
            var points = await influx.PointsAsync(HostId, measurements, ct);
            stored = points.Select(Key).Order(StringComparer.Ordinal).ToList();
            return stored.Count >= expected.Count;
        }, TimeSpan.FromSeconds(60), $"{expected.Count} points for {HostId} in InfluxDB", ct);

        Assert.Equal(expected.Count, stored.Count);
        Assert.Equal(expected, stored);
    }

    private static string Key(StoredPoint p)
    {
        var labels = p.Tags.Where(t => t.Key != "host_id").ToDictionary(t => t.Key, t => t.Value);
        return new Acked("", 0, p.Measurement, labels, p.Value, p.TimestampUnixMs).Key;
    }

    private static List<T> ReadLines<T>(string path)
    {
        if (!File.Exists(path))
        {
            return [];
        }
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        var result = new List<T>();
        while (reader.ReadLine() is { } line)
        {
            if (line.Length > 0)
            {
                result.Add(JsonSerializer.Deserialize<T>(line, JsonOptions)!);
            }
        }
        return result;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // Best effort.
        }
    }
}
