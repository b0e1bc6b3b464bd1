using Monitor.WarningService.Rules;

namespace Monitor.WarningService.Evaluation;

internal static class Phases
{
    public const string Ok = "ok";
    public const string Pending = "pending";
    public const string Firing = "firing";
    public const string Resolved = "resolved";
}

/// <summary>In-memory state of one (rule, host); mirrors <see cref="Data.AlertStateEntity"/>.</summary>
internal sealed class AlertState
{
    public string Phase { get; set; } = Phases.Ok;
    public int Count { get; set; }
    public string? Severity { get; set; }
    public long PendingSinceMs { get; set; }
    public long LastSampleMs { get; set; }
    public double LastValue { get; set; }
    public List<double> BreachValues { get; set; } = [];
    public long? AlertId { get; set; }
    public int RuleVersion { get; set; }
}

internal enum TransitionKind
{
    None,
    /// <summary>Only the persisted progress changed (pending count, back to ok).</summary>
    Progress,
    Fired,
    Escalated,
    Resolved,
}

/// <summary>What one evaluation did.</summary>
internal readonly record struct Transition(TransitionKind Kind, string? Severity = null, double Threshold = 0, double Value = 0);

/// <summary>The compiled, immutable thresholds of one rule version.</summary>
internal sealed class RuleThresholds
{
    public RuleThresholds(RuleSpec spec)
    {
        Comparator = spec.Comparator;
        Bands = spec.PresentBands().ToArray();
        ConsecutiveBreaches = Math.Max(1, spec.ConsecutiveBreaches);
        ForMs = (long)(spec.ForSeconds * 1000);
        Recovery = spec.RecoveryThreshold ?? (Bands.Length > 0 ? Bands[0].Threshold : 0);
    }

    public string Comparator { get; }
    public (string Severity, double Threshold)[] Bands { get; }
    public int ConsecutiveBreaches { get; }
    public long ForMs { get; }
    public double Recovery { get; }

    public static bool Compare(string comparator, double value, double threshold) => comparator switch
    {
        "gt" => value > threshold,
        "ge" => value >= threshold,
        "lt" => value < threshold,
        "le" => value <= threshold,
        _ => false,
    };

    /// <summary>The highest band breached, or null.</summary>
    public (string Severity, double Threshold)? Breached(double value)
    {
        for (int i = Bands.Length - 1; i >= 0; i--)
        {
            if (Compare(Comparator, value, Bands[i].Threshold))
            {
                return Bands[i];
            }
        }
        return null;
    }

    /// <summary>Hysteresis: a firing alert resolves only once the value is on the healthy side of the recovery threshold.</summary>
    public bool Recovered(double value) => !Compare(Comparator, value, Recovery);
}

/// <summary>
/// ok → pending → firing → resolved for one (rule, host). Evaluations are keyed on the sample time:
/// one at or before <see cref="AlertState.LastSampleMs"/> is a redelivery and changes nothing.
/// </summary>
internal static class AlertStateMachine
{
    /// <summary>Most breaching values kept as evidence.</summary>
    public const int MaxEvidence = 20;

    public static Transition Evaluate(AlertState state, RuleThresholds rule, long sampleMs, double value)
    {
        if (sampleMs <= state.LastSampleMs)
        {
            return new Transition(TransitionKind.None);
        }
        state.LastSampleMs = sampleMs;
        state.LastValue = value;
        var breached = rule.Breached(value);

        if (state.Phase == Phases.Firing)
        {
            if (rule.Recovered(value))
            {
                state.Phase = Phases.Resolved;
                state.Count = 0;
                state.BreachValues.Clear();
                return new Transition(TransitionKind.Resolved, state.Severity, rule.Recovery, value);
            }
            if (breached is { } b && Severities.Rank(b.Severity) > Severities.Rank(state.Severity))
            {
                state.Severity = b.Severity;
                return new Transition(TransitionKind.Escalated, b.Severity, b.Threshold, value);
            }
            return new Transition(TransitionKind.None);
        }

        if (breached is not { } band)
        {
            if (state.Phase == Phases.Pending)
            {
                state.Phase = Phases.Ok;
                state.Count = 0;
                state.Severity = null;
                state.BreachValues.Clear();
                return new Transition(TransitionKind.Progress);
            }
            return new Transition(TransitionKind.None);
        }

        if (state.Phase != Phases.Pending)
        {
            state.Phase = Phases.Pending;
            state.Count = 0;
            state.PendingSinceMs = sampleMs;
            state.BreachValues.Clear();
            state.Severity = null;
        }
        state.Count++;
        state.BreachValues.Add(value);
        if (state.BreachValues.Count > MaxEvidence)
        {
            state.BreachValues.RemoveAt(0);
        }
        if (Severities.Rank(band.Severity) > Severities.Rank(state.Severity))
        {
            state.Severity = band.Severity;
        }
        if (state.Count >= rule.ConsecutiveBreaches && sampleMs - state.PendingSinceMs >= rule.ForMs)
        {
            state.Phase = Phases.Firing;
            var fired = rule.Bands.First(x => x.Severity == state.Severity);
            return new Transition(TransitionKind.Fired, state.Severity, fired.Threshold, value);
        }
        return new Transition(TransitionKind.Progress);
    }
}
