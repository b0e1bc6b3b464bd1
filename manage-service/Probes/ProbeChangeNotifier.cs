using System.Globalization;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Monitor.ManageService.Registry;

namespace Monitor.ManageService.Probes;

/// <summary>
/// Tells the watch streams of this instance that the target store or the set of connected probers changed
/// (<see cref="NextChange"/> completes), and other manage instances through an etcd key bump
/// (<c>Probes:RevisionKey</c> = the store revision), which <see cref="ProbeRevisionWatcher"/> turns into a local pulse.
/// </summary>
internal sealed partial class ProbeChangeNotifier(EtcdConnection etcd, IOptions<ProbeOptions> options, ILogger<ProbeChangeNotifier> logger)
{
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes at the next change after this property was read.</summary>
    public Task NextChange => Volatile.Read(ref _next).Task;

    /// <summary>Wakes every stream of this instance.</summary>
    public void Pulse()
    {
        var previous = Interlocked.Exchange(ref _next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        previous.TrySetResult();
    }

    /// <summary>After a committed change: wakes the local streams, then bumps the etcd key (best effort; streams also resync periodically).</summary>
    public async Task ChangedAsync(long revision, CancellationToken cancellationToken)
    {
        Pulse();
        if (!etcd.Enabled)
        {
            return;
        }
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            await new KV.KVClient(etcd.Channel).PutAsync(new PutRequest
            {
                Key = ByteString.CopyFromUtf8(options.Value.RevisionKey),
                Value = ByteString.CopyFromUtf8(revision.ToString(CultureInfo.InvariantCulture)),
            }, cancellationToken: timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RpcException or HttpRequestException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            Log.BumpFailed(logger, options.Value.RevisionKey, ex);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 6120, EventName = "ProbeRevisionBumpFailed", Level = LogLevel.Warning,
            Message = "Could not bump {Key} in etcd; other manage instances pick the change up at their next resync")]
        public static partial void BumpFailed(ILogger logger, string key, Exception exception);
    }
}

/// <summary>Watches <c>Probes:RevisionKey</c> in etcd and pulses <see cref="ProbeChangeNotifier"/> on every change (from any instance).</summary>
internal sealed partial class ProbeRevisionWatcher(
    EtcdConnection etcd,
    ProbeChangeNotifier notifier,
    IOptions<ProbeOptions> options,
    TimeProvider timeProvider,
    ILogger<ProbeRevisionWatcher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!etcd.Enabled)
        {
            return;
        }
        var key = ByteString.CopyFromUtf8(options.Value.RevisionKey);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                using var call = new Watch.WatchClient(etcd.Channel).Watch(cancellationToken: stoppingToken);
                await call.RequestStream.WriteAsync(new WatchRequest { CreateRequest = new WatchCreateRequest { Key = key } }, stoppingToken).ConfigureAwait(false);
                await foreach (var response in call.ResponseStream.ReadAllAsync(stoppingToken).ConfigureAwait(false))
                {
                    if (response.Canceled)
                    {
                        throw new InvalidOperationException($"etcd cancelled the watch: {response.CancelReason}");
                    }
                    // Created (we may have missed bumps while disconnected) or an event: either way, recompute.
                    notifier.Pulse();
                }
                throw new InvalidOperationException("etcd ended the watch stream");
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex) when (ex is RpcException or InvalidOperationException or HttpRequestException or IOException)
            {
                Log.WatchFailed(logger, options.Value.RevisionKey, ex);
            }
            try
            {
                await Task.Delay(options.Value.RetryDelay, timeProvider, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 6121, EventName = "ProbeRevisionWatchFailed", Level = LogLevel.Warning, Message = "The etcd watch on {Key} failed; retrying")]
        public static partial void WatchFailed(ILogger logger, string key, Exception exception);
    }
}
