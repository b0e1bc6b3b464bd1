using Monitor.WarningService.Rules;

namespace Monitor.WarningService.Probes;

/// <summary>What is special about rules of kind <c>probe</c>.</summary>
internal static class ProbeRules
{
    /// <summary>The metric every probe result carries (1 = success, 0 = failure).</summary>
    public const string Metric = "probe_success";

    /// <summary>The label naming the target (the agent is the sample's host).</summary>
    public const string TargetLabel = "target";

    /// <summary>Name of the probe rule shipped enabled, so every target alerts out of the box.</summary>
    public const string DefaultRuleName = "probe: target failing";

    /// <summary>The rule seeded at start-up: 3 consecutive failures, the target's channels, repeat hourly while firing.</summary>
    public static RuleSpec DefaultRule() => new()
    {
        Name = DefaultRuleName,
        Kind = RuleKinds.Probe,
        Metric = Metric,
        Scope = new RuleScope { Kind = "all" },
        Bands = new SeverityBands { Critical = 0 },
        ConsecutiveBreaches = 3,
        UseTargetChannels = true,
        NotifyOnResolve = true,
        RepeatIntervalSeconds = 3600,
    };

    /// <summary>Probe-specific checks: the metric is <c>probe_success</c> (set when empty).</summary>
    public static void Validate(RuleSpec spec, Action<string, string> add)
    {
        if (string.IsNullOrEmpty(spec.Metric))
        {
            spec.Metric = Metric;
        }
        else if (spec.Metric != Metric)
        {
            add("metric", $"a probe rule evaluates '{Metric}' (leave metric empty or set it to '{Metric}')");
        }
    }

    /// <summary>The alert severity: the highest band present, critical when none is.</summary>
    public static string Severity(RuleSpec spec) => spec.PresentBands().Select(b => b.Severity).LastOrDefault() ?? Severities.Critical;
}
