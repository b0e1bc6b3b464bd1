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
