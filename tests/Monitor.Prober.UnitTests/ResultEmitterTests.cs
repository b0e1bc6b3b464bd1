using System.Text.RegularExpressions;
using Monitor.Prober.Probes;
using Monitor.Prober.Scheduling;
using Monitor.Prober.Targets;
using Xunit;

namespace Monitor.Prober.UnitTests;

/// <summary>Probe results become samples the report service accepts: names, labels, bounded reason, message.</summary>
public sealed partial class ResultEmitterTests
{
    private static readonly TargetDefinition Target = new("web.front-1", "http", TargetDefinition.ConfigFromJson("{}"), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(5), true);

    [GeneratedRegex("^[a-z][a-z0-9_]*$")]
    private static partial Regex MetricName();

    [Fact]
    public void ToSamples_Failure_SuccessZeroWithReasonAndMessage()
    {
        // Arrange
        var result = ProbeResult.Fail(ProbeFailure.Status, "HTTP 500 not accepted", [new("probe_http_status_code", 500)]);
        result.Duration = TimeSpan.FromMilliseconds(12.5);

        // Act
        var samples = ResultEmitter.ToSamples(Target, result, 1_700_000_000_000);

        // Assert
        var success = samples.Single(s => s.Metric == "probe_success");
        Assert.Equal(0, success.Value);
        Assert.Equal("status", success.Labels["reason"]);
        Assert.Equal("HTTP 500 not accepted", success.Message);
        Assert.Equal(12.5, samples.Single(s => s.Metric == "probe_duration_ms").Value);
        var status = samples.Single(s => s.Metric == "probe_http_status_code");
        Assert.Equal(500, status.Value);
        Assert.All(samples, s =>
        {
            Assert.Matches(MetricName(), s.Metric);
            Assert.Equal("web.front-1", s.Labels["target"]);
            Assert.Equal("http", s.Labels["type"]);
            Assert.Equal(1_700_000_000_000, s.TimestampUnixMs);
        });
    }

    [Fact]
    public void ToSamples_Success_NoReasonLabel_ExtraLabelsKept()
    {
        // Arrange
        var result = ProbeResult.Ok([new("probe_kafka_lag", 7, new Dictionary<string, string> { ["topic"] = "t", ["partition"] = "0" }), new("probe_bad", double.NaN)]);

        // Act
        var samples = ResultEmitter.ToSamples(Target, result, 1);

        // Assert
        Assert.Equal(1, samples.Single(s => s.Metric == "probe_success").Value);
        Assert.DoesNotContain(samples, s => s.Labels.ContainsKey("reason"));
        var lag = samples.Single(s => s.Metric == "probe_kafka_lag");
        Assert.Equal("0", lag.Labels["partition"]);
        Assert.DoesNotContain(samples, s => s.Metric == "probe_bad");
    }

    [Theory]
    [InlineData(ProbeFailure.Timeout, "timeout")]
    [InlineData(ProbeFailure.Refused, "refused")]
    [InlineData(ProbeFailure.Dns, "dns")]
    [InlineData(ProbeFailure.Status, "status")]
    [InlineData(ProbeFailure.Body, "body")]
    [InlineData(ProbeFailure.Tls, "tls")]
    [InlineData(ProbeFailure.Auth, "auth")]
    [InlineData(ProbeFailure.Error, "error")]
    public void ReasonLabel_IsTheBoundedEnum(ProbeFailure failure, string label) =>
        Assert.Equal(label, ProbeResult.ReasonLabel(failure));

    [Fact]
    public void Fail_LongMessageWithControlCharacters_TruncatedAndCleaned()
    {
        // Act
        var result = ProbeResult.Fail(ProbeFailure.Error, "line1\nline2" + new string('x', 5000));

        // Assert
        Assert.Equal(ProbeResult.MaxMessageLength, result.Message.Length);
        Assert.DoesNotContain('\n', result.Message);
        Assert.StartsWith("line1 line2", result.Message, StringComparison.Ordinal);
    }
}
