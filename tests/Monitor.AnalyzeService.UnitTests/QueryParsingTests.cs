using Monitor.AnalyzeService.Options;
using Monitor.AnalyzeService.Query;
using Xunit;

namespace Monitor.AnalyzeService.UnitTests;

public sealed class QueryParsingTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("500ms", 500)]
    [InlineData("30s", 30_000)]
    [InlineData("1m", 60_000)]
    [InlineData("1h30m", 5_400_000)]
    [InlineData("7d", 604_800_000)]
    [InlineData("2w", 1_209_600_000)]
    public void Duration_ParsesUnits(string text, long expectedMs) =>
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), QueryParsing.Duration(text, "step"));

    [Theory]
    [InlineData("")]
    [InlineData("1")]
    [InlineData("m")]
    [InlineData("1y")]
    [InlineData("-1m")]
    [InlineData("0s")]
    [InlineData("1.5m")]
    [InlineData("99999999999999d")]
    [InlineData("1m; DROP DATABASE monitor")]
    public void Duration_RejectsGarbage_NamingTheField(string text)
    {
        var ex = Assert.Throws<AnalyzeValidationException>(() => QueryParsing.Duration(text, "step"));
        Assert.Equal("step", ex.Field);
    }

    [Theory]
    [InlineData("-1h", 3_600_000)]
    [InlineData("-30m", 1_800_000)]
    public void RelativeStart_ParsesNegativeDurations(string text, long ms) =>
        Assert.Equal(TimeSpan.FromMilliseconds(ms), QueryParsing.RelativeStart(text, "StartFrom"));

    [Theory]
    [InlineData("1h")]
    [InlineData("-")]
    [InlineData("-x")]
    public void RelativeStart_RequiresMinus(string text) =>
        Assert.Equal("StartFrom", Assert.Throws<AnalyzeValidationException>(() => QueryParsing.RelativeStart(text, "StartFrom")).Field);

    [Theory]
    [InlineData("CPU_Rate", "cpu_rate")]
    [InlineData("cpu_rate", "cpu_rate")]
    [InlineData("MEM_Rate", "mem_rate")]
    [InlineData("mem_rate", "mem_rate")]
    [InlineData("disk_used_percent", "disk_used_percent")]
    public void Metric_MapsOriginalNames(string text, string expected) => Assert.Equal(expected, QueryParsing.Metric(text));

    [Theory]
    [InlineData("Cpu Rate")]
    [InlineData("cpu_rate\"")]
    [InlineData("cpu_rate; DROP DATABASE monitor")]
    [InlineData("/.*/")]
    [InlineData("")]
    public void Metric_RejectsNonNames(string text) =>
        Assert.Equal("metric", Assert.Throws<AnalyzeValidationException>(() => QueryParsing.Metric(text)).Field);

    [Theory]
    [InlineData("mean", "mean")]
    [InlineData("", "mean")]
    [InlineData("MAX", "max")]
    [InlineData("p95", "p95")]
    [InlineData("last", "last")]
    public void Function_Parses(string text, string expected) => Assert.Equal(expected, QueryParsing.Function(text).Name());

    [Theory]
    [InlineData("median2")]
    [InlineData("percentile(value, 99)")]
    [InlineData("mean(\"value\")")]
    public void Function_RejectsUnknown(string text) =>
        Assert.Equal("function", Assert.Throws<AnalyzeValidationException>(() => QueryParsing.Function(text)).Field);

    [Fact]
    public void Label_ParsesKeyEqualsValue_ValueMayContainEquals()
    {
        var label = QueryParsing.Label("mount=/a=b");
        Assert.Equal(new LabelMatch("mount", "/a=b"), label);
    }

    [Theory]
    [InlineData("mount")]
    [InlineData("=x")]
    [InlineData("mo unt=/")]
    [InlineData("host_id=a")]
    [InlineData("mount=a\nb")]
    [InlineData("\"mount\"=/")]
    public void Label_RejectsBadFilters(string text) =>
        Assert.Equal("label", Assert.Throws<AnalyzeValidationException>(() => QueryParsing.Label(text)).Field);

    [Theory]
    [InlineData("a\nb")]
    [InlineData("a\rb")]
    [InlineData("a\0b")]
    [InlineData("")]
    public void HostId_RejectsControlCharactersAndEmpty(string text) =>
        Assert.Equal("hostId", Assert.Throws<AnalyzeValidationException>(() => QueryParsing.HostId(text)).Field);

    [Fact]
    public void HostId_AcceptsQuotesAndRegexCharacters_TheyAreEscapedLater() =>
        Assert.Equal("a'\"\\/;.*", QueryParsing.HostId("a'\"\\/;.*"));

    [Fact]
    public void Instant_AcceptsRfc3339RelativeAndNow()
    {
        Assert.Equal(new DateTimeOffset(2026, 11, 23, 10, 0, 0, TimeSpan.Zero), QueryParsing.Instant("2026-11-23T10:00:00Z", Now, "start"));
        Assert.Equal(new DateTimeOffset(2026, 11, 23, 10, 0, 0, TimeSpan.Zero), QueryParsing.Instant("2026-11-23T12:00:00+02:00", Now, "start"));
        Assert.Equal(Now.AddHours(-1), QueryParsing.Instant("-1h", Now, "start"));
        Assert.Equal(Now, QueryParsing.Instant("now", Now, "end"));
        Assert.Null(QueryParsing.Instant(null, Now, "end"));
        Assert.Equal("end", Assert.Throws<AnalyzeValidationException>(() => QueryParsing.Instant("yesterday", Now, "end")).Field);
        Assert.Equal("end", Assert.Throws<AnalyzeValidationException>(() => QueryParsing.Instant("2026-11-23", Now, "end")).Field);
    }

    [Fact]
    public void Range_DefaultsToLastHour_AndRejectsReversedOrTooLong()
    {
        var options = new AnalyzeOptions { MaxRange = TimeSpan.FromDays(30) };
        Assert.Equal((Now.AddHours(-1), Now), QueryParsing.Range(null, null, Now, options));
        Assert.Equal("start", Assert.Throws<AnalyzeValidationException>(() => QueryParsing.Range(Now, Now.AddHours(-1), Now, options)).Field);
        var tooLong = Assert.Throws<AnalyzeValidationException>(() => QueryParsing.Range(Now.AddDays(-31), Now, Now, options));
        Assert.Contains("longer than", tooLong.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Step_TooSmallForRange_IsRefusedWithTheSmallestAllowedStep()
    {
        var options = new AnalyzeOptions { MaxPointsPerSeries = 1000 };
        var ex = Assert.Throws<AnalyzeValidationException>(() => QueryParsing.Step(TimeSpan.FromSeconds(1), Now.AddDays(-1), Now, options));
        Assert.Equal("step", ex.Field);
        Assert.Contains("at least 2m", ex.Message, StringComparison.Ordinal);
        Assert.Equal(TimeSpan.FromMinutes(2), QueryParsing.Step(TimeSpan.FromMinutes(2), Now.AddDays(-1), Now, options));
    }

    [Fact]
    public void Step_BelowMinimum_IsRefused()
    {
        var options = new AnalyzeOptions { MinStep = TimeSpan.FromSeconds(1) };
        Assert.Equal("step", Assert.Throws<AnalyzeValidationException>(() => QueryParsing.Step(TimeSpan.FromMilliseconds(100), Now.AddMinutes(-1), Now, options)).Field);
    }
}
