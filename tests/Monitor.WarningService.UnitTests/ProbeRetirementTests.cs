using System.Collections.Frozen;
using Monitor.Protos.V1;
using Monitor.WarningService.Evaluation;
using Monitor.WarningService.Notifications;
using Monitor.WarningService.Probes;
using Monitor.WarningService.Rules;
using Xunit;

namespace Monitor.WarningService.UnitTests;

public sealed class ProbeRetirementTests
{
    [Fact]
    public void Evaluate_RetiredTarget_ResultsIgnored_OtherTargetsEvaluated()
    {
        // Arrange
        var evaluator = new ProbeEvaluator(new NoLocations());
        var rule = new CompiledRule(7, 1, ProbeRules.DefaultRule());
        var retired = new RetiredTargets(new[] { "gone" }.ToFrozenSet(StringComparer.Ordinal));
        var events = new List<ProbeStateEvent>();

        // Act
        for (var i = 1; i <= 3; i++)
        {
            evaluator.Evaluate(Batch("agent-1", i * 1000, ("gone", 0), ("db", 0)), 0, [rule], events, retired);
        }

        // Assert
        var fired = Assert.Single(events);
        Assert.Equal("db", fired.Entry.Target);
        Assert.Equal(1, evaluator.EntryCount);
    }

    [Fact]
    public void Drop_FiringStateOfRetiredTarget_Forgotten_SoItFiresAnewWhenBack()
    {
        // Arrange: the target fires.
        var evaluator = new ProbeEvaluator(new NoLocations());
        var rule = new CompiledRule(7, 1, ProbeRules.DefaultRule());
        var events = new List<ProbeStateEvent>();
        for (var i = 1; i <= 3; i++)
        {
            evaluator.Evaluate(Batch("agent-1", i * 1000, ("db", 0), ("web", 0)), 0, [rule], events);
        }
        Assert.Equal(2, events.Count);
        events.Clear();

        // Act: "db" is retired (its alert was ended in MySQL), then comes back and keeps failing.
        evaluator.Drop(new RetiredTargets(new[] { "db" }.ToFrozenSet(StringComparer.Ordinal)));
        Assert.Equal(1, evaluator.EntryCount);
        for (var i = 4; i <= 6; i++)
        {
            evaluator.Evaluate(Batch("agent-1", i * 1000, ("db", 0), ("web", 0)), 0, [rule], events);
        }

        // Assert: a new episode for "db" after three failures; "web" still fires, no second alert.
        var fired = Assert.Single(events);
        Assert.Equal((TransitionKind.Fired, "db", 3), (fired.Kind, fired.Entry.Target, fired.Failures));
    }

    [Fact]
    public void RuleDisabledThenEnabled_StaleFiringStateForgotten_FiresAnew()
    {
        // Arrange: the rule fires for "db".
        var evaluator = new ProbeEvaluator(new NoLocations());
        var events = new List<ProbeStateEvent>();
        IReadOnlyList<CompiledRule> enabled = [new CompiledRule(7, 1, ProbeRules.DefaultRule())];
        for (var i = 1; i <= 3; i++)
        {
            evaluator.Evaluate(Batch("agent-1", i * 1000, ("db", 0)), 0, enabled, events);
        }
        Assert.Single(events);
        events.Clear();

        // Act: the rule is disabled (its alert ended in MySQL), results keep coming, then it is enabled again.
        var disabledSpec = ProbeRules.DefaultRule();
        disabledSpec.Enabled = false;
        IReadOnlyList<CompiledRule> disabled = [new CompiledRule(7, 2, disabledSpec)];
        evaluator.Evaluate(Batch("agent-1", 4000, ("db", 0)), 0, disabled, events);
        var entriesWhileDisabled = evaluator.EntryCount;
        IReadOnlyList<CompiledRule> enabledAgain = [new CompiledRule(7, 3, ProbeRules.DefaultRule())];
        for (var i = 5; i <= 7; i++)
        {
            evaluator.Evaluate(Batch("agent-1", i * 1000, ("db", 0)), 0, enabledAgain, events);
        }

        // Assert: nothing kept while disabled; a new episode fires after three failures under the new version.
        Assert.Equal(0, entriesWhileDisabled);
        var fired = Assert.Single(events);
        Assert.Equal((TransitionKind.Fired, "db", 3, 3), (fired.Kind, fired.Entry.Target, fired.Failures, fired.Rule.Version));
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
