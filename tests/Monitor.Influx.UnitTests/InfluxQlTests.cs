namespace Monitor.Influx.UnitTests;

public sealed class InfluxQlTests
{
    [Theory]
    [InlineData("cpu_rate", "\"cpu_rate\"")]
    [InlineData("cpu rate", "\"cpu rate\"")]
    [InlineData("say \"hi\"", "\"say \\\"hi\\\"\"")]
    [InlineData(@"C:\path", @"""C:\\path""")]
    [InlineData("it's", "\"it's\"")]
    [InlineData("a\nb", @"""a\nb""")]
    public void QuoteIdentifier_SpecialCharacters_EscapesBackslashQuoteAndNewline(string identifier, string expected)
    {
        // Act
        var quoted = InfluxQl.QuoteIdentifier(identifier);

        // Assert
        Assert.Equal(expected, quoted);
    }

    [Theory]
    [InlineData("h1", "'h1'")]
    [InlineData("it's", @"'it\'s'")]
    [InlineData(@"a\b", @"'a\\b'")]
    [InlineData("say \"hi\"", "'say \"hi\"'")]
    [InlineData("", "''")]
    [InlineData(@"x' OR '1'='1", @"'x\' OR \'1\'=\'1'")]
    public void QuoteString_SpecialCharacters_EscapesBackslashAndSingleQuote(string value, string expected)
    {
        // Act
        var quoted = InfluxQl.QuoteString(value);

        // Assert
        Assert.Equal(expected, quoted);
    }

    [Theory]
    [InlineData("a\rb")]
    [InlineData("a\0b")]
    public void QuoteString_CarriageReturnOrNul_ThrowsArgumentException(string value)
    {
        // Act
        var ex = Assert.Throws<ArgumentException>(() => InfluxQl.QuoteString(value));

        // Assert
        Assert.Equal("value", ex.ParamName);
    }

    [Fact]
    public void QuoteIdentifier_Empty_ThrowsArgumentException()
    {
        // Act + Assert
        Assert.Throws<ArgumentException>(() => InfluxQl.QuoteIdentifier(""));
    }

    [Theory]
    [InlineData("cpu_rate", true)]
    [InlineData("a", true)]
    [InlineData("mem2_used_bytes", true)]
    [InlineData("", false)]
    [InlineData(null, false)]
    [InlineData("Cpu", false)]
    [InlineData("1cpu", false)]
    [InlineData("_cpu", false)]
    [InlineData("cpu-rate", false)]
    [InlineData("cpu rate", false)]
    [InlineData("cpu\"; DROP", false)]
    [InlineData("ç", false)]
    public void IsValidMetricName_Input_MatchesSchemaRule(string? name, bool expected)
    {
        // Act
        var valid = InfluxQl.IsValidMetricName(name);

        // Assert
        Assert.Equal(expected, valid);
    }

    [Fact]
    public void IsValidMetricName_TooLong_ReturnsFalse()
    {
        // Act + Assert
        Assert.True(InfluxQl.IsValidMetricName(new string('a', InfluxQl.MaxMetricNameLength)));
        Assert.False(InfluxQl.IsValidMetricName(new string('a', InfluxQl.MaxMetricNameLength + 1)));
    }

    [Fact]
    public void ValidateMetricName_Invalid_ThrowsNamingParameter()
    {
        // Act
        var ex = Assert.Throws<ArgumentException>(() => InfluxQl.ValidateMetricName("Bad", "metric"));

        // Assert
        Assert.Equal("metric", ex.ParamName);
    }

    [Fact]
    public void TimeLiteral_Instant_FormatsUnixMilliseconds()
    {
        // Act + Assert
        Assert.Equal("1700000000123ms", InfluxQl.TimeLiteral(1_700_000_000_123));
        Assert.Equal("-5ms", InfluxQl.TimeLiteral(-5));
        Assert.Equal("1700000000000ms", InfluxQl.TimeLiteral(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000)));
    }

    [Theory]
    [InlineData(1_500, "1500ms")]
    [InlineData(90_000, "90s")]
    [InlineData(60_000, "1m")]
    [InlineData(3_600_000, "1h")]
    [InlineData(86_400_000, "1d")]
    [InlineData(1_209_600_000, "2w")]
    public void DurationLiteral_Duration_UsesLargestExactUnit(long milliseconds, string expected)
    {
        // Act + Assert
        Assert.Equal(expected, InfluxQl.DurationLiteral(TimeSpan.FromMilliseconds(milliseconds)));
    }

    [Fact]
    public void DurationLiteral_SubMillisecond_Throws()
    {
        // Act + Assert
        Assert.Throws<ArgumentOutOfRangeException>(() => InfluxQl.DurationLiteral(TimeSpan.Zero));
        Assert.Throws<ArgumentOutOfRangeException>(() => InfluxQl.DurationLiteral(TimeSpan.FromTicks(15_000)));
    }
}
