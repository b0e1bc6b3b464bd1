using System.Text.Json;
using Monitor.Protos.V1;
using Monitor.WarningService.Evaluation;
using Monitor.WarningService.Notifications;
using Monitor.WarningService.Rules;

namespace Monitor.WarningService.Probes;

/// <summary>The state of one (probe rule, agent host, target) in memory, and whether it must be persisted.</summary>
internal sealed class ProbeStateEntry(long ruleId, string hostId, string target)
{
    public long RuleId { get; } = ruleId;
    public string HostId { get; } = hostId;
    public string Target { get; } = target;
    public ProbeAlertState State { get; } = new();
    public bool Dirty { get; set; }
    public int Partition { get; set; } = -1;

    public static ProbeStateEntry FromEntity(ProbeAlertStateEntity e)
    {
        var entry = new ProbeStateEntry(e.RuleId, e.HostId, e.Target) { Partition = e.Partition };
        var s = entry.State;
        s.Phase = e.Phase;
        s.Failures = e.Failures;
        s.FirstFailureMs = e.FirstFailureMs;
        s.LastSampleMs = e.LastSampleMs;
        s.Messages = JsonSerializer.Deserialize<List<string>>(e.MessagesJson) ?? [];
        s.AlertId = e.AlertId;
        s.RuleVersion = e.RuleVersion;
        return entry;
    }
}

/// <summary>A probe transition that must produce an alert record change and notifications, with its evidence captured at the time.</summary>
internal sealed record ProbeStateEvent(CompiledRule Rule, ProbeStateEntry Entry, TransitionKind Kind, long SampleMs, int Failures, long FirstFailureMs, string[] Messages);

/// <summary>
/// Evaluates the probe rules for the hosts of this instance's partitions: every <c>probe_success</c> sample (labels
/// <c>target</c>, <c>type</c>, <c>reason</c>; free text in the sample's message) drives the state of (rule, agent
/// host, target). Used only from the consumer thread.
/// </summary>
internal sealed class ProbeEvaluator(IHostLocationResolver locations)
{
    private readonly Dictionary<(long RuleId, string HostId, string Target), ProbeStateEntry> _entries = [];
    private IReadOnlyList<CompiledRule>? _rulesSeen;
    private readonly HashSet<string> _loadedHosts = new(StringComparer.Ordinal);
    private readonly HashSet<int> _loadedPartitions = [];
    private readonly List<Sample> _probeSamples = [];

    public int EntryCount => _entries.Count;

    public bool IsHostLoaded(string hostId, int partition) => _loadedPartitions.Contains(partition) || _loadedHosts.Contains(hostId);

    public void PartitionsLoaded(IEnumerable<int> partitions) => _loadedPartitions.UnionWith(partitions);

    /// <summary>Installs persisted state; existing in-memory entries win.</summary>
    public void Install(IEnumerable<ProbeAlertStateEntity> rows, IEnumerable<string> hosts)
    {
        foreach (var row in rows)
        {
            _entries.TryAdd((row.RuleId, row.HostId, row.Target), ProbeStateEntry.FromEntity(row));
        }
        _loadedHosts.UnionWith(hosts);
    }

    public void Clear()
    {
        _entries.Clear();
        _loadedHosts.Clear();
        _loadedPartitions.Clear();
    }

    /// <summary>Forgets the state of retired targets (their rows were deleted in MySQL).</summary>
    public void Drop(RetiredTargets retired)
    {
        if (retired.Names.Count == 0)
        {
            return;
        }
        foreach (var key in _entries.Keys.Where(k => retired.Contains(k.Target)).ToList())
        {
            _entries.Remove(key);
        }
    }

    public List<ProbeStateEntry> DirtyEntries() => _entries.Values.Where(e => e.Dirty).ToList();

    /// <summary>True when the batch carries at least one probe result.</summary>
    public static bool HasProbeSamples(SampleBatch batch) => batch.Samples.Any(s => s.Metric == ProbeRules.Metric);

    /// <summary>Evaluates one batch; returns how many (rule, host, target) evaluations ran.</summary>
    public int Evaluate(SampleBatch batch, int partition, IReadOnlyList<CompiledRule> rules, List<ProbeStateEvent> events, RetiredTargets? retired = null)
    {
        _probeSamples.Clear();
        foreach (var sample in batch.Samples)
        {
            if (sample.Metric == ProbeRules.Metric && double.IsFinite(sample.Value)
                && sample.Labels.TryGetValue(ProbeRules.TargetLabel, out var target) && target.Length > 0 && retired?.Contains(target) != true)
            {
                _probeSamples.Add(sample);
            }
        }
        if (_probeSamples.Count == 0)
        {
            return 0;
        }
        if (!ReferenceEquals(rules, _rulesSeen))
        {
            ForgetRetiredRules(rules);
        }
        // A batch may hold several results of one target: evaluate them in time order.
        _probeSamples.Sort(static (a, b) => a.TimestampUnixMs.CompareTo(b.TimestampUnixMs));
        var evaluated = 0;
        foreach (var rule in rules)
        {
            if (!rule.Spec.Enabled || rule.Spec.Kind != RuleKinds.Probe || !rule.AppliesToHost(batch.HostId, locations.LocationOf))
            {
                continue;
            }
            foreach (var sample in _probeSamples)
            {
                if (!LabelsMatch(sample, rule.Spec.LabelFilter))
                {
                    continue;
                }
                var target = sample.Labels[ProbeRules.TargetLabel];
                var entry = GetOrCreate(rule.Id, batch.HostId, target);
                var state = entry.State;
                if (state.Phase is Phases.Ok or Phases.Resolved)
                {
                    state.RuleVersion = rule.Version;
                }
                var kind = ProbeStateMachine.Evaluate(state, rule.Spec.ConsecutiveBreaches, sample.TimestampUnixMs, sample.Value >= 0.5, sample.Message);
                evaluated++;
                if (kind == TransitionKind.None)
                {
                    continue;
                }
                entry.Dirty = true;
                entry.Partition = partition;
                if (kind is TransitionKind.Fired or TransitionKind.Resolved)
                {
                    events.Add(new ProbeStateEvent(rule, entry, kind, sample.TimestampUnixMs, state.Failures, state.FirstFailureMs, [.. state.Messages]));
                }
            }
        }
        return evaluated;
    }

    /// <summary>
    /// The catalog changed: states of probe rules that are gone or disabled are dropped (their alerts were ended and
    /// their rows deleted by the rule change), so a rule enabled again starts from ok instead of a stale firing state.
    /// </summary>
    private void ForgetRetiredRules(IReadOnlyList<CompiledRule> rules)
    {
        _rulesSeen = rules;
        var live = rules.Where(r => r.Spec.Enabled && r.Spec.Kind == RuleKinds.Probe).Select(r => r.Id).ToHashSet();
        foreach (var key in _entries.Keys.Where(k => !live.Contains(k.RuleId)).ToList())
        {
            _entries.Remove(key);
        }
    }

    private ProbeStateEntry GetOrCreate(long ruleId, string hostId, string target)
    {
        if (!_entries.TryGetValue((ruleId, hostId, target), out var entry))
        {
            entry = new ProbeStateEntry(ruleId, hostId, target);
            _entries[(ruleId, hostId, target)] = entry;
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
