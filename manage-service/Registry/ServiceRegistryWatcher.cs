using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Monitor.ManageService.Extensions;
using Monitor.ManageService.Options;

namespace Monitor.ManageService.Registry;

/// <summary>
/// Keeps <see cref="ServiceRegistryView"/> current: a range read of the prefix, then a watch from the next revision
/// (so no change between the two is lost). When the stream breaks it reconnects (next endpoint) and starts over
/// from a fresh snapshot. Watch-driven: etcd pushes every put and delete, nothing is polled.
/// </summary>
internal sealed partial class ServiceRegistryWatcher(
    EtcdConnection etcd,
    ServiceRegistryView view,
    TimeProvider timeProvider,
    IOptions<ManageOptions> options,
    ManageMetrics metrics,
    ILogger<ServiceRegistryWatcher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!etcd.Enabled)
        {
            Log.Disabled(logger);
            return;
        }
        var key = ByteString.CopyFromUtf8(view.Prefix);
        var rangeEnd = ByteString.CopyFromUtf8(RangeEnd(view.Prefix));
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var channel = etcd.Channel;
                var range = await new KV.KVClient(channel).RangeAsync(new RangeRequest { Key = key, RangeEnd = rangeEnd }, cancellationToken: stoppingToken).ConfigureAwait(false);
                view.Reset(range.Kvs.Select(kv => (kv.Key.ToStringUtf8(), kv.Value.ToStringUtf8(), kv.Lease)));
                metrics.RegistryEvent("snapshot");

                using var call = new Watch.WatchClient(channel).Watch(cancellationToken: stoppingToken);
                await call.RequestStream.WriteAsync(new WatchRequest
                {
                    CreateRequest = new WatchCreateRequest { Key = key, RangeEnd = rangeEnd, StartRevision = range.Header.Revision + 1 },
                }, stoppingToken).ConfigureAwait(false);

                await foreach (var response in call.ResponseStream.ReadAllAsync(stoppingToken).ConfigureAwait(false))
                {
                    if (response.Created)
                    {
                        view.Synced = true;
                        Log.Watching(logger, view.Prefix, etcd.CurrentEndpoint, range.Kvs.Count, range.Header.Revision);
                    }
                    if (response.Canceled)
                    {
                        throw new InvalidOperationException($"etcd cancelled the watch: {response.CancelReason} (compacted at {response.CompactRevision})");
                    }
                    foreach (var ev in response.Events)
                    {
                        var k = ev.Kv.Key.ToStringUtf8();
                        if (ev.Type == Mvccpb.Event.Types.EventType.Put)
                        {
                            view.Put(k, ev.Kv.Value.ToStringUtf8(), ev.Kv.Lease);
                            metrics.RegistryEvent("put");
                            Log.InstancePut(logger, k);
                        }
                        else
                        {
                            view.Delete(k, timeProvider.GetUtcNow());
                            metrics.RegistryEvent("delete");
                            Log.InstanceGone(logger, k);
                        }
                    }
                }
                throw new InvalidOperationException("etcd ended the watch stream");
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex) when (ex is RpcException or InvalidOperationException or HttpRequestException or IOException)
            {
                view.Synced = false;
                Log.WatchFailed(logger, etcd.CurrentEndpoint, ex);
                etcd.Rotate();
            }
            try
            {
                await Task.Delay(options.Value.Registry.RetryDelay, timeProvider, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    /// <summary>The etcd range end that covers every key starting with <paramref name="prefix"/>.</summary>
    internal static string RangeEnd(string prefix) => prefix[..^1] + (char)(prefix[^1] + 1);

    private static partial class Log
    {
        [LoggerMessage(EventId = 6040, EventName = "RegistryDisabled", Level = LogLevel.Warning, Message = "Etcd:Endpoints is empty: the service registry view stays empty")]
        public static partial void Disabled(ILogger logger);

        [LoggerMessage(EventId = 6041, EventName = "RegistryWatching", Level = LogLevel.Information,
            Message = "Watching {Prefix} on {Endpoint} ({Count} instances at revision {Revision})")]
        public static partial void Watching(ILogger logger, string prefix, string endpoint, int count, long revision);

        [LoggerMessage(EventId = 6042, EventName = "RegistryWatchFailed", Level = LogLevel.Warning, Message = "The etcd watch on {Endpoint} failed; reconnecting")]
        public static partial void WatchFailed(ILogger logger, string endpoint, Exception exception);

        [LoggerMessage(EventId = 6043, EventName = "RegistryInstancePut", Level = LogLevel.Debug, Message = "Registry: {Key} registered or updated")]
        public static partial void InstancePut(ILogger logger, string key);

        [LoggerMessage(EventId = 6044, EventName = "RegistryInstanceGone", Level = LogLevel.Information, Message = "Registry: {Key} is gone (lease expired or revoked)")]
        public static partial void InstanceGone(ILogger logger, string key);
    }
}
