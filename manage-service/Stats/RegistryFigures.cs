using System.Diagnostics.Metrics;
using Monitor.ManageService.Registry;

namespace Monitor.ManageService.Stats;

/// <summary>
/// Registry figures for self-monitoring (meter <c>Monitor.ManageService.Registry</c>, fed to the pipeline like every
/// <c>Monitor.*</c> meter): live instances per kind, how many expected kinds have none, and instances lost (their key
/// disappeared: lease expired or revoked), found by comparing the registry view every two seconds.
/// </summary>
internal sealed class RegistryFigures : BackgroundService
{
    public const string MeterName = "Monitor.ManageService.Registry";

    /// <summary>The kinds a complete Monitor deployment runs.</summary>
    public static readonly string[] ExpectedKinds = ["report", "persistent", "analyze", "warning", "manage"];

    private readonly ServiceRegistryView _registry;
    private readonly TimeProvider _timeProvider;
    private readonly Counter<long> _lost;
    private HashSet<string> _alive = new(StringComparer.Ordinal);
    private bool _primed;

    public RegistryFigures(ServiceRegistryView registry, TimeProvider timeProvider, IMeterFactory meterFactory)
    {
        _registry = registry;
        _timeProvider = timeProvider;
        var meter = meterFactory.Create(MeterName);
        meter.CreateObservableGauge("monitor.registry.live_instances", ObserveLive, "{instance}", "Live instances in the etcd registry, per kind");
        meter.CreateObservableGauge("monitor.registry.kinds_without_instances", ObserveMissing, "{kind}", "Expected service kinds with no live instance");
        _lost = meter.CreateCounter<long>("monitor.registry.lost_instances", "{instance}", "Instances whose registry entry disappeared, per kind");
    }

    /// <summary>Live instances per kind (expected kinds included with 0); empty while the view is not synced with etcd.</summary>
    public IReadOnlyDictionary<string, int> LiveByKind()
    {
        if (!_registry.Synced)
        {
            return new Dictionary<string, int>();
        }
        var counts = ExpectedKinds.ToDictionary(k => k, _ => 0, StringComparer.Ordinal);
        foreach (var i in _registry.List(null).Where(i => i.LeaseAlive))
        {
            counts[i.Kind] = counts.GetValueOrDefault(i.Kind) + 1;
        }
        return counts;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(2), _timeProvider, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            if (!_registry.Synced)
            {
                continue;
            }
            var alive = _registry.List(null).Where(i => i.LeaseAlive).Select(i => i.Key).ToHashSet(StringComparer.Ordinal);
            if (_primed)
            {
                foreach (var gone in _alive.Where(k => !alive.Contains(k)))
                {
                    _lost.Add(1, new KeyValuePair<string, object?>("kind", KindOf(gone)));
                }
            }
            _alive = alive;
            _primed = true;
        }
    }

    private string KindOf(string key)
    {
        var rest = key.StartsWith(_registry.Prefix, StringComparison.Ordinal) ? key[_registry.Prefix.Length..] : key;
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        return slash > 0 ? rest[..slash] : "unknown";
    }

    private IEnumerable<Measurement<int>> ObserveLive() =>
        LiveByKind().Select(kv => new Measurement<int>(kv.Value, new KeyValuePair<string, object?>("kind", kv.Key)));

    private IEnumerable<Measurement<int>> ObserveMissing()
    {
        var live = LiveByKind();
        if (live.Count > 0)
        {
            yield return new Measurement<int>(ExpectedKinds.Count(k => live.GetValueOrDefault(k) == 0));
        }
    }
}
