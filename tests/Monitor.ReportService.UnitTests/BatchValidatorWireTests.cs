using Google.Protobuf;
using Monitor.Protos.V1;
using Monitor.ReportService.Options;
using Monitor.ReportService.Validation;
using Xunit;

namespace Monitor.ReportService.UnitTests;

/// <summary>
/// The wire fast path must never accept what the full path would reject, must accept every plain batch the full path
/// accepts, and must track the same series identities.
/// </summary>
public sealed class BatchValidatorWireTests
{
    private const long Now = 1_700_000_000_000;

    private static BatchValidator Validator(Action<ReportOptions>? configure = null) => TestValidator.Create(configure);

    private static Sample S(string metric = "cpu_rate", double value = 1.5, long ts = Now, string message = "", params (string, string)[] labels)
    {
        var s = new Sample { Metric = metric, Value = value, TimestampUnixMs = ts, Message = message };
        foreach (var (k, v) in labels)
        {
            s.Labels[k] = v;
        }
        return s;
    }

    private static SampleBatch Batch(string hostId, params Sample[] samples)
    {
        var batch = new SampleBatch { HostId = hostId, Sequence = 9, SentAtUnixMs = Now + 7_000, AgentVersion = "monitor-agent/test" };
        batch.Samples.AddRange(samples);
        return batch;
    }

    /// <summary>One defect per case, each breaking one rule of <see cref="BatchValidator.Validate"/>.</summary>
    public static TheoryData<string, SampleBatch> Defects() => new()
    {
        { "host id empty", Batch("", S()) },
        { "host id too long", Batch(new string('h', 129), S()) },
        { "host id control char", Batch("h\u0001", S()) },
        { "metric upper case", Batch("h", S(), S(metric: "Cpu")) },
        { "metric digit first", Batch("h", S(metric: "1cpu")) },
        { "metric empty", Batch("h", S(metric: "")) },
        { "metric too long", Batch("h", S(metric: new string('m', 129))) },
        { "value NaN", Batch("h", S(value: double.NaN)) },
        { "value +inf", Batch("h", S(value: double.PositiveInfinity)) },
        { "timestamp missing", Batch("h", S(ts: 0)) },
        { "timestamp too old", Batch("h", S(ts: Now - TimeSpan.FromDays(8).Ticks / TimeSpan.TicksPerMillisecond)) },
        { "timestamp too new", Batch("h", S(ts: Now + 11 * 60_000)) },
        { "too many labels", Batch("h", S(labels: [.. Enumerable.Range(0, 17).Select(i => ($"k{i}", "v"))])) },
        { "label key host_id", Batch("h", S(labels: ("host_id", "x"))) },
        { "label key digit first", Batch("h", S(labels: ("1k", "x"))) },
        { "label key dash", Batch("h", S(labels: ("a-b", "x"))) },
        { "label key too long", Batch("h", S(labels: (new string('k', 65), "x"))) },
        { "label value empty", Batch("h", S(labels: ("k", ""))) },
        { "label value too long", Batch("h", S(labels: ("k", new string('v', 257)))) },
        { "label value control char", Batch("h", S(labels: ("k", "a\tb"))) },
        { "message too long", Batch("h", S(message: new string('x', 1_025))) },
        { "batch too large", Batch("h", [.. Enumerable.Range(0, 10_001).Select(_ => S())]) },
    };

    [Theory]
    [MemberData(nameof(Defects))]
    public void TryAcceptWire_BatchTheFullPathRejects_IsLeftToTheFullPath(string defect, SampleBatch batch)
    {
        // Arrange
        var wire = Validator();
        var full = Validator();

        // Act
        var accepted = wire.TryAcceptWire(batch.ToByteArray(), Now, out _);
        var result = full.Validate(batch, Now);

        // Assert
        Assert.NotEmpty(result.Rejections);
        Assert.False(accepted, defect);
    }

    [Fact]
    public void TryAcceptWire_PlainValidBatch_AcceptsWithWhatTheFullPathReads()
    {
        // Arrange
        var batch = Batch("host-1",
            S(),
            S("disk_used", 12.5, Now - 60_000, labels: [("mount", "/"), ("device", "sda1")]),
            S("probe_success", 0, Now, message: "connect: connection refused", labels: ("target", "db:5432")),
            S("mem_rate", -3, Now + 9 * 60_000));
        var full = Validator().Validate(batch, Now);

        // Act
        var accepted = Validator().TryAcceptWire(batch.ToByteArray(), Now, out var wire);

        // Assert
        Assert.Empty(full.Rejections);
        Assert.True(accepted);
        Assert.Equal(new WireBatch("host-1", 9, 4, full.ClockSkewMs, full.ClockSkewed), wire);
        Assert.Equal(7_000, wire.ClockSkewMs);
        Assert.True(wire.ClockSkewed);
    }

    [Fact]
    public void TryAcceptWire_UnknownFieldsAndEmptyBatch_Accepted()
    {
        // Arrange: a newer agent's batch with fields this service does not know (varint, fixed32, fixed64, bytes).
        var batch = Batch("h", S(labels: ("k", "v"))).ToByteArray();
        byte[] unknown = [(10 << 3) | 0, 0x96, 0x01, (11 << 3) | 5, 1, 2, 3, 4, (12 << 3) | 1, 1, 2, 3, 4, 5, 6, 7, 8, (13 << 3) | 2, 2, (byte)'h', (byte)'i'];
        var empty = new SampleBatch { HostId = "h", Sequence = 3 }.ToByteArray();

        // Act
        var withUnknown = Validator().TryAcceptWire([.. batch, .. unknown], Now, out var read);
        var emptyAccepted = Validator().TryAcceptWire(empty, Now, out var readEmpty);

        // Assert
        Assert.True(withUnknown);
        Assert.Equal(1, read.SampleCount);
        Assert.True(emptyAccepted);
        Assert.Equal((0, 3UL), (readEmpty.SampleCount, readEmpty.Sequence));
    }

    [Fact]
    public void TryAcceptWire_TextThatIsNotPlainAsciiOrDuplicateLabelKeys_LeftToTheFullPathWhichAcceptsIt()
    {
        // Arrange: all valid, but only the full path decides them (UTF-16 length and char.IsControl; map semantics).
        var unicode = Batch("h", S(labels: ("mount", "/données")));
        var sample = S().ToByteArray();
        byte[] twice = [.. sample, .. LabelEntry("k", "a"), .. LabelEntry("k", "b")];
        var duplicate = new SampleBatch { HostId = "h" }.ToByteArray().Concat(Field(3, twice)).ToArray();

        // Act
        var unicodeAccepted = Validator().TryAcceptWire(unicode.ToByteArray(), Now, out _);
        var duplicateAccepted = Validator().TryAcceptWire(duplicate, Now, out _);
        var decoded = SampleBatch.Parser.ParseFrom(duplicate);

        // Assert
        Assert.False(unicodeAccepted);
        Assert.Empty(Validator().Validate(unicode, Now).Rejections);
        Assert.False(duplicateAccepted);
        Assert.Equal("b", Assert.Single(decoded.Samples[0].Labels).Value);
        Assert.Empty(Validator().Validate(decoded, Now).Rejections);
    }

    [Fact]
    public void TryAcceptWire_TruncatedOrGarbageBytes_FalseAndNoHostId()
    {
        // Arrange
        var bytes = Batch("h", S(labels: ("k", "v"))).ToByteArray();

        // Act + Assert: every proper prefix that ends inside a field is not a batch
        for (int length = 1; length < bytes.Length; length++)
        {
            var prefix = bytes.AsSpan(0, length);
            if (!IsFieldBoundary(bytes, length))
            {
                Assert.False(Validator().TryAcceptWire(prefix, Now, out _), $"prefix of {length} bytes");
            }
        }
        Assert.False(Validator().TryAcceptWire([0xFF, 0xFF, 0xFF], Now, out _));
        Assert.False(BatchValidator.TryReadHostId([0x0A, 0x05, (byte)'h'], out _));
        Assert.True(BatchValidator.TryReadHostId(bytes, out var hostId));
        Assert.Equal("h"u8.ToArray(), hostId.ToArray());
    }

    [Fact]
    public void TryAcceptWire_TracksTheSameSeriesAsTheFullPath()
    {
        // Arrange: room for two series per host.
        var validator = Validator(o => o.MaxSeriesPerHost = 2);
        var first = Batch("h", S("disk_used", labels: [("mount", "/"), ("device", "sda1")]), S("cpu_rate"));

        // Act: the wire path takes both; the full path then sees them as known (labels in another order) and a third as new.
        var accepted = validator.TryAcceptWire(first.ToByteArray(), Now, out _);
        var again = validator.Validate(Batch("h", S("cpu_rate", 2), S("disk_used", 3, labels: [("device", "sda1"), ("mount", "/")]), S("mem_rate")), Now);

        // Assert
        Assert.True(accepted);
        Assert.Equal(2, again.AcceptedCount);
        Assert.Equal(RejectionReasons.SeriesLimitExceeded, Assert.Single(again.Rejections).Reason);
        Assert.Equal(2, Assert.Single(again.Rejections).Index);
    }

    [Fact]
    public void TryAcceptWire_NewSeriesBeyondTheLimit_LeftToTheFullPathWithNothingTracked()
    {
        // Arrange: one series known, room for one more, a batch with two new ones.
        var validator = Validator(o => o.MaxSeriesPerHost = 2);
        Assert.True(validator.TryAcceptWire(Batch("h", S("cpu_rate")).ToByteArray(), Now, out _));
        var batch = Batch("h", S("mem_rate"), S("load1"));

        // Act
        var accepted = validator.TryAcceptWire(batch.ToByteArray(), Now, out _);
        var full = validator.Validate(batch, Now);

        // Assert: the full path admits the first new series and rejects the second, as if the wire path had not run.
        Assert.False(accepted);
        Assert.Equal(1, full.AcceptedCount);
        Assert.Equal(1, Assert.Single(full.Rejections).Index);
        Assert.True(validator.TryAcceptWire(Batch("h", S("cpu_rate"), S("mem_rate")).ToByteArray(), Now, out _));
    }

    [Fact]
    public void TryAcceptWire_RandomBatches_AgreesWithTheFullPath()
    {
        // Arrange: plain-ASCII batches mixing valid samples with the defects above, from a fixed seed.
        var random = new Random(20261207);
        (string[] Good, string[] Bad) metrics = (["cpu_rate", "mem_rate", "disk_used", "net_rx_bytes"], ["Bad", "9x", ""]);
        (string[] Good, string[] Bad) keys = (["mount", "cpu", "iface", "_x", "K2"], ["host_id", "a-b"]);
        (string[] Good, string[] Bad) values = (["/", "0", "eth0", "sda1"], ["", "a\u0007b", new string('v', 300)]);
        (double[] Good, double[] Bad) numbers = ([0, 1.5, -7, 1e300], [double.NaN, double.NegativeInfinity]);
        (long[] Good, long[] Bad) times = ([Now, Now - 3_600_000, Now + 60_000], [0, Now + 3_600_000, Now - 86_400_000L * 30]);

        int acceptedWithSamples = 0, leftToFullPath = 0;
        for (int round = 0; round < 2_000; round++)
        {
            var batch = new SampleBatch { HostId = random.Next(10) == 0 ? "" : $"host-{random.Next(5)}", Sequence = (ulong)round };
            for (int i = random.Next(0, 6); i > 0; i--)
            {
                var sample = S(Pick(metrics), Pick(numbers), Pick(times));
                for (int l = random.Next(0, 3); l > 0; l--)
                {
                    sample.Labels[Pick(keys)] = Pick(values);
                }
                batch.Samples.Add(sample);
            }

            // Act
            var accepted = Validator().TryAcceptWire(batch.ToByteArray(), Now, out var wire);
            var full = Validator().Validate(batch, Now);

            // Assert
            Assert.True(accepted == (full.Rejections.Count == 0), $"round {round}: wire {accepted}, full rejections {full.Rejections.Count}");
            if (accepted)
            {
                Assert.Equal((batch.HostId, batch.Sequence, batch.Samples.Count), (wire.HostId, wire.Sequence, wire.SampleCount));
            }
            acceptedWithSamples += accepted && batch.Samples.Count > 0 ? 1 : 0;
            leftToFullPath += accepted ? 0 : 1;
        }
        Assert.InRange(acceptedWithSamples, 50, 2_000);
        Assert.InRange(leftToFullPath, 50, 2_000);

        // Mostly good values, one in twelve from the defects.
        T Pick<T>((T[] Good, T[] Bad) items) => random.Next(12) == 0 ? items.Bad[random.Next(items.Bad.Length)] : items.Good[random.Next(items.Good.Length)];
    }

    private static bool IsFieldBoundary(byte[] batch, int length)
    {
        var input = new CodedInputStream(batch, 0, length);
        try
        {
            while (!input.IsAtEnd)
            {
                input.ReadTag();
                input.SkipLastField();
            }
            return true;
        }
        catch (InvalidProtocolBufferException)
        {
            return false;
        }
    }

    private static byte[] LabelEntry(string key, string value) =>
        Field(4, [.. Field(1, System.Text.Encoding.ASCII.GetBytes(key)), .. Field(2, System.Text.Encoding.ASCII.GetBytes(value))]);

    private static byte[] Field(int number, byte[] payload) => [(byte)((number << 3) | 2), (byte)payload.Length, .. payload];
}
