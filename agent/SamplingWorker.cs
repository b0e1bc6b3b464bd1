using Microsoft.Extensions.Options;
using Monitor.Agent.Collectors;
using Monitor.Agent.Options;
using Monitor.Agent.Sending;
using Monitor.Protos.V1;

namespace Monitor.Agent;

/// <summary>Every <c>Agent:Interval</c>, takes one snapshot and queues it as one batch.</summary>
internal sealed partial class SamplingWorker(
    HostCollector collector,
    PendingBatches pending,
    IOptions<AgentOptions> options,
    TimeProvider timeProvider,
    ILogger<SamplingWorker> logger) : BackgroundService
{
    private readonly AgentOptions _options = options.Value;

    // Seeded from the clock so that sequences keep increasing across restarts.
    private ulong _sequence = (ulong)timeProvider.GetUtcNow().ToUnixTimeMilliseconds() * 1000;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var hostId = _options.EffectiveHostId;
        Log.Started(logger, hostId, _options.Interval, _options.ReportAddresses);
        collector.Prime();
        using var timer = new PeriodicTimer(_options.Interval, timeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                var batch = new SampleBatch
                {
                    HostId = hostId,
                    Sequence = ++_sequence,
                    AgentVersion = ThisAssembly.Version,
                };
                collector.Collect(timeProvider.GetUtcNow().ToUnixTimeMilliseconds(), batch.Samples);
                if (batch.Samples.Count == 0)
                {
                    continue;
                }
                if (pending.Add(batch) is { } dropped)
                {
                    Log.Dropped(logger, dropped.Sequence, dropped.Samples.Count, pending.DroppedSamples);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4201, EventName = "AgentStarted", Level = LogLevel.Information,
            Message = "Agent for host {HostId} sampling every {Interval}, reporting to {Addresses}")]
        public static partial void Started(ILogger logger, string hostId, TimeSpan interval, IEnumerable<string> addresses);

        [LoggerMessage(EventId = 4202, EventName = "BatchDropped", Level = LogLevel.Error,
            Message = "Pending buffer full: dropped batch {Sequence} ({Samples} samples lost; {TotalLost} lost so far)")]
        public static partial void Dropped(ILogger logger, ulong sequence, int samples, long totalLost);
    }
}

internal static class ThisAssembly
{
    public static readonly string Version =
        typeof(ThisAssembly).Assembly.GetName().Version?.ToString() ?? "0.0.0";
}
