using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Options;
using Monitor.ServiceDefaults.Discovery;
using Monitor.WarningService.Evaluation;
using Monitor.WarningService.Notifications;
using Monitor.WarningService.Options;
using MySqlConnector;

namespace Monitor.WarningService.Hosts;

/// <summary>
/// Ends the alerts of decommissioned hosts. The manage service writes <c>{Warning:HostDeletedEventPrefix}/{host_id}</c>
/// when it deletes a host; this watcher (a range read, then a watch from the next revision) marks the host in
/// <see cref="DeletedHosts"/> — so neither the stream rules nor the no-data rules evaluate it any more — and resolves
/// its open alerts in MySQL (with a <c>resolved</c> notification). Every instance does this; the update is idempotent.
/// It runs once more after a short delay, so a flush that was already under way when the event arrived cannot leave
/// a firing state behind.
/// </summary>
internal sealed partial class HostDeletionWatcher(
    IOptions<EtcdOptions> etcdOptions,
    IOptions<WarningOptions> warningOptions,
    DeletedHosts deleted,
    AlertStore store,
    NotificationSignal signal,
    TimeProvider timeProvider,
    ILogger<HostDeletionWatcher> logger) : BackgroundService
{
    private readonly WarningOptions _options = warningOptions.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var endpoints = etcdOptions.Value.EffectiveEndpoints;
        if (endpoints.Count == 0)
        {
            Log.Disabled(logger);
            return;
        }
        var prefix = _options.HostDeletedEventPrefix.TrimEnd('/') + "/";
        var attempt = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            var endpoint = endpoints[attempt++ % endpoints.Count];
            try
            {
                using var channel = GrpcChannel.ForAddress(endpoint);
                await EtcdPrefixWatch.RunAsync(channel, prefix,
                    async snapshot =>
                    {
                        var added = deleted.Reset(snapshot.Select(kv => HostOf(prefix, kv.Key)).Where(h => h.Length > 0));
                        foreach (var host in added)
                        {
                            await EndAsync(host, stoppingToken).ConfigureAwait(false);
                        }
                        Log.Watching(logger, prefix, endpoint, deleted.Count);
                    },
                    async events =>
                    {
                        foreach (var ev in events)
                        {
                            var host = HostOf(prefix, ev.Kv.Key);
                            if (host.Length == 0)
                            {
                                continue;
                            }
                            if (ev.Type == Mvccpb.Event.Types.EventType.Put)
                            {
                                deleted.Add(host);
                                await EndAsync(host, stoppingToken).ConfigureAwait(false);
                            }
                            else if (deleted.Remove(host))
                            {
                                Log.HostBack(logger, host);
                            }
                        }
                    },
                    stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is RpcException or InvalidOperationException or HttpRequestException or IOException)
            {
                Log.WatchFailed(logger, endpoint, ex);
            }
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(1), timeProvider, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task EndAsync(string hostId, CancellationToken cancellationToken)
    {
        await EndOnceAsync(hostId, cancellationToken).ConfigureAwait(false);
        // Once more after the consumer's flush window: a persist that raced with the first pass is cleaned up too.
        _ = Task.Delay(_options.FlushInterval * 2 + TimeSpan.FromSeconds(1), timeProvider, cancellationToken)
            .ContinueWith(_ => EndOnceAsync(hostId, cancellationToken), cancellationToken, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default)
            .Unwrap();
    }

    private async Task EndOnceAsync(string hostId, CancellationToken cancellationToken)
    {
        if (!deleted.Contains(hostId))
        {
            return;
        }
        try
        {
            var (ended, queued) = await store.EndHostAlertsAsync(hostId, cancellationToken).ConfigureAwait(false);
            if (ended > 0)
            {
                Log.AlertsEnded(logger, ended, hostId);
            }
            if (queued > 0)
            {
                signal.Pulse();
            }
        }
        catch (Exception ex) when (ex is MySqlException or InvalidOperationException or TimeoutException)
        {
            Log.EndFailed(logger, hostId, ex);
        }
    }

    private static string HostOf(string prefix, ByteString key)
    {
        var k = key.ToStringUtf8();
        return k.StartsWith(prefix, StringComparison.Ordinal) ? k[prefix.Length..] : "";
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 7601, EventName = "HostDeletionWatchDisabled", Level = LogLevel.Information,
            Message = "No etcd endpoints: alerts of deleted hosts are not ended automatically")]
        public static partial void Disabled(ILogger logger);

        [LoggerMessage(EventId = 7602, EventName = "HostDeletionWatching", Level = LogLevel.Information,
            Message = "Watching host deletions under {Prefix} on {Endpoint} ({Count} deleted host(s) known)")]
        public static partial void Watching(ILogger logger, string prefix, string endpoint, int count);

        [LoggerMessage(EventId = 7603, EventName = "HostDeletedAlertsEnded", Level = LogLevel.Information,
            Message = "Ended {Count} open alert(s) of deleted host {HostId}")]
        public static partial void AlertsEnded(ILogger logger, int count, string hostId);

        [LoggerMessage(EventId = 7604, EventName = "HostDeletionWatchFailed", Level = LogLevel.Warning,
            Message = "The etcd watch for host deletions on {Endpoint} failed; reconnecting")]
        public static partial void WatchFailed(ILogger logger, string endpoint, Exception exception);

        [LoggerMessage(EventId = 7605, EventName = "HostDeletedEndFailed", Level = LogLevel.Warning,
            Message = "Ending the alerts of deleted host {HostId} failed; retried at the next event or restart")]
        public static partial void EndFailed(ILogger logger, string hostId, Exception exception);

        [LoggerMessage(EventId = 7606, EventName = "HostNoLongerDeleted", Level = LogLevel.Information,
            Message = "Host {HostId} is no longer marked deleted (registered again or the event expired); its rules apply again")]
        public static partial void HostBack(ILogger logger, string hostId);
    }
}
