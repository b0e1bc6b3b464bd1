using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Monitor.Protos.V1;
using Monitor.WarningService.Extensions;
using Xunit;

namespace Monitor.WarningService.UnitTests;

/// <summary>
/// Rule-evaluation lag: for the stream evaluator now − the newest evaluated sample's timestamp, for the elected evaluator
/// the age of its last completed pass; both published as gauges of the <c>Monitor.Warning</c> meter. Time is a fake clock.
/// </summary>
public sealed class EvaluationLagTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void StreamLag_NewestEvaluatedSample_GrowsWithTheClockAndDropsWithNewerSamples()
    {
        // Arrange
        var time = new FakeTimeProvider(Start);
        var lag = new EvaluationLag(time);
        var now = Start.ToUnixTimeMilliseconds();

        // Act / Assert
        Assert.Null(lag.StreamLagSeconds);
        lag.SampleEvaluated(now - 5_000);
        Assert.Equal(5, lag.StreamLagSeconds);
        // An older sample (a replayed spool) does not make the evaluator look further behind.
        lag.SampleEvaluated(now - 60_000);
        Assert.Equal(5, lag.StreamLagSeconds);
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(15, lag.StreamLagSeconds);
        lag.SampleEvaluated(now + 9_000);
        Assert.Equal(1, lag.StreamLagSeconds);
    }

    [Fact]
    public void StreamLag_SampleFromTheFuture_CountsAsNow_ThenAgesNormally()
    {
        // Arrange
        var time = new FakeTimeProvider(Start);
        var lag = new EvaluationLag(time);

        // Act
        lag.SampleEvaluated(Start.ToUnixTimeMilliseconds() + 3_600_000);
        var atOnce = lag.StreamLagSeconds;
        time.Advance(TimeSpan.FromSeconds(30));

        // Assert: an agent clock an hour ahead does not hide 30 s of not evaluating anything newer.
        Assert.Equal(0, atOnce);
        Assert.Equal(30, lag.StreamLagSeconds);
    }

    [Fact]
    public void StreamLag_PartitionsReleased_NoFigureUntilTheNextSample()
    {
        // Arrange
        var time = new FakeTimeProvider(Start);
        var lag = new EvaluationLag(time);
        lag.SampleEvaluated(Start.ToUnixTimeMilliseconds() - 1_000);

        // Act
        lag.PartitionsReleased();
        time.Advance(TimeSpan.FromMinutes(5));

        // Assert
        Assert.Null(lag.StreamLagSeconds);
        lag.SampleEvaluated(time.GetUtcNow().ToUnixTimeMilliseconds() - 2_000);
        Assert.Equal(2, lag.StreamLagSeconds);
    }

    [Fact]
    public void ElectedPassAge_OnlyWhileLeading_ResetByEachCompletedPass()
    {
        // Arrange
        var time = new FakeTimeProvider(Start);
        var lag = new EvaluationLag(time);

        // Act / Assert
        Assert.Null(lag.ElectedPassAgeSeconds);
        lag.Leading();
        time.Advance(TimeSpan.FromSeconds(4));
        Assert.Equal(4, lag.ElectedPassAgeSeconds);
        lag.PassCompleted();
        Assert.Equal(0, lag.ElectedPassAgeSeconds);
        // Passes failing (InfluxDB away): the age keeps growing.
        time.Advance(TimeSpan.FromSeconds(45));
        Assert.Equal(45, lag.ElectedPassAgeSeconds);
        lag.SteppedDown();
        Assert.Null(lag.ElectedPassAgeSeconds);
    }

    [Fact]
    public void Gauges_PublishTheLagOnTheWarningMeter_OnlyWhenThereIsOne()
    {
        // Arrange
        var time = new FakeTimeProvider(Start);
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var factory = services.GetRequiredService<IMeterFactory>();
        var metrics = new WarningMetrics(factory, time);
        var batch = new SampleBatch { HostId = "h1" };
        batch.Samples.Add(new Sample { Metric = "cpu_rate", Value = 1, TimestampUnixMs = Start.ToUnixTimeMilliseconds() - 7_000 });
        batch.Samples.Add(new Sample { Metric = "mem_rate", Value = 1, TimestampUnixMs = Start.ToUnixTimeMilliseconds() - 2_000 });

        // Act
        var before = Read(factory);
        metrics.Evaluated(batch);
        metrics.Lag.Leading();
        time.Advance(TimeSpan.FromSeconds(3));
        var after = Read(factory);

        // Assert
        Assert.Empty(before);
        Assert.Equal(5, after["monitor.warning.evaluation.lag"]);
        Assert.Equal(3, after["monitor.warning.elected.pass.age"]);
    }

    /// <summary>The observable instruments of the meters this test's factory created (not another test's).</summary>
    private static Dictionary<string, double> Read(IMeterFactory factory)
    {
        var values = new Dictionary<string, double>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "Monitor.Warning" && instrument.IsObservable && ReferenceEquals(instrument.Meter.Scope, factory))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<double>((instrument, value, _, _) => values[instrument.Name] = value);
        listener.Start();
        listener.RecordObservableInstruments();
        return values;
    }
}
