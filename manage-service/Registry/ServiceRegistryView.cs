using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Monitor.ManageService.Extensions;
using Monitor.ManageService.Options;
using Monitor.ServiceDefaults.Discovery;

namespace Monitor.ManageService.Registry;

/// <summary>One registered (or recently gone) service instance.</summary>
internal sealed record ServiceInstanceInfo(
    string Key,
    string Kind,
    string InstanceId,
    string? GrpcUrl,
    string? HttpUrl,
    string? AdminUrl,
    string? Version,
    DateTimeOffset? StartedAt,
    long LeaseId,
    bool LeaseAlive,
    DateTimeOffset? GoneAt);

/// <summary>
/// In-memory view of <c>{Etcd:Prefix}/{kind}/{instance}</c>, kept current by <see cref="ServiceRegistryWatcher"/>.
/// A key exists exactly as long as its owner keeps the lease alive, so a deleted key means the lease expired (owner
/// killed) or was revoked (owner stopped); the instance stays listed with <c>LeaseAlive = false</c> for
/// <c>Manage:Registry:KeepGoneFor</c>.
/// </summary>
internal sealed class ServiceRegistryView(IOptions<EtcdOptions> etcdOptions, IOptions<ManageOptions> options, TimeProvider timeProvider, ManageMetrics metrics)
{
    private readonly string _prefix = etcdOptions.Value.Prefix + "/";
    private readonly TimeSpan _keepGoneFor = options.Value.Registry.KeepGoneFor;
    private readonly ConcurrentDictionary<string, ServiceInstanceInfo> _instances = new(StringComparer.Ordinal);
    private volatile bool _synced;

    public string Prefix => _prefix;

    /// <summary>True while a watch is established on top of a fresh snapshot.</summary>
    public bool Synced
    {
        get => _synced;
        set => _synced = value;
    }

    /// <summary>Replaces the view with a snapshot (after a (re)connect); keys missing from it are marked gone.</summary>
    public void Reset(IEnumerable<(string Key, string Value, long Lease)> snapshot)
    {
        var now = timeProvider.GetUtcNow();
        var present = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (key, value, lease) in snapshot)
        {
            present.Add(key);
            Put(key, value, lease);
        }
        foreach (var key in _instances.Keys)
        {
            if (!present.Contains(key))
            {
                Delete(key, now);
            }
        }
        Publish();
    }

    public void Put(string key, string value, long lease)
    {
        if (Parse(key, value, lease) is { } info)
        {
            _instances[key] = info;
            Publish();
        }
    }

    public void Delete(string key, DateTimeOffset at)
    {
        if (_instances.TryGetValue(key, out var info) && info.LeaseAlive)
        {
            _instances[key] = info with { LeaseAlive = false, GoneAt = at };
            Publish();
        }
    }

    public IReadOnlyList<ServiceInstanceInfo> List(string? kind)
    {
        var cutoff = timeProvider.GetUtcNow() - _keepGoneFor;
        foreach (var (key, info) in _instances)
        {
            if (info.GoneAt < cutoff)
            {
                _instances.TryRemove(key, out _);
            }
        }
        return _instances.Values
            .Where(i => string.IsNullOrEmpty(kind) || i.Kind == kind)
            .OrderBy(i => i.Kind, StringComparer.Ordinal).ThenBy(i => i.InstanceId, StringComparer.Ordinal)
            .ToList();
    }

    internal ServiceInstanceInfo? Parse(string key, string value, long lease)
    {
        if (!key.StartsWith(_prefix, StringComparison.Ordinal))
        {
            return null;
        }
        var rest = key[_prefix.Length..];
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0 || slash == rest.Length - 1)
        {
            return null;
        }
        ServiceRecord? record = null;
        try
        {
            record = JsonSerializer.Deserialize(value, DiscoveryJsonContext.Default.ServiceRecord);
        }
        catch (JsonException)
        {
            // A foreign or malformed value: list the instance with what the key tells.
        }
        return new ServiceInstanceInfo(key, rest[..slash], rest[(slash + 1)..], record?.Grpc, record?.Http, record?.Admin,
            record?.Version, record?.StartedAt, lease, LeaseAlive: true, GoneAt: null);
    }

    private void Publish()
    {
        var alive = _instances.Values.Count(i => i.LeaseAlive);
        metrics.RegistryInstances(alive, _instances.Count - alive);
    }
}
