using Monitor.Protos.V1;
using Monitor.WarningService.Evaluation;
using Monitor.WarningService.Notifications;
using Monitor.WarningService.Probes;
using Monitor.WarningService.Rules;
using Xunit;

namespace Monitor.WarningService.UnitTests;

public sealed class ProbeStateMachineTests
{
    private long _ms = 1_763_900_000_000;

    private TransitionKind Step(ProbeAlertState state, bool success, string? message = null, int needed = 3)
    {
        _ms += 30_000;
        return ProbeStateMachine.Evaluate(state, needed, _ms, success, message);
    }

    [Fact]
    public void Evaluate_ThreeConsecutiveFailures_FireOnceOnTheThird()
    {
        var state = new ProbeAlertState();

        Assert.Equal(TransitionKind.Progress, Step(state, false, "refused 1"));
        Assert.Equal(TransitionKind.Progress, Step(state, false, "refused 2"));
        Assert.Equal(Phases.Pending, state.Phase);
        Assert.Equal(TransitionKind.Fired, Step(state, false, "refused 3"));
        Assert.Equal(Phases.Firing, state.Phase);
        Assert.Equal(["refused 1", "refused 2", "refused 3"], state.Messages);

        // Further failures while firing change nothing: no second alert, no spam.
        Assert.Equal(TransitionKind.None, Step(state, false, "refused 4"));
        Assert.Equal(TransitionKind.None, Step(state, false, "refused 5"));
        Assert.Equal(3, state.Messages.Count);
    }

    [Fact]
    public void Evaluate_FirstSuccessAfterFiring_ResolvesOnce()
    {
        var state = new ProbeAlertState();
        for (var i = 0; i < 3; i++)
        {
            Step(state, false, "timeout");
        }

        Assert.Equal(TransitionKind.Resolved, Step(state, true));
        Assert.Equal(Phases.Resolved, state.Phase);
        Assert.Equal(TransitionKind.None, Step(state, true));
        Assert.Equal(TransitionKind.None, Step(state, true));
    }

    [Fact]
    public void Evaluate_Flapping_NeverFiresWithoutNConsecutiveFailures()
    {
        var state = new ProbeAlertState();
        var transitions = new List<TransitionKind>();
        for (var round = 0; round < 20; round++)
        {
            transitions.Add(Step(state, false, "flap"));
            transitions.Add(Step(state, false, "flap"));
            transitions.Add(Step(state, true));
        }

        Assert.DoesNotContain(TransitionKind.Fired, transitions);
        Assert.Equal(Phases.Ok, state.Phase);
        Assert.Empty(state.Messages);
    }

    [Fact]
    public void Evaluate_FlappingAroundTheThreshold_OneAlertAndOneRecoveryPerEpisode()
    {
        var state = new ProbeAlertState();
        var fired = 0;
        var resolved = 0;
        for (var round = 0; round < 5; round++)
        {
            for (var i = 0; i < 4; i++)
            {
                var t = Step(state, false, "down");
                fired += t == TransitionKind.Fired ? 1 : 0;
            }
            var r = Step(state, true);
            resolved += r == TransitionKind.Resolved ? 1 : 0;
        }

        Assert.Equal(5, fired);
        Assert.Equal(5, resolved);
    }

    [Fact]
    public void Evaluate_RedeliveredOrOlderResult_ChangesNothing()
    {
        var state = new ProbeAlertState();
        ProbeStateMachine.Evaluate(state, 3, 1000, false, "a");
        ProbeStateMachine.Evaluate(state, 3, 2000, false, "b");

        Assert.Equal(TransitionKind.None, ProbeStateMachine.Evaluate(state, 3, 2000, false, "b"));
        Assert.Equal(TransitionKind.None, ProbeStateMachine.Evaluate(state, 3, 1500, false, "old"));
        Assert.Equal(2, state.Failures);
        Assert.Equal(TransitionKind.Fired, ProbeStateMachine.Evaluate(state, 3, 3000, false, "c"));
    }

    [Fact]
    public void Evaluate_LongMessages_AreBoundedInLengthAndCount()
    {
        var state = new ProbeAlertState();
        for (var i = 0; i < ProbeStateMachine.MaxMessages + 5; i++)
        {
            Step(state, false, new string('x', 2000), needed: 100);
        }

        Assert.Equal(ProbeStateMachine.MaxMessages, state.Messages.Count);
        Assert.All(state.Messages, m => Assert.Equal(ProbeStateMachine.MaxMessageLength, m.Length));
    }

    [Fact]
    public void Evaluator_KeysStatePerTargetAndAgent_AndFollowsLabelFilters()
    {
        var evaluator = new ProbeEvaluator(new NoLocations());
        var rule = new CompiledRule(7, 1, ProbeRules.DefaultRule());
        var events = new List<ProbeStateEvent>();
        for (var i = 1; i <= 3; i++)
        {
            evaluator.Evaluate(Batch("agent-1", i * 1000, ("db", 0), ("web", 1)), 0, [rule], events);
            evaluator.Evaluate(Batch("agent-2", i * 1000, ("db", i == 2 ? 1 : 0)), 1, [rule], events);
        }

        var fired = Assert.Single(events);
        Assert.Equal(TransitionKind.Fired, fired.Kind);
        Assert.Equal(("agent-1", "db"), (fired.Entry.HostId, fired.Entry.Target));
        Assert.Equal(["db down 1000", "db down 2000", "db down 3000"], fired.Messages);

        // A rule filtered to another target ignores these results.
        var filtered = ProbeRules.DefaultRule();
        filtered.LabelFilter["target"] = "web";
        var other = new ProbeEvaluator(new NoLocations());
        var none = new List<ProbeStateEvent>();
        for (var i = 1; i <= 3; i++)
        {
            other.Evaluate(Batch("agent-1", i * 1000, ("db", 0)), 0, [new CompiledRule(8, 1, filtered)], none);
        }
        Assert.Empty(none);
    }

    [Fact]
    public void Validator_AcceptsProbeRulesWithoutBandsAndRejectsOtherMetrics()
    {
        var validator = new RuleValidator(Microsoft.Extensions.Options.Options.Create(new Monitor.WarningService.Options.WarningOptions()));
        var spec = ProbeRules.DefaultRule();
        spec.Bands = new SeverityBands();
        spec.Metric = "";
        Assert.Empty(validator.Validate(spec, null));
        Assert.Equal(ProbeRules.Metric, spec.Metric);

        spec.Metric = "cpu_rate";
        Assert.Contains("metric", validator.Validate(spec, null).Keys);
    }

    private static SampleBatch Batch(string host, long ms, params (string Target, double Value)[] results)
    {
        var batch = new SampleBatch { HostId = host };
        foreach (var (target, value) in results)
        {
            var sample = new Sample { Metric = ProbeRules.Metric, Value = value, TimestampUnixMs = ms, Message = value < 0.5 ? $"{target} down {ms}" : "" };
            sample.Labels["target"] = target;
            sample.Labels["type"] = "tcp";
            batch.Samples.Add(sample);
        }
        return batch;
    }

    private sealed class NoLocations : IHostLocationResolver
    {
        public string? LocationOf(string hostId) => null;

        public IReadOnlyList<string> HostsIn(string location) => [];
    }
}
