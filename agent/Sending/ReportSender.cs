using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Options;
using Monitor.Agent.Discovery;
using Monitor.Agent.Options;
using Monitor.Protos.V1;
using Polly;
using Polly.Retry;

namespace Monitor.Agent.Sending;

/// <summary>
/// Keeps one report stream open and sends every spooled batch, in sequence order, with at most
/// <see cref="MaxInFlight"/> unacknowledged. A batch leaves the spool only when its ack arrives.
/// When a stream fails the agent moves to the next instance at once if one is fresh, else backs off
/// (Polly: exponential, jittered, capped at <c>Agent:ReconnectMaxDelay</c>, unlimited attempts) and
/// resends everything unacknowledged; it never exits because a server is away.
/// </summary>
internal sealed partial class ReportSender : BackgroundService
{
    /// <summary>Most batches sent and not yet acknowledged on one stream (bounds memory while a backlog replays).</summary>
    public const int MaxInFlight = 256;

    private readonly Spool _spool;
    private readonly AckLedger _ledger;
    private readonly ReportEndpoints _endpoints;
    private readonly AgentStatus _status;
    private readonly AgentOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<ReportSender> _logger;
    private readonly ResiliencePipeline _pipeline;
    private long _streams;

    public ReportSender(Spool spool, AckLedger ledger, ReportEndpoints endpoints, AgentStatus status, IOptions<AgentOptions> options, TimeProvider timeProvider, ILogger<ReportSender> logger)
    {
        _spool = spool;
        _ledger = ledger;
        _endpoints = endpoints;
        _status = status;
        _options = options.Value;
        _timeProvider = timeProvider;
        _logger = logger;
        _pipeline = new ResiliencePipelineBuilder { TimeProvider = timeProvider }
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder()
                    .Handle<RpcException>()
                    .Handle<IOException>()
                    .Handle<HttpRequestException>()
                    .Handle<InvalidOperationException>()
                    .Handle<NoEndpointException>(),
                MaxRetryAttempts = int.MaxValue,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = _options.ReconnectInitialDelay,
                MaxDelay = _options.ReconnectMaxDelay,
                // Another instance that has not failed lately is tried at once: failover within one interval.
                DelayGenerator = args => new ValueTask<TimeSpan?>(
                    args.Outcome.Exception is not NoEndpointException && _endpoints.HasFreshCandidate ? TimeSpan.Zero : null),
            })
            .Build();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // One pipeline run lasts until a stream that made progress ends; then attempts start over.
                await _pipeline.ExecuteAsync(static (self, ct) => self.RunOnceAsync(ct), this, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        // Sampling has already stopped: give the open stream a moment to collect outstanding acks.
        // Whatever is not acknowledged stays in the spool for the next start.
        using var drain = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        drain.CancelAfter(_options.DrainTimeout);
        try
        {
            while (_spool.IsOpen && _spool.Count > 0)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50), _timeProvider, drain.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            Log.DrainIncomplete(_logger, _spool.Count, _spool.Directory);
        }
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask RunOnceAsync(CancellationToken stoppingToken)
    {
        if (_endpoints.Next() is not { } next)
        {
            Log.NoEndpoint(_logger);
            throw new NoEndpointException();
        }
        var (endpoint, gone) = next;
        if (Interlocked.Increment(ref _streams) > 1)
        {
            _status.AddReconnect();
        }
        using var abort = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, gone);
        var progress = new StreamProgress();
        try
        {
            await StreamAsync(endpoint.Address, progress, abort.Token).ConfigureAwait(false);
            Log.StreamEnded(_logger, endpoint.Address);
            _endpoints.MarkFailed(endpoint);
        }
        catch (Exception ex) when (stoppingToken.IsCancellationRequested && ex is OperationCanceledException or RpcException)
        {
            throw new OperationCanceledException("stopping", ex, stoppingToken);
        }
        catch (Exception ex) when (gone.IsCancellationRequested && ex is OperationCanceledException or RpcException)
        {
            Log.InstanceLeft(_logger, endpoint.Address, _spool.Count);
            _endpoints.MarkFailed(endpoint);
        }
        catch (Exception ex) when (ex is RpcException or IOException or HttpRequestException or InvalidOperationException)
        {
            Log.StreamFailed(_logger, endpoint.Address, _spool.Count, ex.Message);
            _endpoints.MarkFailed(endpoint);
            if (progress.Acks == 0)
            {
                throw;
            }
        }
    }

    /// <summary>A channel to one report address; over https the server is verified against <c>Agent:CaCertificatePath</c> when set.</summary>
    internal static GrpcChannel CreateChannel(string address, AgentOptions options)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromSeconds(5),
            KeepAlivePingDelay = TimeSpan.FromSeconds(15),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(10),
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always,
        };
        if (!string.IsNullOrEmpty(options.CaCertificatePath))
        {
            var authorities = new System.Security.Cryptography.X509Certificates.X509Certificate2Collection();
            authorities.ImportFromPemFile(options.CaCertificatePath);
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
            {
                if (certificate is null || (errors & System.Net.Security.SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
                {
                    return false;
                }
                using var chain = new System.Security.Cryptography.X509Certificates.X509Chain();
                chain.ChainPolicy.TrustMode = System.Security.Cryptography.X509Certificates.X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.RevocationMode = System.Security.Cryptography.X509Certificates.X509RevocationMode.NoCheck;
                chain.ChainPolicy.CustomTrustStore.AddRange(authorities);
                using var leaf = new System.Security.Cryptography.X509Certificates.X509Certificate2(certificate);
                return chain.Build(leaf);
            };
        }
        return GrpcChannel.ForAddress(address, new GrpcChannelOptions { HttpHandler = handler });
    }

    /// <summary>The report stream's metadata: the agent token as <c>authorization: Bearer …</c> when configured.</summary>
    internal static Metadata? CreateHeaders(AgentOptions options) =>
        options.ResolveToken() is { } agentToken ? new Metadata { { "authorization", "Bearer " + agentToken } } : null;

    private sealed class StreamProgress
    {
        public long Acks;
    }

    /// <summary>Runs one stream until it fails (throws) or the server ends it (returns).</summary>
    private async Task StreamAsync(string address, StreamProgress progress, CancellationToken token)
    {
        using var channel = CreateChannel(address, _options);
        var client = new ReportService.ReportServiceClient(channel);
        using var streamCts = CancellationTokenSource.CreateLinkedTokenSource(token);
        using var call = client.Report(CreateHeaders(_options), cancellationToken: streamCts.Token);
        Log.Connected(_logger, address, _spool.Count);

        var reader = Task.Run(async () =>
        {
            await foreach (var ack in call.ResponseStream.ReadAllAsync(streamCts.Token).ConfigureAwait(false))
            {
                if (Interlocked.Increment(ref progress.Acks) == 1)
                {
                    _endpoints.MarkHealthy(new ReportEndpoint(address, address));
                }
                if (_ledger.Enabled && _spool.Read(ack.Sequence) is { } batch)
                {
                    // Ledger first, then delete: a crash in between replays the batch (an idempotent duplicate).
                    _ledger.Record(batch, ack);
                }
                _spool.Remove(ack.Sequence);
                if (ack.Rejections.Count > 0)
                {
                    Log.Rejected(_logger, ack.Sequence, ack.Rejections.Count, ack.Rejections[0].Reason, ack.Rejections[0].Detail);
                }
                if (ack.ClockSkewed)
                {
                    Log.ClockSkewed(_logger, ack.ClockSkewMs);
                }
            }
        }, streamCts.Token);

        try
        {
            ulong lastSent = 0;
            while (true)
            {
                var changed = _spool.WaitForChangeAsync(streamCts.Token);
                var window = MaxInFlight - _spool.CountUpTo(lastSent);
                if (window > 0)
                {
                    foreach (var sequence in _spool.After(lastSent, window))
                    {
                        lastSent = sequence;
                        if (_spool.Read(sequence) is not { } batch)
                        {
                            continue;
                        }
                        batch.SentAtUnixMs = _timeProvider.GetUtcNow().ToUnixTimeMilliseconds();
                        await call.RequestStream.WriteAsync(batch, streamCts.Token).ConfigureAwait(false);
                    }
                }
                var finished = await Task.WhenAny(changed, reader).ConfigureAwait(false);
                streamCts.Token.ThrowIfCancellationRequested();
                if (finished == reader)
                {
                    await reader.ConfigureAwait(false);
                    return;
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

    /// <summary>Thrown when there is no instance to stream to (etcd lists none and no fixed address is set).</summary>
    private sealed class NoEndpointException() : Exception("no report-service instance known");

    private static partial class Log
    {
        [LoggerMessage(EventId = 4101, EventName = "Connected", Level = LogLevel.Information,
            Message = "Streaming to {Address}; {Pending} batch(es) spooled")]
        public static partial void Connected(ILogger logger, string address, int pending);

        [LoggerMessage(EventId = 4102, EventName = "StreamFailed", Level = LogLevel.Warning,
            Message = "Stream to {Address} failed ({Pending} batch(es) spooled, kept for resend): {Error}")]
        public static partial void StreamFailed(ILogger logger, string address, int pending, string error);

        [LoggerMessage(EventId = 4103, EventName = "StreamEnded", Level = LogLevel.Information,
            Message = "Stream to {Address} ended by the server; reconnecting")]
        public static partial void StreamEnded(ILogger logger, string address);

        [LoggerMessage(EventId = 4104, EventName = "SamplesRejected", Level = LogLevel.Warning,
            Message = "Batch {Sequence}: {Count} sample(s) rejected, first {Reason}: {Detail}")]
        public static partial void Rejected(ILogger logger, ulong sequence, int count, string reason, string detail);

        [LoggerMessage(EventId = 4105, EventName = "ClockSkewed", Level = LogLevel.Warning,
            Message = "The report service says this host's clock is off by {SkewMs} ms; check NTP")]
        public static partial void ClockSkewed(ILogger logger, long skewMs);

        [LoggerMessage(EventId = 4106, EventName = "DrainIncomplete", Level = LogLevel.Warning,
            Message = "Stopping with {Pending} unacknowledged batch(es); they stay in the spool {Directory} and are sent after the next start")]
        public static partial void DrainIncomplete(ILogger logger, int pending, string directory);

        [LoggerMessage(EventId = 4107, EventName = "InstanceLeft", Level = LogLevel.Warning,
            Message = "Report instance {Address} left etcd; failing over ({Pending} batch(es) spooled, kept for resend)")]
        public static partial void InstanceLeft(ILogger logger, string address, int pending);

        [LoggerMessage(EventId = 4108, EventName = "NoReportInstance", Level = LogLevel.Warning,
            Message = "No report-service instance known yet (etcd lists none, no Agent:ReportAddresses); waiting")]
        public static partial void NoEndpoint(ILogger logger);
    }
}
