using Google.Protobuf.Collections;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Monitor.ManageService.Extensions;
using Monitor.ManageService.Options;
using Monitor.ServiceDefaults.Discovery;
using Mvccpb;

namespace Monitor.ManageService.Registry;

/// <summary>
/// Keeps <see cref="ServiceRegistryView"/> current through <see cref="EtcdPrefixWatch"/>: a range read of the prefix,
/// then a watch from the next revision (so no change between the two is lost). When the stream breaks it reconnects (next endpoint) and starts over
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
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await EtcdPrefixWatch.RunAsync(etcd.Channel, view.Prefix, OnSnapshot, OnEvents, stoppingToken).ConfigureAwait(false);
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

    private ValueTask OnSnapshot(RepeatedField<KeyValue> kvs)
    {
        view.Reset(kvs.Select(kv => (kv.Key.ToStringUtf8(), kv.Value.ToStringUtf8(), kv.Lease)));
        metrics.RegistryEvent("snapshot");
        // The watch that follows starts at the snapshot's next revision, so from here on nothing is missed.
        view.Synced = true;
        Log.Watching(logger, view.Prefix, etcd.CurrentEndpoint, kvs.Count);
        return ValueTask.CompletedTask;
    }

    private ValueTask OnEvents(RepeatedField<Event> events)
    {
        foreach (var ev in events)
        {
            var k = ev.Kv.Key.ToStringUtf8();
            if (ev.Type == Event.Types.EventType.Put)
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
        return ValueTask.CompletedTask;
    }

    /// <summary>The etcd range end that covers every key starting with <paramref name="prefix"/>.</summary>
    internal static string RangeEnd(string prefix) => EtcdPrefixWatch.RangeEnd(prefix);

    private static partial class Log
    {
        [LoggerMessage(EventId = 6040, EventName = "RegistryDisabled", Level = LogLevel.Warning, Message = "Etcd:Endpoints is empty: the service registry view stays empty")]
        public static partial void Disabled(ILogger logger);

        [LoggerMessage(EventId = 6041, EventName = "RegistryWatching", Level = LogLevel.Information,
            Message = "Watching {Prefix} on {Endpoint} ({Count} instances)")]
        public static partial void Watching(ILogger logger, string prefix, string endpoint, int count);

        [LoggerMessage(EventId = 6042, EventName = "RegistryWatchFailed", Level = LogLevel.Warning, Message = "The etcd watch on {Endpoint} failed; reconnecting")]
        public static partial void WatchFailed(ILogger logger, string endpoint, Exception exception);

        [LoggerMessage(EventId = 6043, EventName = "RegistryInstancePut", Level = LogLevel.Debug, Message = "Registry: {Key} registered or updated")]
        public static partial void InstancePut(ILogger logger, string key);

        [LoggerMessage(EventId = 6044, EventName = "RegistryInstanceGone", Level = LogLevel.Information, Message = "Registry: {Key} is gone (lease expired or revoked)")]
        public static partial void InstanceGone(ILogger logger, string key);
    }
}
