using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using Monitor.WarningService.Options;

namespace Monitor.WarningService.Rules;

/// <summary>Checks a rule definition; every error names the JSON field it concerns (e.g. <c>bands.critical</c>).</summary>
internal sealed partial class RuleValidator(IOptions<WarningOptions> options)
{
    private static readonly string[] Kinds = [RuleKinds.Threshold, RuleKinds.RateOfChange, RuleKinds.NoData, RuleKinds.Probe];
    private static readonly string[] ScopeKinds = ["host", "location", "all"];
    private static readonly string[] Aggregations = ["last", "mean", "max", "min", "p95"];
    private static readonly string[] Comparators = ["gt", "ge", "lt", "le"];
    private readonly HashSet<string> _metrics = new(options.Value.KnownMetrics, StringComparer.Ordinal);

    /// <summary>Returns field → messages; empty when valid. <paramref name="knownChannels"/> null skips the channel check.</summary>
    public Dictionary<string, string[]> Validate(RuleSpec? spec, ISet<string>? knownChannels)
    {
        var errors = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        void Add(string field, string message)
        {
            if (!errors.TryGetValue(field, out var list))
            {
                errors[field] = list = [];
            }
            list.Add(message);
        }

        if (spec is null)
        {
            Add("body", "a rule definition is required");
            return Finish(errors);
        }
        if (string.IsNullOrWhiteSpace(spec.Name) || spec.Name.Length > 128)
        {
            Add("name", "name is required, 1..128 characters");
        }
        if (!Kinds.Contains(spec.Kind))
        {
            Add("kind", $"kind must be one of {string.Join(", ", Kinds)}");
        }
        var noData = spec.Kind == RuleKinds.NoData;
        var probe = spec.Kind == RuleKinds.Probe;
        if (probe)
        {
            Probes.ProbeRules.Validate(spec, Add);
        }
        else if (!noData || !string.IsNullOrEmpty(spec.Metric))
        {
            if (string.IsNullOrEmpty(spec.Metric))
            {
                Add("metric", "metric is required");
            }
            else if (!_metrics.Contains(spec.Metric))
            {
                Add("metric", $"unknown metric '{spec.Metric}'");
            }
        }
        foreach (var (k, v) in spec.LabelFilter ?? [])
        {
            if (!LabelName().IsMatch(k) || v is null || v.Length > 256)
            {
                Add("labelFilter", $"invalid label filter '{k}'");
            }
        }
        if (spec.Scope is null || !ScopeKinds.Contains(spec.Scope.Kind))
        {
            Add("scope.kind", "scope.kind must be one of host, location, all");
        }
        else if (spec.Scope.Kind != "all" && string.IsNullOrWhiteSpace(spec.Scope.Value))
        {
            Add("scope.value", $"scope '{spec.Scope.Kind}' needs a value (empty scope)");
        }
        if (spec.AcrossHosts && (spec.Kind is not (RuleKinds.Threshold or RuleKinds.RateOfChange) || spec.Scope?.Kind is not ("all" or "location")))
        {
            Add("acrossHosts", "acrossHosts needs a threshold or rate_of_change rule with scope all or location");
        }
        if (spec.AcrossHosts && spec.Kind == RuleKinds.RateOfChange && spec.WindowSeconds is > 0 and < 10)
        {
            // The aggregate is compared between buckets of at least 5 s (Evaluation.ElectedEvaluator.RateBucket).
            Add("windowSeconds", "an acrossHosts rate_of_change rule needs a window of at least 10 seconds");
        }
        if (spec.AcrossHosts && spec.WindowSeconds <= 0)
        {
            Add("windowSeconds", "an acrossHosts rule needs a window > 0 seconds");
        }
        if (!Aggregations.Contains(spec.Aggregation))
        {
            Add("aggregation", $"aggregation must be one of {string.Join(", ", Aggregations)}");
        }
        if (!double.IsFinite(spec.WindowSeconds) || spec.WindowSeconds < 0 || spec.WindowSeconds > 86_400)
        {
            Add("windowSeconds", "windowSeconds must be between 0 and 86400");
        }
        if (spec.Kind == RuleKinds.RateOfChange && spec.WindowSeconds <= 0)
        {
            Add("windowSeconds", "a rate_of_change rule needs a window > 0 seconds");
        }
        if (!Comparators.Contains(spec.Comparator))
        {
            Add("comparator", "comparator must be one of gt, ge, lt, le");
        }
        if (spec.ConsecutiveBreaches is < 1 or > 10_000)
        {
            Add("consecutiveBreaches", "consecutiveBreaches must be between 1 and 10000");
        }
        if (!double.IsFinite(spec.ForSeconds) || spec.ForSeconds < 0 || spec.ForSeconds > 86_400)
        {
            Add("forSeconds", "forSeconds must be between 0 and 86400");
        }
        if (!double.IsFinite(spec.RepeatIntervalSeconds) || spec.RepeatIntervalSeconds < 0 || spec.RepeatIntervalSeconds > 7 * 86_400)
        {
            Add("repeatIntervalSeconds", "repeatIntervalSeconds must be between 0 and 604800");
        }
        if (noData)
        {
            if (!double.IsFinite(spec.NoDataAfterSeconds) || spec.NoDataAfterSeconds <= 0 || spec.NoDataAfterSeconds > 7 * 86_400)
            {
                Add("noDataAfterSeconds", "a no_data rule needs noDataAfterSeconds > 0");
            }
        }
        else if (!probe)
        {
            ValidateBands(spec, Add);
        }
        var channels = spec.Channels ?? [];
        for (int i = 0; i < channels.Count; i++)
        {
            if (knownChannels is not null && !knownChannels.Contains(channels[i]))
            {
                Add($"channels[{i}]", $"unknown channel '{channels[i]}'");
            }
        }
        return Finish(errors);
    }

    private static void ValidateBands(RuleSpec spec, Action<string, string> add)
    {
        var bands = spec.Bands is null ? [] : spec.PresentBands().ToList();
        if (bands.Count == 0)
        {
            add("bands", "at least one of bands.info, bands.warning, bands.critical is required");
            return;
        }
        foreach (var (severity, threshold) in bands)
        {
            if (!double.IsFinite(threshold))
            {
                add($"bands.{severity}", "threshold must be a finite number");
            }
        }
        var rising = spec.Comparator is "gt" or "ge";
        for (int i = 1; i < bands.Count; i++)
        {
            var ordered = rising ? bands[i].Threshold > bands[i - 1].Threshold : bands[i].Threshold < bands[i - 1].Threshold;
            if (!ordered)
            {
                add($"bands.{bands[i].Severity}",
                    $"thresholds in the wrong order: {bands[i].Severity} ({bands[i].Threshold}) must be {(rising ? "above" : "below")} {bands[i - 1].Severity} ({bands[i - 1].Threshold})");
            }
        }
        if (spec.RecoveryThreshold is { } recovery)
        {
            var lowest = bands[0].Threshold;
            if (!double.IsFinite(recovery) || (rising ? recovery > lowest : recovery < lowest))
            {
                add("recoveryThreshold", $"recoveryThreshold must be on the healthy side of the lowest band ({lowest})");
            }
        }
    }

    private static Dictionary<string, string[]> Finish(Dictionary<string, List<string>> errors) =>
        errors.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray(), StringComparer.Ordinal);

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]{0,63}$")]
    private static partial Regex LabelName();
}
