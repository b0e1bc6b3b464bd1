using Monitor.Protos.V1;
using Monitor.WarningService.Evaluation;
using Monitor.WarningService.Hosts;
using Monitor.WarningService.Notifications;
using Monitor.WarningService.Options;
using Monitor.WarningService.Rules;
using RuleSpec = Monitor.WarningService.Rules.RuleSpec;
using SeverityBands = Monitor.WarningService.Rules.SeverityBands;
using Xunit;

namespace Monitor.WarningService.UnitTests;

public sealed class StreamEvaluatorTests
{
    private static readonly CompiledRule CpuRule = new(1, 1, new RuleSpec
    {
        Name = "cpu",
        Metric = "cpu_rate",
        Bands = new SeverityBands { Warning = 90 },
        ConsecutiveBreaches = 1,
    });

    [Fact]
    public void DirtyEntries_OnlyTheTransitionedEntries_UntilPersisted()
    {
        // Arrange: 50 hosts evaluated, two of them breach.
        var evaluator = new StreamEvaluator(new WarningOptions(), new NoLocations(), new DeletedHosts());
        var events = new List<StateEvent>();
        for (var h = 0; h < 50; h++)
        {
            evaluator.Evaluate(Batch($"host-{h}", 1_000, h is 7 or 9 ? 95 : 10), 0, [CpuRule], events);
        }

        // Act
        var dirty = evaluator.DirtyEntries();
        var again = evaluator.DirtyEntries();
        evaluator.Persisted();
        var afterPersist = evaluator.DirtyEntries();

        // Assert
        Assert.Equal(50, evaluator.EntryCount);
        Assert.Equal(["host-7", "host-9"], dirty.Select(e => e.HostId).Order());
        Assert.Equal(2, events.Count);
        Assert.Equal(dirty, again);
        Assert.Empty(afterPersist);
    }

    [Fact]
    public void DirtyEntries_EntryTransitionsTwiceBeforeAFlush_ListedOnce()
    {
        // Arrange
        var evaluator = new StreamEvaluator(new WarningOptions(), new NoLocations(), new DeletedHosts());
        var events = new List<StateEvent>();

        // Act: fires, then recovers, before anything is persisted.
        evaluator.Evaluate(Batch("host-1", 1_000, 95), 0, [CpuRule], events);
        evaluator.Evaluate(Batch("host-1", 2_000, 10), 0, [CpuRule], events);

        // Assert
        Assert.Equal([TransitionKind.Fired, TransitionKind.Resolved], events.Select(e => e.Transition.Kind));
        Assert.Single(evaluator.DirtyEntries());
    }

    [Fact]
    public void DirtyEntries_HostDeletedMeanwhile_Dropped()
    {
        // Arrange
        var deleted = new DeletedHosts();
        var evaluator = new StreamEvaluator(new WarningOptions(), new NoLocations(), deleted);
        var events = new List<StateEvent>();
        evaluator.Evaluate(Batch("host-1", 1_000, 95), 0, [CpuRule], events);
        evaluator.Evaluate(Batch("host-2", 1_000, 95), 0, [CpuRule], events);

        // Act
        deleted.Add("host-1");
        var dirty = evaluator.DirtyEntries();

        // Assert
        Assert.Equal("host-2", Assert.Single(dirty).HostId);
        Assert.Equal(1, evaluator.EntryCount);
    }

    private static SampleBatch Batch(string host, long ms, double cpu) => new()
    {
        HostId = host,
        Samples =
        {
            new Sample { Metric = "cpu_rate", Value = cpu, TimestampUnixMs = ms },
            new Sample { Metric = "mem_rate", Value = 50, TimestampUnixMs = ms },
        },
    };

    private sealed class NoLocations : IHostLocationResolver
    {
        public string? LocationOf(string hostId) => null;

        public IReadOnlyList<string> HostsIn(string location) => [];
    }
}
