using System.Text;
using Microsoft.Extensions.Options;
using Monitor.Agent.Options;

namespace Monitor.Agent.Discovery;

/// <summary>A report-service instance the agent may stream to.</summary>
/// <param name="Key">Identity: the etcd key, or the address itself for a fixed address.</param>
/// <param name="Address">gRPC URL.</param>
internal sealed record ReportEndpoint(string Key, string Address);

/// <summary>
/// Chooses the report-service instance to stream to. Instances found in etcd are ranked by
/// rendezvous hashing of (host id, instance key), so a fleet spreads evenly over the pool and each
/// agent keeps to its instance while the pool is stable; fixed addresses (<c>Agent:ReportAddresses</c>)
/// are tried in their configured order and serve while etcd lists no instance. An instance that
/// failed cools down for <c>Agent:ReconnectMaxDelay</c> while the others are tried; an instance that
/// leaves etcd aborts the stream to it at once, so the agent fails over within one interval.
/// </summary>
internal sealed class ReportEndpoints : IDisposable
{
    private readonly Lock _lock = new();
    private readonly List<ReportEndpoint> _static;
    private readonly string _hostId;
    private readonly TimeSpan _coolDown;
    private readonly TimeProvider _timeProvider;
    private readonly Dictionary<string, long> _failedAt = new(StringComparer.Ordinal);
    private List<ReportEndpoint> _discovered = [];
    private ReportEndpoint? _current;
    private CancellationTokenSource _currentGone = new();

    public ReportEndpoints(IOptions<AgentOptions> options, TimeProvider timeProvider)
    {
        var o = options.Value;
        _static = o.ReportAddresses.Select(a => new ReportEndpoint(a, a)).ToList();
        _hostId = o.EffectiveHostId;
        _coolDown = o.ReconnectMaxDelay;
        _timeProvider = timeProvider;
    }

    /// <summary>Candidates in preference order: the discovered instances (ranked), else the fixed list.</summary>
    public IReadOnlyList<ReportEndpoint> Candidates
    {
        get
        {
            lock (_lock)
            {
                return _discovered.Count > 0 ? _discovered : _static;
            }
        }
    }

    /// <summary>Whether some candidate has not failed recently (then the next attempt needs no back-off).</summary>
    public bool HasFreshCandidate
    {
        get
        {
            lock (_lock)
            {
                return CandidatesLocked().Any(c => !IsCoolingLocked(c.Address));
            }
        }
    }

    /// <summary>
    /// Picks the instance for the next stream: the best-ranked one that is not cooling down, else the
    /// one whose failure is oldest. Returns a token that is cancelled if that instance leaves etcd.
    /// Null when there is no candidate at all (etcd lists none and no fixed address is configured).
    /// </summary>
    public (ReportEndpoint Endpoint, CancellationToken Gone)? Next()
    {
        lock (_lock)
        {
            var candidates = CandidatesLocked();
            if (candidates.Count == 0)
            {
                return null;
            }
            var pick = candidates.FirstOrDefault(c => !IsCoolingLocked(c.Address))
                ?? candidates.MinBy(c => _failedAt.GetValueOrDefault(c.Address))!;
            _current = pick;
            _currentGone.Dispose();
            _currentGone = new CancellationTokenSource();
            return (pick, _currentGone.Token);
        }
    }

    public void MarkFailed(ReportEndpoint endpoint)
    {
        lock (_lock)
        {
            _failedAt[endpoint.Address] = _timeProvider.GetTimestamp();
        }
    }

    public void MarkHealthy(ReportEndpoint endpoint)
    {
        lock (_lock)
        {
            _failedAt.Remove(endpoint.Address);
        }
    }

    /// <summary>Replaces the discovered instances; aborts the current stream if its instance is gone.</summary>
    public void SetDiscovered(IEnumerable<ReportEndpoint> endpoints)
    {
        CancellationTokenSource? abort = null;
        lock (_lock)
        {
            _discovered = endpoints
                .OrderByDescending(e => Score(_hostId, e.Key))
                .ThenBy(e => e.Key, StringComparer.Ordinal)
                .ToList();
            if (_current is { } current && !CandidatesLocked().Any(c => c.Address == current.Address))
            {
                abort = _currentGone;
            }
        }
        abort?.Cancel();
    }

    private List<ReportEndpoint> CandidatesLocked() => _discovered.Count > 0 ? _discovered : _static;

    private bool IsCoolingLocked(string address) =>
        _failedAt.TryGetValue(address, out var at) && _timeProvider.GetElapsedTime(at) < _coolDown;

    public void Dispose()
    {
        lock (_lock)
        {
            _currentGone.Dispose();
        }
    }

    /// <summary>Rendezvous (highest random weight) score: FNV-1a 64 of "host|key", finalised with a mixer.</summary>
    internal static ulong Score(string hostId, string key)
    {
        var hash = 14695981039346656037UL;
        foreach (var b in Encoding.UTF8.GetBytes(hostId + "|" + key))
        {
            hash = (hash ^ b) * 1099511628211UL;
        }
        hash ^= hash >> 33;
        hash *= 0xff51afd7ed558ccdUL;
        hash ^= hash >> 33;
        return hash;
    }
}
