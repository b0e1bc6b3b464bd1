using BenchmarkDotNet.Attributes;
using Google.Protobuf;
using Monitor.Benchmarks.Shared;
using Monitor.Protos.V1;
using Monitor.ReportService.Options;
using Monitor.ReportService.Validation;

namespace Monitor.Benchmarks;

/// <summary>
/// What the report service does with each agent batch between the gRPC frame and the Kafka producer, for a valid batch
/// from a host whose series are known (the steady state). Baseline: the path it took before 2026-12-07, decoding the
/// bytes into a <c>SampleBatch</c>, validating the objects and encoding them again for Kafka.
/// <c>TryAcceptWire</c> is the path now: the same rules checked on the bytes, which then go to Kafka as they are.
/// <c>DecodeOnly</c> is what the no-op sink of the load generator's figure (i) pays (grpc-dotnet's decoding).
/// </summary>
/// <remarks>
/// Latest results (see docs/benchmarks.md): 2026-12-07 07:45 UTC, BenchmarkDotNet 0.15.8, .NET 10.0.12, Intel Xeon 2.30GHz, 2 cores,
/// job Short-InProcess (3 warm-up, 5 iterations), load average about 4: compare Ratio, not Mean.
/// <code>
/// | Method               | SamplesPerBatch | Mean      | Error     | StdDev    | Ratio | RatioSD | Gen0   | Gen1   | Allocated | Alloc Ratio |
/// |--------------------- |---------------- |----------:|----------:|----------:|------:|--------:|-------:|-------:|----------:|------------:|
/// | DecodeValidateEncode | 20              | 14.688 us | 2.4796 us | 0.6439 us |  1.00 |    0.06 | 0.7172 | 0.0153 |   12248 B |       1.000 |
/// | TryAcceptWire        | 20              |  3.009 us | 0.5572 us | 0.0862 us |  0.21 |    0.01 |      - |      - |      56 B |       0.005 |
/// | DecodeOnly           | 20              |  5.987 us | 0.5093 us | 0.1323 us |  0.41 |    0.02 | 0.6180 | 0.0153 |   10416 B |       0.850 |
/// |                      |                 |           |           |           |       |         |        |        |           |             |
/// | DecodeValidateEncode | 100             | 66.589 us | 6.1500 us | 1.5971 us |  1.00 |    0.03 | 3.4180 | 0.4883 |   58432 B |       1.000 |
/// | TryAcceptWire        | 100             | 14.262 us | 0.9440 us | 0.1461 us |  0.21 |    0.01 |      - |      - |      56 B |       0.001 |
/// | DecodeOnly           | 100             | 28.056 us | 4.0154 us | 1.0428 us |  0.42 |    0.02 | 2.9297 | 0.4272 |   50016 B |       0.856 |
/// </code>
/// </remarks>
public class ReportPathBenchmarks
{
    private const long NowUnixMs = 1_763_900_000_000;
    private BatchValidator _validator = null!;
    private byte[] _bytes = null!;

    [Params(20, 100)]
    public int SamplesPerBatch { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _validator = new BatchValidator(Microsoft.Extensions.Options.Options.Create(new ReportOptions()));
        _bytes = SampleWorkload.CreateBatch("bench-host-0001", 1, SamplesPerBatch, NowUnixMs - 1_000).ToByteArray();
        if (DecodeValidateEncode() != _bytes.Length || TryAcceptWire() != SamplesPerBatch)
        {
            throw new InvalidOperationException("the benchmark batch must be valid on both paths");
        }
    }

    [Benchmark(Baseline = true)]
    public int DecodeValidateEncode()
    {
        var result = _validator.Validate(SampleBatch.Parser.ParseFrom(_bytes), NowUnixMs);
        return result.Accepted!.ToByteArray().Length;
    }

    [Benchmark]
    public int TryAcceptWire() => _validator.TryAcceptWire(_bytes, NowUnixMs, out var batch) ? batch.SampleCount : -1;

    [Benchmark]
    public int DecodeOnly() => SampleBatch.Parser.ParseFrom(_bytes).Samples.Count;
}
