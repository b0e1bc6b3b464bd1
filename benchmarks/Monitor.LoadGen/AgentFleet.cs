using System.Diagnostics;
using Grpc.Core;
using Grpc.Net.Client;
using Monitor.Benchmarks.Shared;
using Monitor.Protos.V1;

namespace Monitor.LoadGen;

/// <summary>Counters shared by every simulated agent of one phase (updated with Interlocked).</summary>
internal sealed class IngestCounters
{
    private readonly List<double> _ackLatencyMs = [];
    public long SentBatches;
    public long SentSamples;
    public long AckedBatches;
    public long AckedSamples;
    public long RejectedSamples;
    public long StreamErrors;
    public string? LastError;

    /// <summary>Record send-to-ack latency of every batch (rate mode; too many to keep in max mode).</summary>
    public bool RecordAckLatency { get; init; }

    public void AckLatency(TimeSpan elapsed)
    {
        lock (_ackLatencyMs)
        {
            _ackLatencyMs.Add(elapsed.TotalMilliseconds);
        }
    }

    public double[] AckLatencies()
    {
        lock (_ackLatencyMs)
        {
            return [.. _ackLatencyMs];
        }
    }

    public void ClearAckLatencies()
    {
        lock (_ackLatencyMs)
        {
            _ackLatencyMs.Clear();
        }
    }
}

/// <summary>
/// N simulated agents, each one bidirectional <c>monitor.v1.ReportService/Report</c> stream with host id
/// <c>load-{i}</c>, spread round-robin over the target URLs. The same code drives the no-op sink and the real
/// report services, so the two figures differ only in the server.
/// </summary>
internal sealed class AgentFleet : IDisposable
{
    private readonly GrpcChannel[] _channels;

    public AgentFleet(IReadOnlyList<string> urls)
    {
        _channels = [.. urls.Select(u => GrpcChannel.ForAddress(u, new GrpcChannelOptions
        {
            // 1,000 streams need more than one HTTP/2 connection (Kestrel allows 100 streams per connection).
            HttpHandler = new SocketsHttpHandler
            {
                EnableMultipleHttp2Connections = true,
                PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            },
        }))];
    }

    public static string HostId(int index) => $"load-{index}";

    /// <summary>Max mode: every stream keeps <paramref name="window"/> batches in flight and sends the next as soon as one is acked.</summary>
    public Task RunMaxAsync(int hosts, int samplesPerBatch, int window, IngestCounters counters, CancellationToken stop)
    {
        var now = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds();
        return Task.WhenAll(Enumerable.Range(0, hosts).Select(i =>
        {
            // Samples are immutable once built, so every batch of a host shares them (only the envelope is new).
            var template = new List<Sample>(samplesPerBatch);
            SampleWorkload.AddSamples(template, samplesPerBatch, now, seed: i);
            var hostId = HostId(i);
            return RunStreamAsync(i, seq =>
            {
                var batch = new SampleBatch { HostId = hostId, Sequence = seq, SentAtUnixMs = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds() };
                batch.Samples.AddRange(template);
                return batch;
            }, window, period: null, offset: TimeSpan.Zero, counters, stop);
        }));
    }

    /// <summary>Rate mode: every host sends one fresh snapshot (timestamp = now) every 1/<paramref name="hz"/> s, hosts evenly staggered.</summary>
    public Task RunRateAsync(int hosts, double hz, int samplesPerBatch, IngestCounters counters, Action<int, long>? onSent, CancellationToken stop,
        Action<int, ulong, SampleBatch>? shape = null)
    {
        var period = TimeSpan.FromSeconds(1 / hz);
        return Task.WhenAll(Enumerable.Range(0, hosts).Select(i =>
        {
            var hostId = HostId(i);
            return RunStreamAsync(i, seq =>
            {
                var now = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds();
                var batch = SampleWorkload.CreateBatch(hostId, seq, samplesPerBatch, now, seed: (int)seq + i);
                shape?.Invoke(i, seq, batch);
                onSent?.Invoke(i, now);
                return batch;
            }, window: 8, period, offset: period * i / hosts, counters, stop);
        }));
    }

    private async Task RunStreamAsync(int index, Func<ulong, SampleBatch> next, int window, TimeSpan? period, TimeSpan offset, IngestCounters counters, CancellationToken stop)
    {
        var client = new ReportService.ReportServiceClient(_channels[index % _channels.Length]);
        using var call = client.Report(cancellationToken: CancellationToken.None);
        using var slots = new SemaphoreSlim(window, window);
        var sentAt = new System.Collections.Concurrent.ConcurrentDictionary<ulong, long>();
        var reader = Task.Run(async () =>
        {
            await foreach (var ack in call.ResponseStream.ReadAllAsync())
            {
                Interlocked.Increment(ref counters.AckedBatches);
                Interlocked.Add(ref counters.AckedSamples, ack.AcceptedCount);
                Interlocked.Add(ref counters.RejectedSamples, ack.Rejections.Count);
                if (sentAt.TryRemove(ack.Sequence, out var started) && counters.RecordAckLatency)
                {
                    counters.AckLatency(Stopwatch.GetElapsedTime(started));
                }
                slots.Release();
            }
        }, CancellationToken.None);

        try
        {
            ulong sequence = 0;
            var nextTick = Stopwatch.GetTimestamp() + (long)(offset.TotalSeconds * Stopwatch.Frequency);
            while (!stop.IsCancellationRequested)
            {
                if (period is { } p)
                {
                    var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), nextTick);
                    if (wait > TimeSpan.Zero)
                    {
                        await Task.Delay(wait, stop);
                    }
                    nextTick += (long)(p.TotalSeconds * Stopwatch.Frequency);
                }
                await slots.WaitAsync(stop);
                var batch = next(++sequence);
                sentAt[sequence] = Stopwatch.GetTimestamp();
                // No cancellation token on the write itself: cancelling mid-write would abort the whole call.
                await call.RequestStream.WriteAsync(batch, CancellationToken.None);
                Interlocked.Increment(ref counters.SentBatches);
                Interlocked.Add(ref counters.SentSamples, batch.Samples.Count);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        catch (RpcException ex)
        {
            Interlocked.Increment(ref counters.StreamErrors);
            counters.LastError = $"{HostId(index)}: {ex.StatusCode} {ex.Status.Detail}";
            return;
        }

        try
        {
            await call.RequestStream.CompleteAsync();
            // Let the outstanding batches be acked (the report service acks only after Kafka).
            await reader.WaitAsync(TimeSpan.FromSeconds(15), CancellationToken.None);
        }
        catch (Exception ex) when (ex is RpcException or TimeoutException or InvalidOperationException)
        {
            Interlocked.Increment(ref counters.StreamErrors);
            counters.LastError = $"{HostId(index)}: {ex.Message}";
        }
    }

    public void Dispose()
    {
        foreach (var channel in _channels)
        {
            channel.Dispose();
        }
    }
}
