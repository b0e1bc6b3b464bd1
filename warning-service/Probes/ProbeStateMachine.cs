using Monitor.WarningService.Evaluation;

namespace Monitor.WarningService.Probes;

/// <summary>In-memory state of one (probe rule, agent host, target); mirrors <see cref="ProbeAlertStateEntity"/>.</summary>
internal sealed class ProbeAlertState
{
    /// <summary><c>ok</c>, <c>pending</c> (failing, not yet enough), <c>firing</c>, <c>resolved</c>.</summary>
    public string Phase { get; set; } = Phases.Ok;

    /// <summary>Consecutive failures so far in this episode.</summary>
    public int Failures { get; set; }

    /// <summary>Sample time of the first failure of the episode (unix ms).</summary>
    public long FirstFailureMs { get; set; }

    /// <summary>Sample time of the latest result evaluated (unix ms); older or equal ones are redeliveries.</summary>
    public long LastSampleMs { get; set; }

    /// <summary>The failure messages of the episode, oldest first (at most <see cref="ProbeStateMachine.MaxMessages"/>).</summary>
    public List<string> Messages { get; set; } = [];

    public long? AlertId { get; set; }

    public int RuleVersion { get; set; }
}

/// <summary>
/// The probe rule kind: N consecutive failures (<c>probe_success</c> = 0) of one target seen from one agent fire one
/// alert; the first success afterwards resolves it; a success before the N-th failure starts the count again, so a
/// flapping target never fires unless it fails N times in a row. While firing, further failures change nothing (the
/// dispatcher repeats only per the rule's repeat interval). Results at or before the last one evaluated are
/// redeliveries and change nothing.
/// </summary>
internal static class ProbeStateMachine
{
    /// <summary>Most failure messages kept as evidence.</summary>
    public const int MaxMessages = 20;

    /// <summary>Longest failure message kept (characters).</summary>
    public const int MaxMessageLength = 512;

    public static TransitionKind Evaluate(ProbeAlertState state, int failuresNeeded, long sampleMs, bool success, string? message)
    {
        if (sampleMs <= state.LastSampleMs)
        {
            return TransitionKind.None;
        }
        state.LastSampleMs = sampleMs;
        if (success)
        {
            switch (state.Phase)
            {
                case Phases.Firing:
                    state.Phase = Phases.Resolved;
                    state.Failures = 0;
                    return TransitionKind.Resolved;
                case Phases.Pending:
                    state.Phase = Phases.Ok;
                    state.Failures = 0;
                    state.Messages.Clear();
                    return TransitionKind.Progress;
                default:
                    return TransitionKind.None;
            }
        }
        if (state.Phase == Phases.Firing)
        {
            return TransitionKind.None;
        }
        if (state.Phase != Phases.Pending)
        {
            state.Phase = Phases.Pending;
            state.Failures = 0;
            state.FirstFailureMs = sampleMs;
            state.Messages.Clear();
            state.AlertId = null;
        }
        state.Failures++;
        var text = string.IsNullOrEmpty(message) ? "(no message)" : message.Length > MaxMessageLength ? message[..MaxMessageLength] : message;
        state.Messages.Add(text);
        if (state.Messages.Count > MaxMessages)
        {
            state.Messages.RemoveAt(0);
        }
        if (state.Failures >= Math.Max(1, failuresNeeded))
        {
            state.Phase = Phases.Firing;
            return TransitionKind.Fired;
        }
        return TransitionKind.Progress;
    }
}
