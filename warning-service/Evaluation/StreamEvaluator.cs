using System.Text.Json;
using Monitor.Protos.V1;
using Monitor.WarningService.Data;
using Monitor.WarningService.Hosts;
using Monitor.WarningService.Notifications;
using Monitor.WarningService.Options;
using Monitor.WarningService.Rules;

namespace Monitor.WarningService.Evaluation;

/// <summary>The state of one (rule, host) in memory: the state machine, the sample window, and whether it must be persisted.</summary>
internal sealed class StateEntry(long ruleId, string hostId)
{
    public long RuleId { get; } = ruleId;
    public string HostId { get; } = hostId;
    public AlertState State { get; } = new();
    public SampleWindow Window { get; } = new();
    public bool Dirty { get; set; }
    public int Partition { get; set; } = -1;

    public static StateEntry FromEntity(AlertStateEntity e)
    {
        var entry = new StateEntry(e.RuleId, e.HostId) { Partition = e.Partition };
        var s = entry.State;
        s.Phase = e.Phase;
        s.Count = e.Count;
        s.Severity = e.Severity;
        s.PendingSinceMs = e.PendingSinceMs;
        s.LastSampleMs = e.LastSampleMs;
        s.LastValue = e.LastValue;
        s.BreachValues = JsonSerializer.Deserialize<List<double>>(e.BreachValuesJson) ?? [];
        s.AlertId = e.AlertId;
        s.RuleVersion = e.RuleVersion;
        return entry;
    }
}

/// <summary>A transition that must produce an alert record change and notifications, with its evidence captured at the time.</summary>
internal sealed record StateEvent(
    CompiledRule Rule,
    StateEntry Entry,
    Transition Transition,
    long SampleMs,
    int Count,
    long PendingSinceMs,
    double[] BreachValues);

/// <summary>
/// Evaluates the per-host stream rules for the hosts this instance owns. Used only from the consumer
/// thread, so it needs no locking.
/// </summary>
internal sealed class StreamEvaluator(WarningOptions options, IHostLocationResolver locations, DeletedHosts deletedHosts)
{
    private readonly Dictionary<(long RuleId, string HostId), StateEntry> _entries = [];
    private readonly HashSet<string> _loadedHosts = new(StringComparer.Ordinal);
    private readonly HashSet<int> _loadedPartitions = [];
    // The entries marked dirty since the last DirtyEntries(): a flush must not scan every (rule, host) entry.
    private readonly List<StateEntry> _dirty = [];

    /// <summary>
    /// True when the host's persisted state is in memory: loaded for the host itself, or for the whole partition
    /// its sample came from (every state row records the partition it was evaluated from).
    /// </summary>
    public bool IsHostLoaded(string hostId, int partition) => _loadedPartitions.Contains(partition) || _loadedHosts.Contains(hostId);

    public void PartitionsLoaded(IEnumerable<int> partitions) => _loadedPartitions.UnionWith(partitions);

    public int EntryCount => _entries.Count;

    /// <summary>Installs persisted state (from a partition assignment or a host's first sample); existing in-memory entries win.</summary>
    public void Install(IEnumerable<AlertStateEntity> rows, IEnumerable<string> hosts)
    {
        foreach (var row in rows)
        {
            _entries.TryAdd((row.RuleId, row.HostId), StateEntry.FromEntity(row));
        }
        _loadedHosts.UnionWith(hosts);
    }

    /// <summary>Forgets everything (partitions revoked or lost): the next owner loads it from MySQL.</summary>
    public void Clear()
    {
        _entries.Clear();
        _loadedHosts.Clear();
        _loadedPartitions.Clear();
        _dirty.Clear();
    }

    /// <summary>
    /// The entries marked dirty since the last <see cref="Persisted"/>, to persist; those of hosts deleted meanwhile are
    /// dropped instead (their alerts were ended).
    /// </summary>
    public List<StateEntry> DirtyEntries()
    {
        if (deletedHosts.Count > 0)
        {
            ForgetDeletedHosts();
            _dirty.RemoveAll(e => deletedHosts.Contains(e.HostId));
        }
        return [.. _dirty];
    }

    /// <summary>The entries returned by <see cref="DirtyEntries"/> are committed (the store cleared their flags).</summary>
    public void Persisted() => _dirty.Clear();

    private void ForgetDeletedHosts()
    {
        List<(long, string)>? gone = null;
        foreach (var key in _entries.Keys)
        {
            if (deletedHosts.Contains(key.HostId))
            {
                (gone ??= []).Add(key);
            }
        }
        if (gone is not null)
        {
            foreach (var key in gone)
            {
                _entries.Remove(key);
            }
        }
    }

    /// <summary>Evaluates one batch; returns how many (rule, host) evaluations ran.</summary>
    public int Evaluate(SampleBatch batch, int partition, IReadOnlyList<CompiledRule> rules, List<StateEvent> events)
    {
        var evaluated = 0;
        if (deletedHosts.Contains(batch.HostId))
        {
            // Decommissioned: its alerts were ended and it is evaluated again only once it is registered again.
            return 0;
        }
        foreach (var rule in rules)
        {
            if (!rule.IsStreamRule || !rule.AppliesToHost(batch.HostId, locations.LocationOf))
            {
                continue;
            }
            StateEntry? entry = null;
            long evalMs = long.MinValue;
            foreach (var sample in batch.Samples)
            {
                if (sample.Metric != rule.Spec.Metric || !double.IsFinite(sample.Value) || !LabelsMatch(sample, rule.Spec.LabelFilter))
                {
                    continue;
                }
                entry ??= GetOrCreate(rule.Id, batch.HostId);
                if (sample.TimestampUnixMs <= entry.State.LastSampleMs)
                {
                    continue;
                }
                entry.Window.Add(sample.TimestampUnixMs, sample.Value, rule.WindowMs, options.MaxWindowSamples);
                evalMs = Math.Max(evalMs, sample.TimestampUnixMs);
            }
            if (entry is null || evalMs == long.MinValue)
            {
                continue;
            }
            var value = rule.Spec.Kind == RuleKinds.RateOfChange ? entry.Window.RatePerSecond() : entry.Window.Aggregate(rule.Spec.Aggregation);
            if (double.IsNaN(value))
            {
                continue;
            }
            evaluated++;
            var state = entry.State;
            if (state.Phase is Phases.Ok or Phases.Resolved)
            {
                state.RuleVersion = rule.Version;
            }
            var transition = AlertStateMachine.Evaluate(state, rule.Thresholds, evalMs, value);
            if (transition.Kind == TransitionKind.None)
            {
                continue;
            }
            if (!entry.Dirty)
            {
                entry.Dirty = true;
                _dirty.Add(entry);
            }
            entry.Partition = partition;
            if (transition.Kind is TransitionKind.Fired or TransitionKind.Escalated or TransitionKind.Resolved)
            {
                events.Add(new StateEvent(rule, entry, transition, evalMs, state.Count, state.PendingSinceMs, [.. state.BreachValues]));
            }
        }
        return evaluated;
    }

    private StateEntry GetOrCreate(long ruleId, string hostId)
    {
        if (!_entries.TryGetValue((ruleId, hostId), out var entry))
        {
            entry = new StateEntry(ruleId, hostId);
            _entries[(ruleId, hostId)] = entry;
        }
        return entry;
    }

    private static bool LabelsMatch(Sample sample, Dictionary<string, string> filter)
    {
        foreach (var (k, v) in filter)
        {
            if (!sample.Labels.TryGetValue(k, out var actual) || actual != v)
            {
                return false;
            }
        }
        return true;
    }
}
