using Monitor.WarningService.Evaluation;
using Monitor.WarningService.Options;
using Monitor.WarningService.Rules;
using Xunit;

namespace Monitor.WarningService.UnitTests;

public sealed class FleetRateTests
{
    private readonly RuleValidator _validator = new(Microsoft.Extensions.Options.Options.Create(new WarningOptions()));

    private static RuleSpec RateAcrossHosts(double windowSeconds) => new()
    {
        Name = "fleet cpu climbing",
        Kind = RuleKinds.RateOfChange,
        Metric = "cpu_rate",
        Scope = new RuleScope { Kind = "all" },
        AcrossHosts = true,
        Aggregation = "mean",
        WindowSeconds = windowSeconds,
        Bands = new SeverityBands { Warning = 1 },
    };

    [Fact]
    public void RateOf_FirstAndLastBucket_PerSecondChangeWhateverTheOrder()
    {
        // Arrange: buckets 5 s apart, not in time order.
        (long, double)[] points = [(10_000, 30), (0, 10), (5_000, 25)];

        // Act
        var rate = ElectedEvaluator.RateOf(points);

        // Assert: (30 - 10) / 10 s
        Assert.Equal(2.0, rate);
    }

    [Fact]
    public void RateOf_FewerThanTwoBuckets_NoValue()
    {
        Assert.Null(ElectedEvaluator.RateOf([]));
        Assert.Null(ElectedEvaluator.RateOf([(5_000, 3.0)]));
    }

    [Theory]
    [InlineData(10, 5)]
    [InlineData(20, 5)]
    [InlineData(60, 10)]
    [InlineData(65, 10)]
    [InlineData(3600, 600)]
    public void RateBucket_SixthOfTheWindowInWholeSeconds_AtLeastFive(double window, double expectedSeconds)
    {
        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), ElectedEvaluator.RateBucket(window));
    }

    [Fact]
    public void Validate_RateOfChangeAcrossHosts_Accepted_AndElected()
    {
        var spec = RateAcrossHosts(60);

        Assert.Empty(_validator.Validate(spec, null));
        var rule = new CompiledRule(1, 1, spec);
        Assert.True(rule.IsElectedRule);
        Assert.False(rule.IsStreamRule);
    }

    [Fact]
    public void Validate_RateOfChangeAcrossHosts_WindowBelowTenSeconds_NamesWindow()
    {
        Assert.Contains("windowSeconds", _validator.Validate(RateAcrossHosts(5), null).Keys);
        Assert.Contains("windowSeconds", _validator.Validate(RateAcrossHosts(0), null).Keys);
    }

    [Fact]
    public void Validate_AcrossHostsOnOneHostOrNoData_NamesAcrossHosts()
    {
        var oneHost = RateAcrossHosts(60);
        oneHost.Scope = new RuleScope { Kind = "host", Value = "h1" };
        var noData = RateAcrossHosts(60);
        noData.Kind = RuleKinds.NoData;
        noData.NoDataAfterSeconds = 30;

        Assert.Contains("acrossHosts", _validator.Validate(oneHost, null).Keys);
        Assert.Contains("acrossHosts", _validator.Validate(noData, null).Keys);
    }
}
