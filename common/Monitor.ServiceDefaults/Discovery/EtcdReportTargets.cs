using System.Text.Json;
using dotnet_etcd;
using Microsoft.Extensions.Options;
using Monitor.Diagnostics.SelfMetrics;

namespace Monitor.ServiceDefaults.Discovery;

/// <summary>
/// The gRPC addresses of the report instances registered under <c>{Etcd:Prefix}/report/</c>, read at most every
/// 30 seconds (for the self-metrics feeder; agents use their own watch-based discovery).
/// </summary>
internal sealed class EtcdReportTargets(IOptions<EtcdOptions> etcdOptions, TimeProvider timeProvider) : IReportTargets, IDisposable
{
    private readonly EtcdOptions _etcd = etcdOptions.Value;
    private readonly SemaphoreSlim _lock = new(1, 1);
    private EtcdClient? _client;
    private List<string> _cached = [];
    private DateTimeOffset _readAt = DateTimeOffset.MinValue;

    public async Task<IReadOnlyList<string>> GetAsync(CancellationToken cancellationToken)
    {
        if (_etcd.EffectiveEndpoints.Count == 0)
        {
            return [];
        }
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var now = timeProvider.GetUtcNow();
            if (_cached.Count > 0 && now - _readAt < TimeSpan.FromSeconds(30))
            {
                return _cached;
            }
            _client ??= new EtcdClient(_etcd.ConnectionString);
            var range = await _client.GetRangeAsync($"{_etcd.Prefix}/report/", cancellationToken: cancellationToken).ConfigureAwait(false);
            var targets = new List<string>();
            foreach (var kv in range.Kvs)
            {
                try
                {
                    if (JsonSerializer.Deserialize(kv.Value.ToStringUtf8(), DiscoveryJsonContext.Default.ServiceRecord)?.Grpc is { Length: > 0 } grpc)
                    {
                        targets.Add(grpc.Replace("://0.0.0.0:", "://127.0.0.1:", StringComparison.Ordinal));
                    }
                }
                catch (JsonException)
                {
                    // A foreign value under the prefix.
                }
            }
            _cached = targets;
            _readAt = now;
            return targets;
        }
        finally
        {
            _lock.Release();
        }
    }

    public void Dispose()
    {
        _client?.Dispose();
        _lock.Dispose();
    }
}
