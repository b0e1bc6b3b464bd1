using System.Diagnostics.Metrics;

namespace Monitor.ManageService.Extensions;

/// <summary>All instruments of the manage service, created once through <see cref="IMeterFactory"/>.</summary>
internal sealed class ManageMetrics
{
    public const string MeterName = "Monitor.ManageService";

    private readonly Counter<long> _hostOperations;
    private readonly Histogram<double> _livenessRefresh;
    private readonly Counter<long> _registryEvents;
    private int _seenHosts;
    private int _aliveInstances;
    private int _goneInstances;

    public ManageMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _hostOperations = meter.CreateCounter<long>("monitor.manage.host.operations", "{operation}", "Host changes, by operation and result");
        _livenessRefresh = meter.CreateHistogram<double>("monitor.manage.liveness.refresh.duration", "ms", "Time to read last-seen times from InfluxDB, by result");
        _registryEvents = meter.CreateCounter<long>("monitor.manage.registry.events", "{event}", "etcd watch events applied to the registry view, by type");
        meter.CreateObservableGauge("monitor.manage.liveness.seen_hosts", () => Volatile.Read(ref _seenHosts), "{host}", "Hosts with data within the liveness window");
        meter.CreateObservableGauge("monitor.manage.registry.instances", ObserveInstances, "{instance}", "Service instances in the registry view, by lease state");
    }

    public void HostOperation(string operation, string result) =>
        _hostOperations.Add(1, new KeyValuePair<string, object?>("operation", operation), new KeyValuePair<string, object?>("result", result));

    public void LivenessRefreshed(TimeSpan elapsed, bool ok, int seenHosts)
    {
        _livenessRefresh.Record(elapsed.TotalMilliseconds, new KeyValuePair<string, object?>("result", ok ? "ok" : "failed"));
        if (ok)
        {
            Volatile.Write(ref _seenHosts, seenHosts);
        }
    }

    public void RegistryEvent(string type) => _registryEvents.Add(1, new KeyValuePair<string, object?>("type", type));

    public void RegistryInstances(int alive, int gone)
    {
        Volatile.Write(ref _aliveInstances, alive);
        Volatile.Write(ref _goneInstances, gone);
    }

    private IEnumerable<Measurement<int>> ObserveInstances()
    {
        yield return new Measurement<int>(Volatile.Read(ref _aliveInstances), new KeyValuePair<string, object?>("lease", "alive"));
        yield return new Measurement<int>(Volatile.Read(ref _goneInstances), new KeyValuePair<string, object?>("lease", "gone"));
    }
}
