using System.Collections.Concurrent;
using Grpc.Core;
using Grpc.Net.Client;
using Monitor.Protos.V1;

namespace Monitor.TestUtilities;

/// <summary>
/// A synthetic agent for chaos tests: streams batches for one host to a list of report addresses,
/// moves to the next address when a stream fails, resends everything unacknowledged, and keeps a
/// ledger of every sample the report services acknowledged (the "sent" side of sent-vs-stored).
/// </summary>
public sealed class TrafficClient : IAsyncDisposable
{
    private readonly string[] _addresses;
    private readonly SortedDictionary<ulong, SampleBatch> _unacked = [];
    private readonly ConcurrentDictionary<string, double> _acked = new();
    private readonly List<ReportAck> _acks = [];
    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _sender;
    private readonly Task _producer;
    private ulong _sequence;
    private int _pauseProducing;

    public TrafficClient(string hostId, IEnumerable<string> addresses, TimeSpan interval, int samplesPerBatch = 10)
    {
        HostId = hostId;
        _addresses = addresses.ToArray();
        _producer = Task.Run(() => ProduceAsync(interval, samplesPerBatch));
        _sender = Task.Run(SendLoopAsync);
    }

    public string HostId { get; }
    public int Failovers { get; private set; }
    public string? LastAddress { get; private set; }

    /// <summary>point key (measurement@timestampMs) -> value, for every acknowledged sample.</summary>
    public IReadOnlyDictionary<string, double> Acked => _acked;

    public int Unacked
    {
        get
        {
            lock (_lock)
            {
                return _unacked.Count;
            }
        }
    }

    public IReadOnlyList<ReportAck> Acks
    {
        get
        {
            lock (_lock)
            {
                return _acks.ToList();
            }
        }
    }

    /// <summary>Stops creating batches and waits until every batch taken so far is acknowledged.</summary>
    public async Task StopProducingAndDrainAsync(TimeSpan timeout)
    {
        Interlocked.Exchange(ref _pauseProducing, 1);
        await _producer;
        await Poll.UntilAsync(() => Unacked == 0, timeout, $"{HostId}: all batches acknowledged");
    }

    private async Task ProduceAsync(TimeSpan interval, int samplesPerBatch)
    {
        var ts = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds();
        while (!_stop.IsCancellationRequested && Volatile.Read(ref _pauseProducing) == 0)
        {
            ts += 1; // strictly increasing timestamps: every sample is its own point
            var batch = new SampleBatch { HostId = HostId, Sequence = ++_sequence };
            for (int i = 0; i < samplesPerBatch; i++)
            {
                batch.Samples.Add(new Sample
                {
                    Metric = i % 2 == 0 ? "chaos_a" : "chaos_b",
                    Value = Random.Shared.NextDouble() * 100,
                    TimestampUnixMs = ts + (i / 2),
                });
            }
            ts += samplesPerBatch;
            lock (_lock)
            {
                _unacked[batch.Sequence] = batch;
            }
            try
            {
                await Task.Delay(interval, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    private async Task SendLoopAsync()
    {
        var index = 0;
        while (!_stop.IsCancellationRequested)
        {
            var address = _addresses[index % _addresses.Length];
            LastAddress = address;
            try
            {
                await StreamAsync(address);
            }
            catch (Exception ex) when (ex is RpcException or IOException or HttpRequestException or OperationCanceledException or InvalidOperationException)
            {
                if (_stop.IsCancellationRequested)
                {
                    return;
                }
            }
            Failovers++;
            index++;
            try
            {
                await Task.Delay(200, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task StreamAsync(string address)
    {
        using var channel = GrpcChannel.ForAddress(address);
        var client = new ReportService.ReportServiceClient(channel);
        using var call = client.Report(cancellationToken: _stop.Token);
        var reader = Task.Run(async () =>
        {
            await foreach (var ack in call.ResponseStream.ReadAllAsync(_stop.Token))
            {
                SampleBatch? batch;
                lock (_lock)
                {
                    _acks.Add(ack);
                    _unacked.Remove(ack.Sequence, out batch);
                }
                if (batch is null)
                {
                    continue;
                }
                var rejected = ack.Rejections.Select(r => r.Index).ToHashSet();
                for (int i = 0; i < batch.Samples.Count; i++)
                {
                    if (!rejected.Contains(i) && !rejected.Contains(-1))
                    {
                        var s = batch.Samples[i];
                        _acked[$"{s.Metric}@{s.TimestampUnixMs}"] = s.Value;
                    }
                }
            }
        });
        ulong lastSent = 0;
        while (!reader.IsCompleted)
        {
            List<SampleBatch> toSend;
            lock (_lock)
            {
                toSend = _unacked.Where(kv => kv.Key > lastSent).Select(kv => kv.Value).ToList();
            }
            foreach (var batch in toSend)
            {
                await call.RequestStream.WriteAsync(batch, _stop.Token);
                lastSent = batch.Sequence;
            }
            await Task.WhenAny(reader, Task.Delay(20, _stop.Token));
        }
        await reader;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await Task.WhenAll(_sender, _producer);
        }
        catch (OperationCanceledException)
        {
        }
        _stop.Dispose();
    }
}
