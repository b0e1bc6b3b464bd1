using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Monitor.Agent.Options;
using Monitor.Agent.Sending;
using Monitor.Protos.V1;
using Xunit;

namespace Monitor.Agent.UnitTests;

/// <summary>The spool is a directory of files by design, so these tests use a private temporary directory.</summary>
public sealed class SpoolTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "spool-test-" + Guid.NewGuid().ToString("N"));
    private readonly FakeTimeProvider _time = new(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000));
    private readonly List<Spool> _spools = [];

    public void Dispose()
    {
        foreach (var s in _spools)
        {
            s.Dispose();
        }
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    private Spool Open(AgentStatus? status = null, int maxBatches = 1000, long maxBytes = 1 << 20, string? ledger = null, TimeProvider? time = null)
    {
        var spool = new Spool(
            Microsoft.Extensions.Options.Options.Create(new AgentOptions { SpoolDirectory = _dir, MaxSpoolBatches = maxBatches, MaxSpoolBytes = maxBytes, SpoolLedgerPath = ledger }),
            status ?? new AgentStatus(), time ?? _time, NullLogger<Spool>.Instance);
        _spools.Add(spool);
        spool.Open();
        return spool;
    }

    private static SampleBatch Batch(Spool spool, int samples = 1)
    {
        var b = new SampleBatch { HostId = "h", Sequence = spool.NextSequence() };
        for (int i = 0; i < samples; i++)
        {
            b.Samples.Add(new Sample { Metric = "m", Value = i, TimestampUnixMs = 1 });
        }
        return b;
    }

    [Fact]
    public void Append_ThreeBatches_AfterReturnsThemInSequenceOrder()
    {
        // Arrange
        var spool = Open();
        var batches = Enumerable.Range(0, 3).Select(_ => Batch(spool)).ToList();

        // Act
        foreach (var b in batches)
        {
            spool.Append(b);
        }

        // Assert
        Assert.Equal(batches.Select(b => b.Sequence), spool.After(0, 10));
        Assert.Equal([batches[2].Sequence], spool.After(batches[1].Sequence, 10));
        Assert.Equal(2, spool.After(0, 2).Count);
        Assert.Equal(2, spool.CountUpTo(batches[1].Sequence));
        Assert.Equal(3, Directory.GetFiles(_dir, "*.batch").Length);
    }

    [Fact]
    public void Remove_AckedBatch_DeletesItsFileOnly()
    {
        // Arrange
        var spool = Open();
        var a = Batch(spool);
        spool.Append(a);
        var b = Batch(spool);
        spool.Append(b);

        // Act
        var removed = spool.Remove(a.Sequence);
        var duplicate = spool.Remove(a.Sequence);

        // Assert
        Assert.True(removed);
        Assert.False(duplicate);
        Assert.Equal([b.Sequence], spool.After(0, 10));
        Assert.Single(Directory.GetFiles(_dir, "*.batch"));
    }

    [Fact]
    public void Open_AfterRestart_ReplaysUnackedBatchesInOrderWithTheirContent()
    {
        // Arrange
        var first = Open();
        var batches = Enumerable.Range(0, 3).Select(i => Batch(first, samples: i + 1)).ToList();
        batches.ForEach(first.Append);
        first.Remove(batches[0].Sequence);
        first.Dispose();

        // Act
        var second = Open();

        // Assert
        Assert.Equal([batches[1].Sequence, batches[2].Sequence], second.After(0, 10));
        Assert.Equal(batches[2], second.Read(batches[2].Sequence));
        Assert.Equal(2, second.Count);
    }

    [Fact]
    public void NextSequence_AfterRestartWithEmptySpoolAndClockBehind_KeepsIncreasing()
    {
        // Arrange
        var first = Open();
        var last = Enumerable.Range(0, 5).Select(_ => first.NextSequence()).Last();
        first.Dispose();
        var clockBehind = new FakeTimeProvider(DateTimeOffset.FromUnixTimeMilliseconds(1_600_000_000_000));

        // Act
        var second = Open(time: clockBehind);
        var next = second.NextSequence();

        // Assert
        Assert.True(next > last, $"{next} should be above {last}");
    }

    [Fact]
    public void Open_TornFileAndLeftoverTmp_DiscardsThemAndCountsTheLoss()
    {
        // Arrange: a crash left a .tmp; a power loss truncated the newest file.
        var status = new AgentStatus();
        var first = Open(status);
        var good = Batch(first, samples: 2);
        first.Append(good);
        var torn = Batch(first, samples: 3);
        first.Append(torn);
        first.Dispose();
        var tornPath = Directory.GetFiles(_dir, $"{torn.Sequence:D20}-3.batch").Single();
        var bytes = File.ReadAllBytes(tornPath);
        File.WriteAllBytes(tornPath, bytes[..(bytes.Length / 2)]);
        File.WriteAllBytes(Path.Combine(_dir, "00000000000000000009-1.batch.tmp"), [1, 2, 3]);

        // Act
        var second = Open(status);
        var readGood = second.Read(good.Sequence);
        var readTorn = second.Read(torn.Sequence);

        // Assert
        Assert.Equal(good, readGood);
        Assert.Null(readTorn);
        Assert.Equal([good.Sequence], second.After(0, 10));
        Assert.Equal(3, status.DroppedSamples);
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp"));
    }

    [Fact]
    public void Append_WhenFull_DropsOldestAndCountsBatchesAndSamples()
    {
        // Arrange
        var status = new AgentStatus();
        var spool = Open(status, maxBatches: 2);
        var b1 = Batch(spool, samples: 3);
        var b2 = Batch(spool);
        var b3 = Batch(spool);
        spool.Append(b1);
        spool.Append(b2);

        // Act
        spool.Append(b3);

        // Assert
        Assert.Equal([b2.Sequence, b3.Sequence], spool.After(0, 10));
        Assert.Equal(1, status.DroppedBatches);
        Assert.Equal(3, status.DroppedSamples);
        Assert.Equal(2, status.SpoolBatches);
        Assert.False(spool.Remove(b1.Sequence));
    }

    [Fact]
    public void Append_OverByteLimit_DropsOldestButKeepsNewest()
    {
        // Arrange: each batch is ~100 bytes; allow ~250.
        var status = new AgentStatus();
        var spool = Open(status, maxBytes: 250);
        var batches = Enumerable.Range(0, 5).Select(_ => Batch(spool, samples: 5)).ToList();

        // Act
        batches.ForEach(spool.Append);

        // Assert
        Assert.True(spool.Bytes <= 250, $"{spool.Bytes} bytes spooled");
        Assert.Equal(batches[^1].Sequence, spool.After(0, 10)[^1]);
        Assert.Equal(5 - spool.Count, status.DroppedBatches);
        Assert.Equal(status.SpoolBytes, spool.Bytes);
    }

    [Fact]
    public void Open_SecondAgentOnSameDirectory_FailsNamingTheKey()
    {
        // Arrange
        Open();
        var second = new Spool(Microsoft.Extensions.Options.Options.Create(new AgentOptions { SpoolDirectory = _dir }), new AgentStatus(), _time, NullLogger<Spool>.Instance);
        _spools.Add(second);

        // Act
        var ex = Assert.Throws<InvalidOperationException>(second.Open);

        // Assert
        Assert.Contains("Agent:SpoolDirectory", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WaitForChangeAsync_CompletesOnAppend()
    {
        // Arrange
        var spool = Open();
        var wait = spool.WaitForChangeAsync(TestContext.Current.CancellationToken);
        Assert.False(wait.IsCompleted);

        // Act
        spool.Append(Batch(spool));

        // Assert
        await wait.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
    }

    [Fact]
    public void Append_WithSpoolLedger_RecordsEveryBatchTaken()
    {
        // Arrange
        var ledger = Path.Combine(_dir + "-ledger.jsonl");
        var spool = Open(ledger: ledger);
        var batch = Batch(spool, samples: 4);

        // Act
        spool.Append(batch);
        spool.Dispose();

        // Assert
        var line = Assert.Single(File.ReadAllLines(ledger));
        using var json = JsonDocument.Parse(line);
        Assert.Equal(batch.Sequence, json.RootElement.GetProperty("sequence").GetUInt64());
        Assert.Equal(4, json.RootElement.GetProperty("samples").GetInt32());
        File.Delete(ledger);
    }

    [Theory]
    [InlineData("00000000000000000042-7.batch", true, 42UL, 7)]
    [InlineData("00000000000000000042-7.batch.tmp", false, 0UL, 0)]
    [InlineData("sequence", false, 0UL, 0)]
    public void TryParseName_FileNames_ParseSequenceAndSampleCount(string name, bool ok, ulong sequence, int samples)
    {
        // Act
        var parsed = Spool.TryParseName(name, out var s, out var n);

        // Assert
        Assert.Equal((ok, sequence, samples), (parsed, s, n));
    }
}
