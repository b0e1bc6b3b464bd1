using Monitor.Diagnostics.SelfMetrics;
using Monitor.ManageService.Stats;
using Xunit;

namespace Monitor.ManageService.UnitTests;

public sealed class PipelineHealthTests
{
    private static SelfFiguresSnapshot Snapshot(string kind, params SelfFigure[] figures) =>
        new(kind, "i1", $"monitor.{kind}.i1", new DateTimeOffset(2026, 11, 23, 10, 0, 0, TimeSpan.Zero), 15, figures);

    private static SelfFigure F(string metric, double value, params (string K, string V)[] labels) =>
        new(metric, "counter", labels.ToDictionary(l => l.K, l => l.V), value, value);

    [Fact]
    public void Judge_NoLiveInstance_IsDown()
    {
        var stage = PipelineHealthService.Judge("persistence", "persistent", 0, []);
        Assert.Equal("down", stage.Status);
        Assert.Contains("no live persistent instance", stage.Reasons[0], StringComparison.Ordinal);
    }

    [Fact]
    public void Judge_WriteFailures_AreFailing_AndFiguresSumOverInstances()
    {
        var stage = PipelineHealthService.Judge("persistence", "persistent", 2,
        [
            Snapshot("persistent", F("monitor_persistence_write_failures", 3, ("kind", "transient")), F("monitor_persistence_consumer_lag_sum", 10)),
            Snapshot("persistent", F("monitor_persistence_write_failures", 1, ("kind", "transient")), F("monitor_persistence_consumer_lag_sum", 5)),
        ]);
        Assert.Equal("failing", stage.Status);
        Assert.Equal(4, stage.Figures["writeFailures"]);
        Assert.Equal(15, stage.Figures["consumerLag"]);
    }

    [Fact]
    public void Judge_LagAboveThreshold_IsBehind()
    {
        var stage = PipelineHealthService.Judge("persistence", "persistent", 1,
            [Snapshot("persistent", F("monitor_persistence_consumer_lag_sum", PipelineHealthService.LagBehindThreshold + 1))]);
        Assert.Equal("behind", stage.Status);
    }

    [Fact]
    public void Judge_FailedNotifications_AreFailing_SentOnesAreNot()
    {
        var ok = PipelineHealthService.Judge("alerting", "warning", 1, [Snapshot("warning", F("monitor_warning_sends", 5, ("status", "sent")))]);
        Assert.Equal("ok", ok.Status);
        Assert.Equal(5, ok.Figures["notificationsSent"]);
        var failing = PipelineHealthService.Judge("alerting", "warning", 1, [Snapshot("warning", F("monitor_warning_sends", 2, ("status", "failed")))]);
        Assert.Equal("failing", failing.Status);
        Assert.Equal(2, failing.Figures["notificationFailures"]);
    }

    [Fact]
    public void Judge_RuleEvaluationLag_SlowestInstanceCounts_AboveThresholdIsBehind()
    {
        // Arrange
        var lagging = PipelineHealthService.EvaluationLagBehindSeconds + 30;

        // Act
        var ok = PipelineHealthService.Judge("alerting", "warning", 2,
            [Snapshot("warning", F("monitor_warning_evaluation_lag", 2)), Snapshot("warning", F("monitor_warning_evaluation_lag", 4), F("monitor_warning_elected_pass_age", 10))]);
        var behind = PipelineHealthService.Judge("alerting", "warning", 2,
            [Snapshot("warning", F("monitor_warning_evaluation_lag", 2)), Snapshot("warning", F("monitor_warning_evaluation_lag", lagging))]);

        // Assert
        Assert.Equal("ok", ok.Status);
        Assert.Equal(4, ok.Figures["evaluationLagSeconds"]);
        Assert.Equal(10, ok.Figures["electedPassAgeSeconds"]);
        Assert.Equal("behind", behind.Status);
        Assert.Equal(lagging, behind.Figures["evaluationLagSeconds"]);
        Assert.Contains("rule evaluation lag", Assert.Single(behind.Reasons), StringComparison.Ordinal);
        Assert.False(behind.Figures.ContainsKey("electedPassAgeSeconds"));
    }

    [Fact]
    public void Judge_ElectedPassTooOld_IsBehind_WithFailedNotificationsFailing()
    {
        // Arrange
        var old = F("monitor_warning_elected_pass_age", PipelineHealthService.ElectedPassBehindSeconds + 1);

        // Act
        var behind = PipelineHealthService.Judge("alerting", "warning", 1, [Snapshot("warning", old)]);
        var failing = PipelineHealthService.Judge("alerting", "warning", 1, [Snapshot("warning", old, F("monitor_warning_sends", 1, ("status", "failed")))]);

        // Assert
        Assert.Equal("behind", behind.Status);
        Assert.Contains("elected evaluator", Assert.Single(behind.Reasons), StringComparison.Ordinal);
        Assert.Equal("failing", failing.Status);
        Assert.Equal(2, failing.Reasons.Count);
    }

    [Theory]
    [InlineData("http://127.0.0.1:8100", "http://127.0.0.1:8100")]
    [InlineData("http://0.0.0.0:8100", "http://127.0.0.1:8100")]
    [InlineData("http://*:8100", "http://127.0.0.1:8100")]
    [InlineData("https://manage.example:8443/", "https://manage.example:8443")]
    [InlineData("ftp://x:1", null)]
    [InlineData("", null)]
    public void BaseUrl_UsesLoopbackForWildcards(string registered, string? expected) =>
        Assert.Equal(expected, RequestStatsAggregator.BaseUrl(registered));
}
