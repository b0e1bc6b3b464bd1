using Microsoft.Extensions.Options;
using Monitor.Agent.Collectors;
using Monitor.Agent.Options;
using Monitor.Agent.Sending;
using Monitor.Protos.V1;

namespace Monitor.Agent;

/// <summary>Every <c>Agent:Interval</c>, takes one snapshot and writes it to the spool as one batch.</summary>
internal sealed partial class SamplingWorker(
    HostCollector collector,
    Spool spool,
    IOptions<AgentOptions> options,
    TimeProvider timeProvider,
    ILogger<SamplingWorker> logger) : BackgroundService
{
    private readonly AgentOptions _options = options.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var hostId = _options.EffectiveHostId;
        Log.Started(logger, hostId, _options.Interval, _options.Discovery.EtcdEndpoints.Count > 0 ? _options.Discovery.EtcdEndpoints : _options.ReportAddresses);
        using var timer = new PeriodicTimer(_options.Interval, timeProvider);
        try
        {
            await collector.PrimeAsync(stoppingToken).ConfigureAwait(false);
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    var timestamp = timeProvider.GetUtcNow().ToUnixTimeMilliseconds();
                    var batch = new SampleBatch { HostId = hostId, Sequence = spool.NextSequence(), AgentVersion = ThisAssembly.Version };
                    await collector.CollectAsync(timestamp, batch.Samples, stoppingToken).ConfigureAwait(false);
                    spool.Append(batch);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    Log.SnapshotFailed(logger, ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4201, EventName = "AgentStarted", Level = LogLevel.Information,
            Message = "Agent for host {HostId} sampling every {Interval}, reporting to {Addresses}")]
        public static partial void Started(ILogger logger, string hostId, TimeSpan interval, IEnumerable<string> addresses);

        [LoggerMessage(EventId = 4202, EventName = "SnapshotFailed", Level = LogLevel.Error,
            Message = "Could not take or spool this snapshot; trying again next interval")]
        public static partial void SnapshotFailed(ILogger logger, Exception exception);
    }
}

internal static class ThisAssembly
{
    public static readonly string Version =
        typeof(ThisAssembly).Assembly.GetName().Version?.ToString() ?? "0.0.0";
}
