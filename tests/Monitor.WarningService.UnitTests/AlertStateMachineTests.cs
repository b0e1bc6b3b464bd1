using Microsoft.Extensions.Time.Testing;
using Monitor.WarningService.Evaluation;
using Monitor.WarningService.Rules;
using Xunit;

namespace Monitor.WarningService.UnitTests;

public sealed class AlertStateMachineTests
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-11-23T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture));

    private static RuleThresholds Rule(int consecutive = 3, double? recovery = null, double forSeconds = 0, string comparator = "gt") => new(new RuleSpec
    {
        Name = "cpu",
        Metric = "cpu_rate",
        Comparator = comparator,
        Bands = comparator is "gt" or "ge" ? new SeverityBands { Info = 50, Warning = 70, Critical = 90 } : new SeverityBands { Info = 20, Warning = 10, Critical = 5 },
        ConsecutiveBreaches = consecutive,
        RecoveryThreshold = recovery,
        ForSeconds = forSeconds,
    });

    /// <summary>One evaluation one second after the previous one.</summary>
    private Transition Step(AlertState state, RuleThresholds rule, double value)
    {
        _time.Advance(TimeSpan.FromSeconds(1));
        return AlertStateMachine.Evaluate(state, rule, _time.GetUtcNow().ToUnixTimeMilliseconds(), value);
    }

    [Fact]
    public void Evaluate_ThreeConsecutiveBreaches_FiresOnTheThirdNotBefore()
    {
        // Arrange
        var state = new AlertState();
        var rule = Rule(consecutive: 3);

        // Act + Assert
        Assert.Equal(TransitionKind.Progress, Step(state, rule, 75).Kind);
        Assert.Equal(Phases.Pending, state.Phase);
        Assert.Equal(TransitionKind.Progress, Step(state, rule, 76).Kind);
        Assert.Equal(2, state.Count);
        var fired = Step(state, rule, 77);
        Assert.Equal(TransitionKind.Fired, fired.Kind);
        Assert.Equal(Severities.Warning, fired.Severity);
        Assert.Equal(70, fired.Threshold);
        Assert.Equal(Phases.Firing, state.Phase);
        Assert.Equal([75, 76, 77], state.BreachValues);
    }

    [Fact]
    public void Evaluate_BreachInterrupted_CountStartsOver()
    {
        // Arrange
        var state = new AlertState();
        var rule = Rule(consecutive: 3);

        // Act
        Step(state, rule, 80);
        Step(state, rule, 80);
        var back = Step(state, rule, 10);
        Step(state, rule, 80);
        var second = Step(state, rule, 80);

        // Assert
        Assert.Equal(TransitionKind.Progress, back.Kind);
        Assert.Equal(TransitionKind.Progress, second.Kind);
        Assert.Equal(Phases.Pending, state.Phase);
        Assert.Equal(2, state.Count);
    }

    [Fact]
    public void Evaluate_Hysteresis_ResolvesOnlyBelowRecoveryThreshold()
    {
        // Arrange
        var state = new AlertState();
        var rule = Rule(consecutive: 1, recovery: 40);
        Assert.Equal(TransitionKind.Fired, Step(state, rule, 60).Kind);

        // Act: below the lowest band (50) but above the recovery threshold (40) stays firing
        var between = Step(state, rule, 45);
        var recovered = Step(state, rule, 39);

        // Assert
        Assert.Equal(TransitionKind.None, between.Kind);
        Assert.Equal(TransitionKind.Resolved, recovered.Kind);
        Assert.Equal(39, recovered.Value);
        Assert.Equal(Phases.Resolved, state.Phase);
    }

    [Fact]
    public void Evaluate_HigherBandWhileFiring_Escalates()
    {
        // Arrange
        var state = new AlertState();
        var rule = Rule(consecutive: 1);
        Step(state, rule, 55);

        // Act
        var same = Step(state, rule, 60);
        var escalated = Step(state, rule, 95);

        // Assert
        Assert.Equal(TransitionKind.None, same.Kind);
        Assert.Equal(TransitionKind.Escalated, escalated.Kind);
        Assert.Equal(Severities.Critical, state.Severity);
    }

    [Fact]
    public void Evaluate_RedeliveredSample_ChangesNothing()
    {
        // Arrange
        var state = new AlertState();
        var rule = Rule(consecutive: 2);
        _time.Advance(TimeSpan.FromSeconds(1));
        var ms = _time.GetUtcNow().ToUnixTimeMilliseconds();
        AlertStateMachine.Evaluate(state, rule, ms, 80);

        // Act
        var again = AlertStateMachine.Evaluate(state, rule, ms, 80);

        // Assert
        Assert.Equal(TransitionKind.None, again.Kind);
        Assert.Equal(1, state.Count);
    }

    [Fact]
    public void Evaluate_ForDuration_WaitsUntilTheBreachLastedLongEnough()
    {
        // Arrange
        var state = new AlertState();
        var rule = Rule(consecutive: 1, forSeconds: 3);

        // Act + Assert: the first breach starts the clock; fires once 3 s have passed
        Assert.Equal(TransitionKind.Progress, Step(state, rule, 80).Kind);
        Assert.Equal(TransitionKind.Progress, Step(state, rule, 80).Kind);
        Assert.Equal(TransitionKind.Progress, Step(state, rule, 80).Kind);
        Assert.Equal(TransitionKind.Fired, Step(state, rule, 80).Kind);
    }

    [Fact]
    public void Evaluate_FallingComparator_FiresBelowAndResolvesAbove()
    {
        // Arrange
        var state = new AlertState();
        var rule = Rule(consecutive: 1, comparator: "lt", recovery: 30);

        // Act
        var fired = Step(state, rule, 4);
        var stillLow = Step(state, rule, 25);
        var resolved = Step(state, rule, 31);

        // Assert
        Assert.Equal(TransitionKind.Fired, fired.Kind);
        Assert.Equal(Severities.Critical, fired.Severity);
        Assert.Equal(TransitionKind.None, stillLow.Kind);
        Assert.Equal(TransitionKind.Resolved, resolved.Kind);
    }

    [Fact]
    public void Evaluate_AfterResolve_NextBreachStartsANewEpisode()
    {
        // Arrange
        var state = new AlertState();
        var rule = Rule(consecutive: 2);
        Step(state, rule, 80);
        Step(state, rule, 80);
        Step(state, rule, 10);

        // Act
        var first = Step(state, rule, 80);
        var fired = Step(state, rule, 80);

        // Assert
        Assert.Equal(TransitionKind.Progress, first.Kind);
        Assert.Equal(TransitionKind.Fired, fired.Kind);
    }
}
