using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Globalization;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Monitor.ManageService.Registry;
using Monitor.ServiceDefaults.Discovery;
using Monitor.ServiceDefaults.Hosting;

namespace Monitor.ManageService.Probes;

/// <summary>
/// The probers connected to any manage instance, for "auto" assignment. Probers with an open WatchTargets stream on
/// this instance are registered in etcd as <c>{Probes:ProberPrefix}/{instance}/{n}</c> = host id under this
/// instance's own service-registry lease (so they vanish with the instance), and every instance watches the prefix:
/// all instances see the same set and choose the same prober for a target. Connecting, disconnecting and every
/// change seen in etcd pulse the notifier, so an "auto" target moves at once when its prober leaves. Without etcd the
/// set is this instance's probers only.
/// </summary>
internal sealed partial class ProberSet(
    ProbeChangeNotifier notifier,
    EtcdConnection etcd,
    ServiceRegistryView registry,
    IOptions<ServiceOptions> service,
    IOptions<ProbeOptions> options,
    TimeProvider timeProvider,
    ILogger<ProberSet> logger) : BackgroundService
{
    private readonly ProbeChangeNotifier _notifier = notifier;
    private readonly ConcurrentDictionary<long, ProberInfo> _local = new();
    private readonly SemaphoreSlim _syncSignal = new(0, int.MaxValue);
    private readonly Dictionary<string, long> _written = new(StringComparer.Ordinal); // key -> lease, sync loop only
    private volatile FrozenDictionary<string, string> _remote = FrozenDictionary<string, string>.Empty; // key -> host id
    private long _nextId;

    private string InstancePrefix => $"{options.Value.ProberPrefix}/{service.Value.EffectiveInstanceId}/";

    public IDisposable Register(ProberInfo prober)
    {
        var id = Interlocked.Increment(ref _nextId);
        _local[id] = prober;
        _notifier.Pulse();
        _syncSignal.Release();
        return new Registration(this, id);
    }

    /// <summary>Distinct host ids of the probers connected to any instance, ordered.</summary>
    public IReadOnlyList<string> ConnectedHostIds() =>
        _local.Values.Select(p => p.HostId).Concat(_remote.Values).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();

    public IReadOnlyList<ProberInfo> Connected() => _local.Values.ToList();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!etcd.Enabled)
        {
            return;
        }
        await Task.WhenAll(SyncLoopAsync(stoppingToken), WatchLoopAsync(stoppingToken)).ConfigureAwait(false);
    }

    /// <summary>Writes this instance's probers under its registry lease; rewrites them when the lease changes; deletes departed ones.</summary>
    private async Task SyncLoopAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await _syncSignal.WaitAsync(TimeSpan.FromSeconds(2), stoppingToken).ConfigureAwait(false);
                var lease = OwnLease();
                if (lease is null)
                {
                    continue; // not registered yet (or etcd away): retried every 2 s
                }
                var kv = new KV.KVClient(etcd.Channel);
                var desired = _local.ToDictionary(p => InstancePrefix + p.Key.ToString(CultureInfo.InvariantCulture), p => p.Value.HostId, StringComparer.Ordinal);
                foreach (var (key, hostId) in desired)
                {
                    if (_written.TryGetValue(key, out var writtenLease) && writtenLease == lease.Value)
                    {
                        continue;
                    }
                    await kv.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(hostId), Lease = lease.Value },
                        cancellationToken: stoppingToken).ConfigureAwait(false);
                    _written[key] = lease.Value;
                }
                foreach (var key in _written.Keys.Where(k => !desired.ContainsKey(k)).ToList())
                {
                    await kv.DeleteRangeAsync(new DeleteRangeRequest { Key = ByteString.CopyFromUtf8(key) }, cancellationToken: stoppingToken).ConfigureAwait(false);
                    _written.Remove(key);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is RpcException or HttpRequestException or IOException)
            {
                _written.Clear(); // write everything again once etcd answers
                Log.SyncFailed(logger, ex);
            }
        }
    }

    private long? OwnLease() =>
        registry.List(service.Value.Kind).FirstOrDefault(i => i.InstanceId == service.Value.EffectiveInstanceId && i.LeaseAlive)?.LeaseId is { } id and not 0 ? id : null;

    /// <summary>Keeps <see cref="_remote"/> equal to the prefix in etcd, through <see cref="EtcdPrefixWatch"/>.</summary>
    private async Task WatchLoopAsync(CancellationToken stoppingToken)
    {
        var prefix = options.Value.ProberPrefix + "/";
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await EtcdPrefixWatch.RunAsync(etcd.Channel, prefix,
                    current =>
                    {
                        Publish(current);
                        return ValueTask.CompletedTask;
                    },
                    stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is RpcException or InvalidOperationException or HttpRequestException or IOException)
            {
                Log.WatchFailed(logger, prefix, ex);
            }
            try
            {
                await Task.Delay(options.Value.RetryDelay, timeProvider, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private void Publish(IReadOnlyDictionary<string, string> current)
    {
        var before = _remote;
        var after = current.ToFrozenDictionary(StringComparer.Ordinal);
        _remote = after;
        if (!before.Values.Order(StringComparer.Ordinal).SequenceEqual(after.Values.Order(StringComparer.Ordinal), StringComparer.Ordinal))
        {
            _notifier.Pulse();
        }
    }

    public override void Dispose()
    {
        _syncSignal.Dispose();
        base.Dispose();
    }

    private sealed class Registration(ProberSet set, long id) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0 && set._local.TryRemove(id, out _))
            {
                set._notifier.Pulse();
                try
                {
                    set._syncSignal.Release();
                }
                catch (ObjectDisposedException)
                {
                }
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 6150, EventName = "ProberRegistrySyncFailed", Level = LogLevel.Warning, Message = "Writing the connected probers to etcd failed; retrying")]
        public static partial void SyncFailed(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 6151, EventName = "ProberRegistryWatchFailed", Level = LogLevel.Warning, Message = "The etcd watch on {Prefix} failed; retrying")]
        public static partial void WatchFailed(ILogger logger, string prefix, Exception exception);
    }
}
