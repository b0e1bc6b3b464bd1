using System.Text.Json;
using System.Text.Json.Serialization;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Monitor.ManageService.Options;
using Monitor.ManageService.Registry;

namespace Monitor.ManageService.Hosts;

/// <summary>The value of <c>/monitor/events/host-deleted/{host_id}</c>.</summary>
internal sealed record HostDeletedEvent(string HostId, DateTime DeletedAt, bool DataPurged);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(HostDeletedEvent))]
internal sealed partial class HostEventJsonContext : JsonSerializerContext;

/// <summary>
/// Announces decommissioned hosts in etcd: <c>{Manage:HostDeletedEventPrefix}/{host_id}</c> = JSON
/// <c>{hostId, deletedAt, dataPurged}</c>, under a lease of <c>Manage:HostDeletedEventTtl</c>. The warning service
/// watches the prefix and ends the host's alerts. Best effort: the deletion itself is already committed, so a failure
/// is logged (the warning service also drops alerts of hosts the manage service no longer lists).
/// </summary>
internal sealed partial class HostEventPublisher(EtcdConnection etcd, IOptions<ManageOptions> options, ILogger<HostEventPublisher> logger)
{
    private readonly ManageOptions _options = options.Value;

    public string KeyOf(string hostId) => $"{_options.HostDeletedEventPrefix}/{hostId}";

    public async Task PublishHostDeletedAsync(string hostId, DateTime deletedAt, bool dataPurged, CancellationToken cancellationToken)
    {
        if (!etcd.Enabled)
        {
            return;
        }
        var key = KeyOf(hostId);
        try
        {
            var value = JsonSerializer.Serialize(new HostDeletedEvent(hostId, deletedAt, dataPurged), HostEventJsonContext.Default.HostDeletedEvent);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            var lease = await new Lease.LeaseClient(etcd.Channel).LeaseGrantAsync(
                new LeaseGrantRequest { TTL = (long)Math.Ceiling(_options.HostDeletedEventTtl.TotalSeconds) }, cancellationToken: timeout.Token).ConfigureAwait(false);
            await new KV.KVClient(etcd.Channel).PutAsync(new PutRequest
            {
                Key = ByteString.CopyFromUtf8(key),
                Value = ByteString.CopyFromUtf8(value),
                Lease = lease.ID,
            }, cancellationToken: timeout.Token).ConfigureAwait(false);
            Log.Published(logger, key);
        }
        catch (Exception ex) when (ex is RpcException or HttpRequestException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            Log.PublishFailed(logger, key, ex);
        }
    }

    /// <summary>
    /// Removes the deletion event of a host that was registered again, so the warning service evaluates it again.
    /// Best effort like <see cref="PublishHostDeletedAsync"/>: the event would otherwise expire with its lease.
    /// </summary>
    public async Task WithdrawHostDeletedAsync(string hostId, CancellationToken cancellationToken)
    {
        if (!etcd.Enabled)
        {
            return;
        }
        var key = KeyOf(hostId);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            var response = await new KV.KVClient(etcd.Channel).DeleteRangeAsync(new DeleteRangeRequest { Key = ByteString.CopyFromUtf8(key) }, cancellationToken: timeout.Token).ConfigureAwait(false);
            if (response.Deleted > 0)
            {
                Log.Withdrawn(logger, key);
            }
        }
        catch (Exception ex) when (ex is RpcException or HttpRequestException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            Log.PublishFailed(logger, key, ex);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 6022, EventName = "HostDeletedWithdrawn", Level = LogLevel.Information, Message = "Host registered again: removed the deletion event {Key}")]
        public static partial void Withdrawn(ILogger logger, string key);

        [LoggerMessage(EventId = 6020, EventName = "HostDeletedPublished", Level = LogLevel.Information, Message = "Announced the deletion in etcd as {Key}")]
        public static partial void Published(ILogger logger, string key);

        [LoggerMessage(EventId = 6021, EventName = "HostDeletedPublishFailed", Level = LogLevel.Warning,
            Message = "Could not announce the deletion in etcd as {Key}; the host is deleted, its alerts end when the warning service reconciles")]
        public static partial void PublishFailed(ILogger logger, string key, Exception exception);
    }
}
