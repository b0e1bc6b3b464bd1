using System.Text.Json;
using Monitor.IntegrationTests.Warning;
using Monitor.TestUtilities;
using Xunit;

namespace Monitor.IntegrationTests.SelfObservability;

/// <summary>
/// Rule-evaluation lag measured by a real warning service (its own Kafka topic, MariaDB database and election key): the
/// stream evaluator's lag is now minus the newest sample it evaluated, the elected evaluator reports the age of its last
/// completed pass, both in the instance's pipeline figures (what it feeds to the pipeline and manage's health reads).
/// </summary>
public sealed class EvaluationLagTests
{
    private const string Figures = "/api/v1/warning/instance/stats/pipeline";

    [Fact]
    public async Task WarningInstance_ReportsTheLagBehindTheNewestEvaluatedSample_AndTheElectedPassAge()
    {
        // Arrange: a figure snapshot every second.
        var ct = TestContext.Current.CancellationToken;
        await using var h = await WarningHarness.StartAsync(settings: new() { ["SelfMetrics__Interval"] = "00:00:01" });
        var before = await h.GetAsync(Figures);
        Assert.Null(Figure(before, "monitor_warning_evaluation_lag"));

        // Act: a sample stamped two minutes ago is the newest the evaluator has seen.
        var old = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds() - 120_000;
        await h.ProduceAtAsync("lag-host", old, ("cpu_rate", 1));
        double behind = 0;
        await Poll.UntilAsync(async () => Figure(await h.GetAsync(Figures), "monitor_warning_evaluation_lag") is { } v && (behind = v) > 0,
            TimeSpan.FromSeconds(60), "the stream evaluator's lag in the pipeline figures", ct);

        // Assert: at least the sample's age; a newer sample brings it down.
        Assert.True(behind >= 120, $"lag {behind} s behind a sample 120 s old");
        await h.ProduceAsync("lag-host", ("cpu_rate", 1));
        double caughtUp = 0;
        await Poll.UntilAsync(async () => Figure(await h.GetAsync(Figures), "monitor_warning_evaluation_lag") is { } v && (caughtUp = v) < 120,
            TimeSpan.FromSeconds(60), "the lag to follow the newer sample", ct);
        Assert.True(caughtUp >= 0);
        // The single instance holds the election: it reports how long ago its last pass completed.
        double? passAge = null;
        await Poll.UntilAsync(async () => (passAge = Figure(await h.GetAsync(Figures), "monitor_warning_elected_pass_age")) is not null,
            TimeSpan.FromSeconds(60), "the elected evaluator's pass age in the pipeline figures", ct);
        Assert.True(passAge >= 0);
    }

    private static double? Figure(JsonElement snapshot, string metric) =>
        snapshot.GetProperty("figures").EnumerateArray().Where(f => f.GetProperty("metric").GetString() == metric)
            .Select(f => (double?)f.GetProperty("value").GetDouble()).FirstOrDefault();
}
