using System.Reflection;
using System.Text.Json;
using dotnet_etcd;
using Etcdserverpb;
using Google.Protobuf;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Monitor.ServiceDefaults.Hosting;

namespace Monitor.ServiceDefaults.Discovery;

/// <summary>
/// Registers this instance in etcd under a lease and keeps the lease alive. When etcd is away
/// the service keeps running and re-registers once it is back; on shutdown the lease is revoked
/// so watchers see the instance leave at once instead of after the TTL.
/// </summary>
internal sealed partial class EtcdRegistrationService(
    IOptions<EtcdOptions> etcdOptions,
    IOptions<ServiceOptions> serviceOptions,
    TimeProvider timeProvider,
    ILogger<EtcdRegistrationService> logger) : BackgroundService
{
    private readonly EtcdOptions _etcd = etcdOptions.Value;
    private readonly ServiceOptions _service = serviceOptions.Value;
    private long _leaseId;
    private EtcdClient? _client;

    public string Key => $"{_etcd.Prefix}/{_service.Kind}/{_service.EffectiveInstanceId}";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_etcd.EffectiveEndpoints.Count == 0)
        {
            Log.RegistrationDisabled(logger);
            return;
        }

        var record = new ServiceRecord(
            _service.GrpcUrl, _service.HttpUrl, _service.AdminUrl,
            typeof(EtcdRegistrationService).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0",
            timeProvider.GetUtcNow());
        var value = JsonSerializer.Serialize(record, DiscoveryJsonContext.Default.ServiceRecord);

        _client = new EtcdClient(_etcd.ConnectionString);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var ttlSeconds = (long)Math.Ceiling(_etcd.LeaseTtl.TotalSeconds);
                var lease = await _client.LeaseGrantAsync(new LeaseGrantRequest { TTL = ttlSeconds }, cancellationToken: stoppingToken).ConfigureAwait(false);
                _leaseId = lease.ID;
                await _client.PutAsync(new PutRequest
                {
                    Key = ByteString.CopyFromUtf8(Key),
                    Value = ByteString.CopyFromUtf8(value),
                    Lease = lease.ID,
                }, cancellationToken: stoppingToken).ConfigureAwait(false);
                Log.Registered(logger, Key, lease.ID, ttlSeconds);

                // Runs until cancelled or until the stream to etcd breaks.
                await _client.LeaseKeepAlive(lease.ID, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
#pragma warning disable CA1031 // etcd being away must never stop the service: log and retry.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Log.RegistrationFailed(logger, Key, _etcd.RetryDelay, ex);
            }

            try
            {
                await Task.Delay(_etcd.RetryDelay, timeProvider, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        if (_client is null)
        {
            return;
        }
        try
        {
            if (_leaseId != 0)
            {
                using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                cts.CancelAfter(TimeSpan.FromSeconds(2));
                await _client.LeaseRevokeAsync(new LeaseRevokeRequest { ID = _leaseId }, cancellationToken: cts.Token).ConfigureAwait(false);
                Log.Deregistered(logger, Key);
            }
        }
#pragma warning disable CA1031 // best effort: the lease expires on its own after the TTL.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.DeregistrationFailed(logger, Key, ex);
        }
        finally
        {
            _client.Dispose();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1001, EventName = "EtcdRegistrationDisabled", Level = LogLevel.Warning,
            Message = "Etcd:Endpoints is empty: this instance is not registered for discovery")]
        public static partial void RegistrationDisabled(ILogger logger);

        [LoggerMessage(EventId = 1002, EventName = "EtcdRegistered", Level = LogLevel.Information,
            Message = "Registered in etcd as {Key} (lease {LeaseId:x}, TTL {TtlSeconds} s)")]
        public static partial void Registered(ILogger logger, string key, long leaseId, long ttlSeconds);

        [LoggerMessage(EventId = 1003, EventName = "EtcdRegistrationFailed", Level = LogLevel.Warning,
            Message = "etcd registration of {Key} failed or lost; retrying in {RetryDelay}")]
        public static partial void RegistrationFailed(ILogger logger, string key, TimeSpan retryDelay, Exception exception);

        [LoggerMessage(EventId = 1004, EventName = "EtcdDeregistered", Level = LogLevel.Information,
            Message = "Revoked the etcd lease of {Key}")]
        public static partial void Deregistered(ILogger logger, string key);

        [LoggerMessage(EventId = 1005, EventName = "EtcdDeregistrationFailed", Level = LogLevel.Warning,
            Message = "Could not revoke the etcd lease of {Key}; it expires after its TTL")]
        public static partial void DeregistrationFailed(ILogger logger, string key, Exception exception);
    }
}
