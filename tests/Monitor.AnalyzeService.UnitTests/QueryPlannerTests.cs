using Monitor.AnalyzeService.Options;
using Monitor.AnalyzeService.Query;
using Xunit;

namespace Monitor.AnalyzeService.UnitTests;

public sealed class QueryPlannerTests
{
    private const long Minute = 60_000, Hour = 3_600_000, Day = 86_400_000;
    private static readonly long Now = 1_800_000_000_000 - (1_800_000_000_000 % Hour) + (17 * Minute) + 5_000;
    private static readonly RetentionOptions Retention = new();

    private static RollupCoverage Covered(long from, long to1m, long to1h)
    {
        var coverage = new RollupCoverage();
        coverage.Set(Resolution.Rollup1m, from, to1m);
        coverage.Set(Resolution.Rollup1h, from, to1h);
        return coverage;
    }

    private static long Floor(long ms, long unit) => QueryPlanner.FloorTo(ms, unit);

    [Fact]
    public void HourlyStep_UsesHourRollups_WithARawTail()
    {
        var from = Now - (30 * Day);
        var to1h = Floor(Now, Hour);
        var parts = QueryPlanner.Plan(Now - (10 * Day), Now, TimeSpan.FromHours(1), AggregateFunction.Mean, Now, Retention, Covered(from, Floor(Now, Minute), to1h));
        Assert.Equal([new QueryPart(Resolution.Rollup1h, Now - (10 * Day), to1h), new QueryPart(Resolution.Raw, to1h, Now)], parts);
    }

    [Fact]
    public void MinuteStep_UsesMinuteRollups()
    {
        var to1m = Floor(Now, Minute) - Minute;
        var parts = QueryPlanner.Plan(Now - Hour, Now, TimeSpan.FromMinutes(5), AggregateFunction.Max, Now, Retention, Covered(Now - Day, to1m, Floor(Now, Hour)));
        Assert.Equal(Resolution.Rollup1m, parts[0].Resolution);
        // The switch to raw is on a step boundary, so no step mixes sources.
        Assert.Equal(0, parts[0].EndMs % (5 * Minute));
        Assert.Equal(Resolution.Raw, parts[1].Resolution);
        Assert.Equal(Now, parts[1].EndMs);
    }

    [Theory]
    [InlineData("last")]
    [InlineData("p99")]
    public void FunctionsRollupsCannotAnswer_ReadRaw(string name)
    {
        var function = QueryParsing.Function(name);
        var parts = QueryPlanner.Plan(Now - Hour, Now, TimeSpan.FromHours(1), function, Now, Retention, Covered(Now - Day, Now, Now));
        Assert.Equal([new QueryPart(Resolution.Raw, Now - Hour, Now)], parts);
    }

    [Fact]
    public void StepNotAMultipleOfAMinute_ReadsRaw() =>
        Assert.Equal(Resolution.Raw, QueryPlanner.Plan(Now - Hour, Now, TimeSpan.FromSeconds(30), AggregateFunction.Mean, Now, Retention, Covered(Now - Day, Now, Now))[0].Resolution);

    [Fact]
    public void RawSamples_ReadRaw() =>
        Assert.Equal(Resolution.Raw, QueryPlanner.Plan(Now - Hour, Now, null, AggregateFunction.Mean, Now, Retention, Covered(Now - Day, Now, Now))[0].Resolution);

    [Fact]
    public void RangeStartingBeforeRollupCoverage_ReadsRawWhileRawStillHoldsIt()
    {
        var coverage = Covered(Now - (2 * Hour), Floor(Now, Minute), Floor(Now, Hour));
        Assert.Equal(Resolution.Raw, QueryPlanner.Plan(Now - (3 * Hour), Now, TimeSpan.FromMinutes(1), AggregateFunction.Mean, Now, Retention, coverage)[0].Resolution);
        // Older than raw retention: the rollup is the best there is.
        Assert.Equal(Resolution.Rollup1m, QueryPlanner.Plan(Now - (8 * Day), Now, TimeSpan.FromMinutes(1), AggregateFunction.Mean, Now, Retention, coverage)[0].Resolution);
    }

    [Fact]
    public void NoCoverageYetOrRollupsDisabled_ReadsRaw()
    {
        Assert.Equal(Resolution.Raw, QueryPlanner.Plan(Now - Hour, Now, TimeSpan.FromHours(1), AggregateFunction.Mean, Now, Retention, new RollupCoverage())[0].Resolution);
        var disabled = new RetentionOptions { RollupsEnabled = false };
        Assert.Equal(Resolution.Raw, QueryPlanner.Plan(Now - Hour, Now, TimeSpan.FromHours(1), AggregateFunction.Mean, Now, disabled, Covered(Now - Day, Now, Now))[0].Resolution);
    }
}
