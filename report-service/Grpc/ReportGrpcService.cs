using System.Text;
using System.Threading.Channels;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Monitor.Protos.V1;
using Monitor.ReportService.Options;
using Monitor.ReportService.Validation;
using Monitor.ServiceDefaults.Auth;

namespace Monitor.ReportService.Grpc;

/// <summary>
/// The agents' bidirectional stream. Batches are handled concurrently (bounded per stream) and
/// each is acked only after Kafka confirmed it; acks may therefore arrive out of order.
/// A failure to store a batch ends the call with Unavailable so the agent reconnects and resends
/// everything it has not seen acked. Callers present an agent token (<c>authorization: Bearer mona_…</c>); a per-host
/// token may only report batches of its own host id (else PermissionDenied).
/// </summary>
[RequireAgent]
internal sealed partial class ReportGrpcService : RawReportServiceBase
{
    private readonly BatchIngestor _ingestor;
    private readonly int _maxInFlightPerStream;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly ILogger<ReportGrpcService> _logger;

    public ReportGrpcService(BatchIngestor ingestor, IOptions<ReportOptions> options, IHostApplicationLifetime lifetime, ILogger<ReportGrpcService> logger)
    {
        _ingestor = ingestor;
        _maxInFlightPerStream = options.Value.MaxInFlightPerStream;
        _lifetime = lifetime;
        _logger = logger;
    }

    public override async Task Report(IAsyncStreamReader<RawSampleBatch> requestStream, IServerStreamWriter<ReportAck> responseStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(requestStream);
        ArgumentNullException.ThrowIfNull(responseStream);
        ArgumentNullException.ThrowIfNull(context);
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        var token = failed.Token;
        var allowedHostId = MonitorPrincipal.Of(context.GetHttpContext())?.HostId;
        var allowedHostIdUtf8 = allowedHostId is null ? null : Encoding.UTF8.GetBytes(allowedHostId);
        // On shutdown stop taking batches, finish the ones in flight, then end the call so the agent
        // moves to another instance at once instead of waiting for the host's shutdown timeout.
        using var reading = CancellationTokenSource.CreateLinkedTokenSource(token, _lifetime.ApplicationStopping);
        var stopping = false;
        RpcException? failure = null;
        var acks = Channel.CreateUnbounded<ReportAck>(new UnboundedChannelOptions { SingleReader = true });
        using var slots = new SemaphoreSlim(_maxInFlightPerStream, _maxInFlightPerStream);
        var inFlight = new List<Task>();

        // IServerStreamWriter allows one write at a time: one task writes every ack. Acks come in bursts (one Kafka
        // response confirms many batches), so each burst is buffered and flushed once with its last ack.
        var writer = Task.Run(async () =>
        {
            while (await acks.Reader.WaitToReadAsync(token).ConfigureAwait(false))
            {
                while (acks.Reader.TryRead(out var ack))
                {
                    responseStream.WriteOptions = acks.Reader.TryPeek(out _) ? BufferedWrite : null;
                    await responseStream.WriteAsync(ack, token).ConfigureAwait(false);
                }
            }
        }, token);

        async Task HandleAsync(PreparedBatch batch)
        {
            try
            {
                var ack = await _ingestor.CompleteAsync(batch, token).ConfigureAwait(false);
                acks.Writer.TryWrite(ack);
            }
            catch (RpcException ex)
            {
                Interlocked.CompareExchange(ref failure, ex, null);
                await failed.CancelAsync().ConfigureAwait(false);
            }
            finally
            {
                slots.Release();
            }
        }

        try
        {
            await foreach (var raw in requestStream.ReadAllAsync(reading.Token).ConfigureAwait(false))
            {
                PreparedBatch batch;
                try
                {
                    batch = Prepare(raw, allowedHostId, allowedHostIdUtf8);
                }
                catch (RpcException ex)
                {
                    Interlocked.CompareExchange(ref failure, ex, null);
                    await failed.CancelAsync().ConfigureAwait(false);
                    break;
                }
                await slots.WaitAsync(reading.Token).ConfigureAwait(false);
                inFlight.RemoveAll(static t => t.IsCompleted);
                inFlight.Add(HandleAsync(batch));
            }
            await Task.WhenAll(inFlight).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (failure is not null)
        {
            // A batch could not be stored: fall through and report why.
        }
        catch (OperationCanceledException) when (_lifetime.ApplicationStopping.IsCancellationRequested && !token.IsCancellationRequested)
        {
            await Task.WhenAll(inFlight).ConfigureAwait(false);
            stopping = true;
        }
        finally
        {
            acks.Writer.TryComplete();
        }

        if (failure is not null)
        {
            Log.StreamFailed(_logger, context.Peer, failure.StatusCode, failure.Status.Detail);
            throw failure;
        }
        await writer.ConfigureAwait(false);
        if (stopping && failure is null)
        {
            ThrowShuttingDown();
        }
    }

    /// <exception cref="RpcException">PermissionDenied: a per-host token reporting another host's batch; InvalidArgument: not a batch.</exception>
    private PreparedBatch Prepare(RawSampleBatch raw, string? allowedHostId, byte[]? allowedHostIdUtf8)
    {
        // The token's check comes before validation, so a foreign host's batch is neither counted nor tracked. Bytes
        // that do not yield a host id are left to the ingestor, which refuses them as malformed.
        if (allowedHostIdUtf8 is not null && BatchValidator.TryReadHostId(raw.Bytes, out var hostId) && !hostId.SequenceEqual(allowedHostIdUtf8))
        {
            throw new RpcException(new Status(StatusCode.PermissionDenied, $"authorization: this agent token may only report for host '{allowedHostId}'"));
        }
        return _ingestor.Prepare(raw);
    }

    /// <summary>Appends the ack to the response without flushing it: another ack follows at once.</summary>
    private static readonly WriteOptions BufferedWrite = new(WriteFlags.BufferHint);

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void ThrowShuttingDown() =>
        throw new RpcException(new Status(StatusCode.Unavailable, "report instance is shutting down; every batch received so far was acked, reconnect to another instance"));

    private static partial class Log
    {
        [LoggerMessage(EventId = 2010, EventName = "StreamFailed", Level = LogLevel.Warning,
            Message = "Report stream from {Peer} ended with {StatusCode}: {Detail}")]
        public static partial void StreamFailed(ILogger logger, string peer, StatusCode statusCode, string detail);
    }
}
