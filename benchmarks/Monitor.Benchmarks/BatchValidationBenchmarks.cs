using BenchmarkDotNet.Attributes;
using Monitor.Benchmarks.Shared;
using Monitor.Protos.V1;
using Monitor.ReportService.Options;
using Monitor.ReportService.Validation;

namespace Monitor.Benchmarks;

/// <summary>
/// Report-service hot path: <see cref="BatchValidator.Validate"/> on a 100-sample agent batch (20 series × 5
/// snapshots, 0-2 labels per sample) from a host whose series are already known (the steady state).
/// Baseline: the least any validator must do, a loop checking <c>double.IsFinite</c> and the timestamp window;
/// the ratio is what the full rule set (names, labels, printable checks, the per-host cardinality guard) costs.
/// </summary>
/// <remarks>
/// Latest results (see docs/benchmarks.md): 2026-11-23 14:41 UTC, BenchmarkDotNet 0.15.8, .NET 10.0 (SDK 10.0.401), Intel Xeon 2.30GHz, 2 cores,
/// job Short-InProcess (3 warm-up, 5 iterations), machine shared (load average ~20): compare Ratio, not Mean.
/// <code>
/// | Method                 | SamplesPerBatch | Mean        | Error       | StdDev       | Ratio  | RatioSD | Gen0   | Allocated | Alloc Ratio |
/// |----------------------- |---------------- |------------:|------------:|-------------:|-------:|--------:|-------:|----------:|------------:|
/// | FiniteAndTimestampLoop | 100             |    388.9 ns |    425.8 ns |     65.90 ns |   1.02 |    0.21 |      - |         - |          NA |
/// | Validate               | 100             | 62,503.9 ns | 53,996.9 ns | 14,022.81 ns | 163.81 |   40.25 | 0.4883 |   41368 B |          NA |
/// | SeriesKeysOnly         | 100             | 44,668.1 ns | 10,749.1 ns |  1,663.43 ns | 117.07 |   15.99 | 0.4883 |   41320 B |          NA |
/// </code>
/// </remarks>
public class BatchValidationBenchmarks
{
    private const long NowUnixMs = 1_763_900_000_000;
    private BatchValidator _validator = null!;
    private SampleBatch _batch = null!;
    private long _oldest;
    private long _newest;

    [Params(100)]
    public int SamplesPerBatch { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var options = new ReportOptions();
        _validator = new BatchValidator(Microsoft.Extensions.Options.Options.Create(options));
        _batch = SampleWorkload.CreateBatch("bench-host-0001", 1, SamplesPerBatch, NowUnixMs - 1_000);
        _oldest = NowUnixMs - (long)options.MaxSampleAge.TotalMilliseconds;
        _newest = NowUnixMs + (long)options.MaxFutureSkew.TotalMilliseconds;
        // Steady state: the host's series are already tracked by the cardinality guard.
        if (_validator.Validate(_batch, NowUnixMs).AcceptedCount != SamplesPerBatch)
        {
            throw new InvalidOperationException("the benchmark batch must be valid");
        }
    }

    [Benchmark(Baseline = true)]
    public int FiniteAndTimestampLoop()
    {
        int ok = 0;
        foreach (var sample in _batch.Samples)
        {
            if (double.IsFinite(sample.Value) && sample.TimestampUnixMs >= _oldest && sample.TimestampUnixMs <= _newest)
            {
                ok++;
            }
        }
        return ok;
    }

    [Benchmark]
    public int Validate() => _validator.Validate(_batch, NowUnixMs).AcceptedCount;

    /// <summary>
    /// Attribution only: the series-key construction <see cref="BatchValidator"/> runs for every sample of every
    /// batch (a copy of its private <c>SeriesKey</c>), to show how much of <see cref="Validate"/> it is.
    /// </summary>
    [Benchmark]
    public int SeriesKeysOnly()
    {
        int length = 0;
        foreach (var sample in _batch.Samples)
        {
            length += SeriesKeyCopy(sample).Length;
        }
        return length;
    }

    private static string SeriesKeyCopy(Sample sample)
    {
        if (sample.Labels.Count == 0)
        {
            return sample.Metric;
        }
        var keys = new string[sample.Labels.Count];
        sample.Labels.Keys.CopyTo(keys, 0);
        Array.Sort(keys, StringComparer.Ordinal);
        var sb = new System.Text.StringBuilder(sample.Metric);
        foreach (var k in keys)
        {
            sb.Append('\u0001').Append(k).Append('=').Append(sample.Labels[k]);
        }
        return sb.ToString();
    }
}
