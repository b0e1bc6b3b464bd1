using System.Collections.Concurrent;

namespace Monitor.WarningService.Hosts;

/// <summary>
/// Hosts the manage service has decommissioned (its <c>host-deleted</c> events in etcd). Their alerts have been
/// ended and no rule evaluates them while the event exists; re-registering the host removes the event.
/// Read from the consumer thread and the elected evaluator, written by <see cref="HostDeletionWatcher"/>.
/// </summary>
internal sealed class DeletedHosts
{
    private readonly ConcurrentDictionary<string, byte> _hosts = new(StringComparer.Ordinal);

    public int Count => _hosts.Count;

    public bool Contains(string hostId) => !_hosts.IsEmpty && _hosts.ContainsKey(hostId);

    /// <summary>Marks a host deleted; false when it already was.</summary>
    public bool Add(string hostId) => _hosts.TryAdd(hostId, 0);

    /// <summary>Unmarks a host (event expired or the host was registered again).</summary>
    public bool Remove(string hostId) => _hosts.TryRemove(hostId, out _);

    /// <summary>Replaces the whole set (after a fresh etcd snapshot); returns the hosts that were not in it before.</summary>
    public List<string> Reset(IEnumerable<string> hostIds)
    {
        var fresh = new HashSet<string>(hostIds, StringComparer.Ordinal);
        foreach (var host in _hosts.Keys)
        {
            if (!fresh.Contains(host))
            {
                _hosts.TryRemove(host, out _);
            }
        }
        var added = new List<string>();
        foreach (var host in fresh)
        {
            if (_hosts.TryAdd(host, 0))
            {
                added.Add(host);
            }
        }
        return added;
    }
}
