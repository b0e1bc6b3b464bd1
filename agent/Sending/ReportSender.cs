using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Options;
using Monitor.Agent.Options;
using Monitor.Protos.V1;

namespace Monitor.Agent.Sending;

/// <summary>
/// Keeps one report stream open and sends every pending batch, in order. A batch leaves the
/// pending set only when its ack arrives. On any failure the agent backs off (jittered,
/// exponential), moves to the next report address and resends everything unacknowledged; it
/// never exits because a server is away.
/// </summary>
internal sealed partial class ReportSender(
    PendingBatches pending,
    AckLedger ledger,
    IOptions<AgentOptions> options,
    TimeProvider timeProvider,
    ILogger<ReportSender> logger) : BackgroundService
{
    private readonly AgentOptions _options = options.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var addressIndex = 0;
        var delay = _options.ReconnectInitialDelay;
        while (!stoppingToken.IsCancellationRequested)
        {
            var address = _options.ReportAddresses[addressIndex % _options.ReportAddresses.Count];
            var acked = 0L;
            try
            {
                acked = await StreamAsync(address, stoppingToken).ConfigureAwait(false);
                Log.StreamEnded(logger, address);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex) when (ex is RpcException or IOException or HttpRequestException or InvalidOperationException)
            {
                Log.StreamFailed(logger, address, pending.Count, ex.Message);
            }

            // A stream that made progress resets the backoff; a dead address moves us on.
            delay = acked > 0 ? _options.ReconnectInitialDelay : TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.ReconnectMaxDelay.Ticks));
            addressIndex++;
            try
            {
                await Task.Delay(delay * (0.5 + Random.Shared.NextDouble() * 0.5), timeProvider, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        // Sampling has already stopped: give the open stream a moment to collect outstanding acks.
        using var drain = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        drain.CancelAfter(_options.DrainTimeout);
        try
        {
            while (pending.Count > 0)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50), timeProvider, drain.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            Log.DrainIncomplete(logger, pending.Count);
        }
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Runs one stream until it fails; returns the number of acks it received.</summary>
    private async Task<long> StreamAsync(string address, CancellationToken stoppingToken)
    {
        using var channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler
            {
                ConnectTimeout = TimeSpan.FromSeconds(5),
                KeepAlivePingDelay = TimeSpan.FromSeconds(15),
                KeepAlivePingTimeout = TimeSpan.FromSeconds(10),
                KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always,
            },
        });
        var client = new ReportService.ReportServiceClient(channel);
        using var streamCts = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        using var call = client.Report(cancellationToken: streamCts.Token);
        Log.Connected(logger, address, pending.Count);

        long acks = 0;
        var reader = Task.Run(async () =>
        {
            await foreach (var ack in call.ResponseStream.ReadAllAsync(streamCts.Token).ConfigureAwait(false))
            {
                acks++;
                var batch = pending.Remove(ack.Sequence);
                if (batch is null)
                {
                    continue;
                }
                ledger.Record(batch, ack);
                if (ack.Rejections.Count > 0)
                {
                    Log.Rejected(logger, ack.Sequence, ack.Rejections.Count, ack.Rejections[0].Reason, ack.Rejections[0].Detail);
                }
                if (ack.ClockSkewed)
                {
                    Log.ClockSkewed(logger, ack.ClockSkewMs);
                }
            }
        }, streamCts.Token);

        try
        {
            ulong lastSent = 0;
            while (true)
            {
                var waitForAdd = pending.WaitForAddAsync(streamCts.Token);
                foreach (var batch in pending.After(lastSent))
                {
                    batch.SentAtUnixMs = timeProvider.GetUtcNow().ToUnixTimeMilliseconds();
                    await call.RequestStream.WriteAsync(batch, streamCts.Token).ConfigureAwait(false);
                    lastSent = batch.Sequence;
                }
                var finished = await Task.WhenAny(waitForAdd, reader).ConfigureAwait(false);
                streamCts.Token.ThrowIfCancellationRequested();
                if (finished == reader)
                {
                    await reader.ConfigureAwait(false);
                    return acks;
                }
            }
        }
        finally
        {
            await streamCts.CancelAsync().ConfigureAwait(false);
            try
            {
                await reader.ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or RpcException or IOException)
            {
                // The stream is being torn down; its outcome was already handled.
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4101, EventName = "Connected", Level = LogLevel.Information,
            Message = "Streaming to {Address}; {Pending} batch(es) pending")]
        public static partial void Connected(ILogger logger, string address, int pending);

        [LoggerMessage(EventId = 4102, EventName = "StreamFailed", Level = LogLevel.Warning,
            Message = "Stream to {Address} failed ({Pending} batch(es) pending, kept for resend): {Error}")]
        public static partial void StreamFailed(ILogger logger, string address, int pending, string error);

        [LoggerMessage(EventId = 4103, EventName = "StreamEnded", Level = LogLevel.Information,
            Message = "Stream to {Address} ended by the server; reconnecting")]
        public static partial void StreamEnded(ILogger logger, string address);

        [LoggerMessage(EventId = 4104, EventName = "SamplesRejected", Level = LogLevel.Warning,
            Message = "Batch {Sequence}: {Count} sample(s) rejected, first {Reason}: {Detail}")]
        public static partial void Rejected(ILogger logger, ulong sequence, int count, string reason, string detail);

        [LoggerMessage(EventId = 4106, EventName = "DrainIncomplete", Level = LogLevel.Warning,
            Message = "Stopping with {Pending} unacknowledged batch(es); they are lost unless spooled")]
        public static partial void DrainIncomplete(ILogger logger, int pending);

        [LoggerMessage(EventId = 4105, EventName = "ClockSkewed", Level = LogLevel.Warning,
            Message = "The report service says this host's clock is off by {SkewMs} ms; check NTP")]
        public static partial void ClockSkewed(ILogger logger, long skewMs);
    }
}
