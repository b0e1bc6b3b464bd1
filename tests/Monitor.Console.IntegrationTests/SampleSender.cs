using System.Collections.Concurrent;
using Grpc.Core;
using Grpc.Net.Client;
using Monitor.Protos.V1;

namespace Monitor.Console.IntegrationTests;

/// <summary>
/// Writes host metrics through the real pipeline (report service → Kafka → persistence → InfluxDB, and the
/// warning service's stream): like an agent, one batch per host and second on a <c>Report</c> stream, with
/// per-core, per-mount and per-interface labels, after a backfill of the last <see cref="BackfillMinutes"/>
/// minutes so the charts have history. A test sets a host's CPU value to breach a rule.
/// </summary>
public sealed class SampleSender : IAsyncDisposable
{
    public const int BackfillMinutes = 20;

    private readonly GrpcChannel _channel;
    private readonly string[] _hosts;
    private readonly ConcurrentDictionary<string, double> _cpu = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly TaskCompletionSource _backfilled = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ulong _sequence;
    private long _acked;

    public SampleSender(string reportGrpcUrl, IEnumerable<string> hosts)
    {
        _channel = GrpcChannel.ForAddress(reportGrpcUrl);
        _hosts = hosts.ToArray();
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Batches the report service acknowledged so far.</summary>
    public long Acked => Interlocked.Read(ref _acked);

    /// <summary>The backfill covers [this − <see cref="BackfillMinutes"/> min, this), at 15 s steps; live samples follow.</summary>
    public long BackfillEndMs { get; private set; }

    /// <summary>Completes when the backfill batches were acknowledged.</summary>
    public Task Backfilled => _backfilled.Task;

    /// <summary>From now on, <paramref name="hostId"/> reports this <c>cpu_rate</c> (percent).</summary>
    public void SetCpu(string hostId, double percent) => _cpu[hostId] = percent;

    public static double DefaultCpu(string hostId, long ms) => 20 + (Math.Abs(hostId.GetHashCode(StringComparison.Ordinal)) % 20) + 5 * Math.Sin(ms / 60_000.0);

    private SampleBatch Batch(string host, long ms)
    {
        var batch = new SampleBatch { HostId = host, Sequence = ++_sequence, SentAtUnixMs = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds(), AgentVersion = "console-test" };
        var cpu = _cpu.TryGetValue(host, out var v) ? v : DefaultCpu(host, ms);
        void Add(string metric, double value, params (string Key, string Value)[] labels)
        {
            var s = new Sample { Metric = metric, Value = value, TimestampUnixMs = ms };
            foreach (var (k, lv) in labels)
            {
                s.Labels[k] = lv;
            }
            batch.Samples.Add(s);
        }
        Add("cpu_rate", cpu);
        Add("cpu_core_percent", Math.Min(100, cpu + 3), ("cpu", "cpu0"));
        Add("cpu_core_percent", Math.Max(0, cpu - 3), ("cpu", "cpu1"));
        Add("mem_rate", 55 + 3 * Math.Cos(ms / 90_000.0));
        Add("disk_used_percent", 41.5, ("mount", "/"));
        Add("disk_used_percent", 73.25, ("mount", "/data"));
        Add("net_rx_bytes_per_second", 120_000 + 40_000 * Math.Sin(ms / 45_000.0), ("iface", "eth0"));
        Add("net_tx_bytes_per_second", 60_000 + 20_000 * Math.Cos(ms / 45_000.0), ("iface", "eth0"));
        return batch;
    }

    private async Task RunAsync()
    {
        var client = new ReportService.ReportServiceClient(_channel);
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                using var call = client.Report(cancellationToken: _stop.Token);
                var pendingBackfill = 0L;
                var reader = Task.Run(async () =>
                {
                    await foreach (var ack in call.ResponseStream.ReadAllAsync(_stop.Token))
                    {
                        if (Interlocked.Increment(ref _acked) >= Interlocked.Read(ref pendingBackfill) && pendingBackfill > 0)
                        {
                            _backfilled.TrySetResult();
                        }
                    }
                });
                if (!_backfilled.Task.IsCompleted)
                {
                    var now = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds();
                    BackfillEndMs = now;
                    var batches = new List<SampleBatch>();
                    for (var ms = now - BackfillMinutes * 60_000L; ms < now - 1000; ms += 15_000)
                    {
                        batches.AddRange(_hosts.Select(h => Batch(h, ms)));
                    }
                    Interlocked.Exchange(ref pendingBackfill, Interlocked.Read(ref _acked) + batches.Count);
                    foreach (var b in batches)
                    {
                        await call.RequestStream.WriteAsync(b, _stop.Token);
                    }
                }
                while (!_stop.IsCancellationRequested)
                {
                    var ms = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds();
                    foreach (var h in _hosts)
                    {
                        await call.RequestStream.WriteAsync(Batch(h, ms), _stop.Token);
                    }
                    await Task.Delay(1000, _stop.Token);
                }
                await call.RequestStream.CompleteAsync();
                await reader;
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (RpcException) when (!_stop.IsCancellationRequested)
            {
                await Task.Delay(500);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _loop;
        }
        catch (OperationCanceledException)
        {
        }
        _channel.Dispose();
        _stop.Dispose();
    }
}
