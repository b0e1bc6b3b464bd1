using Microsoft.Extensions.Options;
using Monitor.Protos.V1;
using Monitor.ReportService.Options;
using Monitor.ReportService.Validation;
using Xunit;

namespace Monitor.ReportService.UnitTests;

public sealed class BatchValidatorTests
{
    private const long Now = 1_700_000_000_000;

    private static BatchValidator Validator(Action<ReportOptions>? configure = null) => TestValidator.Create(configure);

    private static SampleBatch Batch(params Sample[] samples)
    {
        var batch = new SampleBatch { HostId = "host-1", Sequence = 7 };
        batch.Samples.AddRange(samples);
        return batch;
    }

    private static Sample S(string metric = "cpu_rate", double value = 1.5, long ts = Now, params (string, string)[] labels)
    {
        var s = new Sample { Metric = metric, Value = value, TimestampUnixMs = ts };
        foreach (var (k, v) in labels)
        {
            s.Labels[k] = v;
        }
        return s;
    }

    [Fact]
    public void Validate_AllValid_ReturnsSameBatchWithoutRejections()
    {
        // Arrange
        var batch = Batch(S(), S("mem_rate", 40, labels: ("mount", "/")));

        // Act
        var result = Validator().Validate(batch, Now);

        // Assert
        Assert.Same(batch, result.Accepted);
        Assert.Empty(result.Rejections);
        Assert.Equal(2, result.AcceptedCount);
    }

    [Theory]
    [InlineData("", "host_id_missing")]
    [InlineData("bad\nhost", "host_id_invalid")]
    public void Validate_BadHostId_RejectsWholeBatch(string hostId, string reason)
    {
        // Arrange
        var batch = Batch(S());
        batch.HostId = hostId;

        // Act
        var result = Validator().Validate(batch, Now);

        // Assert
        Assert.Null(result.Accepted);
        var rejection = Assert.Single(result.Rejections);
        Assert.Equal(-1, rejection.Index);
        Assert.Equal(reason, rejection.Reason);
        Assert.Contains("host_id", rejection.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_HostIdTooLong_RejectsWholeBatch()
    {
        // Arrange
        var batch = Batch(S());
        batch.HostId = new string('h', 129);

        // Act
        var result = Validator().Validate(batch, Now);

        // Assert
        Assert.Equal(RejectionReasons.HostIdTooLong, Assert.Single(result.Rejections).Reason);
    }

    [Fact]
    public void Validate_TooManySamples_RejectsWholeBatchAsTooLarge()
    {
        // Arrange
        var batch = Batch(S(), S(), S());

        // Act
        var result = Validator(o => o.MaxSamplesPerBatch = 2).Validate(batch, Now);

        // Assert
        Assert.Null(result.Accepted);
        Assert.Equal(RejectionReasons.BatchTooLarge, Assert.Single(result.Rejections).Reason);
    }

    [Theory]
    [InlineData("CPU", "invalid_metric_name")]
    [InlineData("1cpu", "invalid_metric_name")]
    [InlineData("cpu-rate", "invalid_metric_name")]
    [InlineData("", "invalid_metric_name")]
    public void Validate_BadMetricName_RejectsOnlyThatSample(string metric, string reason)
    {
        // Arrange
        var batch = Batch(S(), S(metric), S("mem_rate"));

        // Act
        var result = Validator().Validate(batch, Now);

        // Assert
        var rejection = Assert.Single(result.Rejections);
        Assert.Equal(1, rejection.Index);
        Assert.Equal(reason, rejection.Reason);
        Assert.Contains("samples[1].metric", rejection.Detail, StringComparison.Ordinal);
        Assert.Equal(["cpu_rate", "mem_rate"], result.Accepted!.Samples.Select(s => s.Metric));
    }

    [Fact]
    public void Validate_MetricNameTooLong_Rejected()
    {
        // Act
        var result = Validator(o => o.MaxMetricNameLength = 5).Validate(Batch(S("cpu_rate")), Now);

        // Assert
        Assert.Equal(RejectionReasons.MetricNameTooLong, Assert.Single(result.Rejections).Reason);
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    public void Validate_NonFiniteValue_Rejected(double value)
    {
        // Act
        var result = Validator().Validate(Batch(S(value: value)), Now);

        // Assert
        var rejection = Assert.Single(result.Rejections);
        Assert.Equal(RejectionReasons.NonFiniteValue, rejection.Reason);
        Assert.Contains("samples[0].value", rejection.Detail, StringComparison.Ordinal);
        Assert.Null(result.Accepted is { Samples.Count: > 0 } ? result.Accepted : null);
    }

    [Theory]
    [InlineData(-8 * 24 * 3600 * 1000L)]
    [InlineData(11 * 60 * 1000L)]
    public void Validate_TimestampOutsideWindow_Rejected(long offsetMs)
    {
        // Act
        var result = Validator().Validate(Batch(S(ts: Now + offsetMs)), Now);

        // Assert
        Assert.Equal(RejectionReasons.TimestampOutOfRange, Assert.Single(result.Rejections).Reason);
    }

    [Theory]
    [InlineData(-6 * 24 * 3600 * 1000L)]
    [InlineData(9 * 60 * 1000L)]
    public void Validate_TimestampInsideWindow_Accepted(long offsetMs)
    {
        // Act
        var result = Validator().Validate(Batch(S(ts: Now + offsetMs)), Now);

        // Assert
        Assert.Empty(result.Rejections);
    }

    [Fact]
    public void Validate_TooManyLabels_Rejected()
    {
        // Act
        var result = Validator(o => o.MaxLabelsPerSample = 1).Validate(Batch(S(labels: [("a", "1"), ("b", "2")])), Now);

        // Assert
        Assert.Equal(RejectionReasons.TooManyLabels, Assert.Single(result.Rejections).Reason);
    }

    [Theory]
    [InlineData("host_id", "x", "invalid_label_key")]
    [InlineData("bad key", "x", "invalid_label_key")]
    [InlineData("9lives", "x", "invalid_label_key")]
    [InlineData("mount", "", "invalid_label_value")]
    [InlineData("mount", "a\nb", "invalid_label_value")]
    public void Validate_BadLabel_Rejected(string key, string value, string reason)
    {
        // Act
        var result = Validator().Validate(Batch(S(labels: (key, value))), Now);

        // Assert
        Assert.Equal(reason, Assert.Single(result.Rejections).Reason);
    }

    [Fact]
    public void Validate_LabelValueTooLong_Rejected()
    {
        // Act
        var result = Validator(o => o.MaxLabelValueLength = 3).Validate(Batch(S(labels: ("mount", "/data"))), Now);

        // Assert
        Assert.Equal(RejectionReasons.InvalidLabelValue, Assert.Single(result.Rejections).Reason);
    }

    [Fact]
    public void Validate_SeriesBeyondLimit_RejectedButKnownSeriesStillAccepted()
    {
        // Arrange
        var validator = Validator(o => o.MaxSeriesPerHost = 2);
        validator.Validate(Batch(S("a"), S("b")), Now);

        // Act
        var result = validator.Validate(Batch(S("a"), S("c"), S("b")), Now);

        // Assert
        var rejection = Assert.Single(result.Rejections);
        Assert.Equal(1, rejection.Index);
        Assert.Equal(RejectionReasons.SeriesLimitExceeded, rejection.Reason);
        Assert.Equal(["a", "b"], result.Accepted!.Samples.Select(s => s.Metric));
    }

    [Fact]
    public void Validate_SameMetricOtherLabelValues_CountAsSeparateSeries()
    {
        // Arrange
        var validator = Validator(o => o.MaxSeriesPerHost = 2);
        validator.Validate(Batch(S("disk", labels: ("mount", "/")), S("disk", labels: ("mount", "/data"))), Now);

        // Act
        var result = validator.Validate(Batch(S("disk", labels: ("mount", "/boot")), S("disk", labels: ("mount", "/"))), Now);

        // Assert: the third mount is a new series beyond the limit; a known one still passes.
        var rejection = Assert.Single(result.Rejections);
        Assert.Equal((0, RejectionReasons.SeriesLimitExceeded), (rejection.Index, rejection.Reason));
    }

    [Fact]
    public void Validate_SameLabelsInOtherOrder_CountAsOneSeries()
    {
        // Arrange
        var validator = Validator(o => o.MaxSeriesPerHost = 1);
        validator.Validate(Batch(S("a", labels: [("x", "1"), ("y", "2")])), Now);

        // Act
        var result = validator.Validate(Batch(S("a", labels: [("y", "2"), ("x", "1")])), Now);

        // Assert
        Assert.Empty(result.Rejections);
    }

    [Fact]
    public void Validate_SentAtFarFromNow_FlagsClockSkew()
    {
        // Arrange
        var batch = Batch(S());
        batch.SentAtUnixMs = Now + 30_000;

        // Act
        var result = Validator().Validate(batch, Now);

        // Assert
        Assert.True(result.ClockSkewed);
        Assert.Equal(30_000, result.ClockSkewMs);
        Assert.Empty(result.Rejections);
    }

    [Fact]
    public void Validate_SentAtCloseToNow_NotSkewed()
    {
        // Arrange
        var batch = Batch(S());
        batch.SentAtUnixMs = Now - 100;

        // Act
        var result = Validator().Validate(batch, Now);

        // Assert
        Assert.False(result.ClockSkewed);
        Assert.Equal(-100, result.ClockSkewMs);
    }

    [Fact]
    public void Validate_MessageOverLimit_RejectedWithFieldNamed()
    {
        // Arrange
        var ok = S();
        ok.Message = "abc";
        var tooLong = S("probe_success");
        tooLong.Message = new string('x', 11);

        // Act
        var result = Validator(o => o.MaxMessageLength = 10).Validate(Batch(ok, tooLong), Now);

        // Assert
        var rejection = Assert.Single(result.Rejections);
        Assert.Equal((1, RejectionReasons.MessageTooLong), (rejection.Index, rejection.Reason));
        Assert.Contains("samples[1].message", rejection.Detail, StringComparison.Ordinal);
        Assert.Equal("abc", Assert.Single(result.Accepted!.Samples).Message);
    }
}
