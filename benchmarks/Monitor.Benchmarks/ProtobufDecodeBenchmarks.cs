using BenchmarkDotNet.Attributes;
using Google.Protobuf;
using Monitor.Benchmarks.Shared;
using Monitor.Protos.V1;

namespace Monitor.Benchmarks;

/// <summary>
/// Persistence hot path: <c>SampleBatch.Parser.ParseFrom</c> of one Kafka message value (an agent batch).
/// Baseline: a hand-written walk over the same bytes that reads every field of every sample (and every label map
/// entry) without building objects: the floor any decoder of these bytes pays. The ratio is the price of
/// materialising the message (Sample objects, strings, the label maps). <c>Encode</c> (what the report service pays
/// per batch for <c>ToByteArray</c>) is shown for scale.
/// </summary>
/// <remarks>
/// Latest results (see docs/benchmarks.md): 2026-11-23 14:41 UTC, BenchmarkDotNet 0.15.8, .NET 10.0 (SDK 10.0.401), Intel Xeon 2.30GHz, 2 cores,
/// job Short-InProcess (3 warm-up, 5 iterations), machine shared (load average ~20): compare Ratio, not Mean.
/// <code>
/// | Method   | SamplesPerBatch | Mean      | Error      | StdDev    | Ratio | RatioSD | Gen0   | Allocated | Alloc Ratio |
/// |--------- |---------------- |----------:|-----------:|----------:|------:|--------:|-------:|----------:|------------:|
/// | WireWalk | 20              |  1.446 us |  0.1849 us | 0.0480 us |  1.00 |    0.04 |      - |         - |          NA |
/// | Decode   | 20              | 10.818 us |  4.9461 us | 0.7654 us |  7.49 |    0.52 | 0.1221 |   10256 B |          NA |
/// | Encode   | 20              | 15.547 us | 18.2926 us | 4.7505 us | 10.76 |    3.02 | 0.0153 |    1784 B |          NA |
/// |          |                 |           |            |           |       |         |        |           |             |
/// | WireWalk | 100             |  8.878 us |  0.5153 us | 0.0798 us |  1.00 |    0.01 |      - |         - |          NA |
/// | Decode   | 100             | 85.013 us | 34.0790 us | 8.8502 us |  9.58 |    0.92 | 0.4883 |   49216 B |          NA |
/// | Encode   | 100             | 62.058 us | 15.4532 us | 2.3914 us |  6.99 |    0.25 |      - |    8368 B |          NA |
/// </code>
/// </remarks>
public class ProtobufDecodeBenchmarks
{
    private byte[] _bytes = null!;
    private SampleBatch _batch = null!;

    [Params(20, 100)]
    public int SamplesPerBatch { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _batch = SampleWorkload.CreateBatch("bench-host-0001", 42, SamplesPerBatch, 1_763_900_000_000);
        _bytes = _batch.ToByteArray();
        if (WireWalk() != Decode())
        {
            throw new InvalidOperationException("the wire walk must see every sample");
        }
    }

    [Benchmark(Baseline = true)]
    public int WireWalk()
    {
        ReadOnlySpan<byte> span = _bytes;
        int samples = 0;
        int pos = 0;
        while (pos < span.Length)
        {
            var tag = ReadVarint(span, ref pos);
            if (tag == ((3 << 3) | 2))
            {
                var length = (int)ReadVarint(span, ref pos);
                WalkSample(span.Slice(pos, length));
                pos += length;
                samples++;
            }
            else
            {
                Skip(span, ref pos, (int)(tag & 7));
            }
        }
        return samples;
    }

    [Benchmark]
    public int Decode() => SampleBatch.Parser.ParseFrom(_bytes).Samples.Count;

    [Benchmark]
    public int Encode() => _batch.ToByteArray().Length;

    private static long WalkSample(ReadOnlySpan<byte> span)
    {
        long checksum = 0;
        int pos = 0;
        while (pos < span.Length)
        {
            var tag = ReadVarint(span, ref pos);
            switch (tag)
            {
                case (1 << 3) | 2: // metric
                case (4 << 3) | 2: // one label map entry: walk its key and value
                    var length = (int)ReadVarint(span, ref pos);
                    checksum += tag == ((4 << 3) | 2) ? WalkEntry(span.Slice(pos, length)) : span[pos];
                    pos += length;
                    break;
                case (2 << 3) | 1: // value
                    checksum += (long)BitConverter.ToDouble(span.Slice(pos, 8));
                    pos += 8;
                    break;
                case 3 << 3: // timestamp_unix_ms
                    checksum += (long)ReadVarint(span, ref pos);
                    break;
                default:
                    Skip(span, ref pos, (int)(tag & 7));
                    break;
            }
        }
        return checksum;
    }

    private static int WalkEntry(ReadOnlySpan<byte> span)
    {
        int pos = 0;
        int sum = 0;
        while (pos < span.Length)
        {
            var tag = ReadVarint(span, ref pos);
            var length = (int)ReadVarint(span, ref pos);
            sum += length + (int)tag;
            pos += length;
        }
        return sum;
    }

    private static void Skip(ReadOnlySpan<byte> span, ref int pos, int wireType)
    {
        switch (wireType)
        {
            case 0: ReadVarint(span, ref pos); break;
            case 1: pos += 8; break;
            case 2:
                // Read the length before adding: `pos += ReadVarint(ref pos)` would add to the old position.
                var length = (int)ReadVarint(span, ref pos);
                pos += length;
                break;
            case 5: pos += 4; break;
            default: throw new InvalidDataException($"wire type {wireType}");
        }
    }

    private static ulong ReadVarint(ReadOnlySpan<byte> span, ref int pos)
    {
        ulong result = 0;
        for (int shift = 0; ; shift += 7)
        {
            var b = span[pos++];
            result |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return result;
            }
        }
    }
}
