using System.Collections.ObjectModel;
using System.Globalization;
using System.Text;

namespace Monitor.Influx.UnitTests;

public sealed class LineProtocolBuilderTests
{
    private const long Ts = 1_700_000_000_123;

    private static KeyValuePair<string, string> Tag(string key, string value) => new(key, value);

    private static string Line(string measurement, KeyValuePair<string, string>[] tags, string fieldKey = "value", double value = 1.5, long ts = Ts)
    {
        var builder = new LineProtocolBuilder();
        builder.AppendPoint(measurement, tags, fieldKey, value, ts);
        return builder.ToString();
    }

    [Fact]
    public void AppendPoint_NoTags_WritesMeasurementFieldAndTimestamp()
    {
        // Arrange
        var builder = new LineProtocolBuilder();

        // Act
        builder.AppendPoint("cpu_rate", [], "value", 1.5, Ts);

        // Assert
        Assert.Equal("cpu_rate value=1.5 1700000000123\n", builder.ToString());
        Assert.Equal(1, builder.PointCount);
        Assert.Equal(builder.ToString().Length, builder.Length);
    }

    [Fact]
    public void AppendPoint_UnsortedTags_EmitsTagsSortedOrdinallyByKey()
    {
        // Arrange
        KeyValuePair<string, string>[] tags = [Tag("mount", "/"), Tag("host_id", "h1"), Tag("Zone", "z"), Tag("cpu", "0")];

        // Act
        var line = Line("disk_rate", tags);

        // Assert: ordinal puts upper case before lower case.
        Assert.Equal("disk_rate,Zone=z,cpu=0,host_id=h1,mount=/ value=1.5 1700000000123\n", line);
        Assert.Equal("mount", tags[0].Key); // the caller's array is not reordered
    }

    [Fact]
    public void AppendPoint_TagsAsDictionary_EmitsTagsSorted()
    {
        // Arrange
        var tags = new Dictionary<string, string> { ["iface"] = "eth0", ["host_id"] = "h1" };
        var builder = new LineProtocolBuilder();

        // Act
        builder.AppendPoint("net_rx", tags, "value", 2, Ts);

        // Assert
        Assert.Equal("net_rx,host_id=h1,iface=eth0 value=2 1700000000123\n", builder.ToString());
    }

    [Fact]
    public void AppendPoint_NullTags_WritesNoTags()
    {
        // Arrange
        var builder = new LineProtocolBuilder();

        // Act
        builder.AppendPoint("m", (IEnumerable<KeyValuePair<string, string>>?)null, "value", 1, Ts);

        // Assert
        Assert.Equal("m value=1 1700000000123\n", builder.ToString());
    }

    [Fact]
    public void AppendPoint_EmptyTagKeyOrValue_SkipsTag()
    {
        // Arrange
        KeyValuePair<string, string>[] tags = [Tag("host_id", "h1"), Tag("mount", ""), Tag("", "orphan"), Tag("cpu", null!)];

        // Act
        var line = Line("m", tags);

        // Assert
        Assert.Equal("m,host_id=h1 value=1.5 1700000000123\n", line);
    }

    [Theory]
    [InlineData("my measurement", @"my\ measurement")]
    [InlineData("a,b", @"a\,b")]
    [InlineData("a=b", "a=b")] // measurements do not escape '='
    [InlineData("say \"hi\"", "say\\ \"hi\"")] // double quotes are literal
    [InlineData("zürich", "zürich")]
    public void AppendPoint_SpecialCharactersInMeasurement_EscapedPerSpec(string measurement, string expected)
    {
        // Act
        var line = Line(measurement, []);

        // Assert
        Assert.Equal($"{expected} value=1.5 1700000000123\n", line);
    }

    [Theory]
    [InlineData("a b", @"a\ b")]
    [InlineData("a,b", @"a\,b")]
    [InlineData("a=b", @"a\=b")]
    [InlineData("a\"b", "a\"b")]
    [InlineData(" lead", @"\ lead")]
    public void AppendPoint_SpecialCharactersInTagKeyValueAndFieldKey_EscapedPerSpec(string raw, string expected)
    {
        // Act
        var line = Line("m", [Tag(raw, raw)], fieldKey: raw);

        // Assert
        Assert.Equal($"m,{expected}={expected} {expected}=1.5 1700000000123\n", line);
    }

    [Theory]
    // A backslash before an ordinary character stays single: every InfluxDB parser reads it as one backslash.
    [InlineData(@"C:\Windows", @"C:\Windows")]
    // Before another backslash or a character the element escapes, it is doubled (spec: "\\" is one backslash).
    [InlineData(@"a\\b", @"a\\\b")]
    [InlineData(@"a\,b", @"a\\\,b")]
    [InlineData(@"a\ b", @"a\\\ b")]
    [InlineData(@"a\=b", @"a\\\=b")]
    [InlineData("a\\\"b", "a\\\"b")] // tags do not escape '"', so "\"" stays as is
    public void AppendPoint_BackslashInTag_EscapedOnlyWhereAmbiguous(string raw, string expected)
    {
        // Act
        var line = Line("m", [Tag("k", raw)]);

        // Assert
        Assert.Equal($"m,k={expected} value=1.5 1700000000123\n", line);
    }

    [Theory]
    [InlineData(@"a\b", @"a\b")]
    [InlineData(@"a\ b", @"a\\\ b")]
    [InlineData(@"a\,b", @"a\\\,b")]
    [InlineData(@"a\=b", @"a\=b")] // '=' is not special in measurements
    public void AppendPoint_BackslashInMeasurement_EscapedOnlyWhereAmbiguous(string raw, string expected)
    {
        // Act
        var line = Line(raw, []);

        // Assert
        Assert.Equal($"{expected} value=1.5 1700000000123\n", line);
    }

    [Theory]
    [InlineData(@"a\b", @"a\b")]
    [InlineData("a\\\"b", "a\\\\\"b")] // field keys: the Go parser unescapes \" there, so the backslash is doubled
    [InlineData(@"a\=b", @"a\\\=b")]
    public void AppendPoint_BackslashInFieldKey_EscapedOnlyWhereAmbiguous(string raw, string expected)
    {
        // Act
        var line = Line("m", [], fieldKey: raw);

        // Assert
        Assert.Equal($"m {expected}=1.5 1700000000123\n", line);
    }

    [Theory]
    [InlineData("measurement")]
    [InlineData("tagKey")]
    [InlineData("tagValue")]
    [InlineData("fieldKey")]
    public void AppendPoint_ElementEndsInBackslash_ThrowsArgumentException(string element)
    {
        // Arrange
        var builder = new LineProtocolBuilder();

        // Act
        var ex = Assert.Throws<ArgumentException>(() => AppendWith(builder, element, @"ends\"));

        // Assert
        Assert.Contains("backslash", ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, builder.Length);
    }

    [Theory]
    [InlineData("measurement", "a\nb", "measurement")]
    [InlineData("tagKey", "a\nb", "tags")]
    [InlineData("tagValue", "a\nb", "tags")]
    [InlineData("fieldKey", "a\nb", "fieldKey")]
    [InlineData("tagValue", "a\r\nb", "tags")]
    [InlineData("tagValue", "a\tb", "tags")]
    [InlineData("measurement", "a\0b", "measurement")]
    public void AppendPoint_ControlCharacter_ThrowsArgumentExceptionNamingTheElement(string element, string text, string paramName)
    {
        // Arrange
        var builder = new LineProtocolBuilder();

        // Act
        var ex = Assert.Throws<ArgumentException>(() => AppendWith(builder, element, text));

        // Assert
        Assert.Equal(paramName, ex.ParamName);
        Assert.Contains("control character", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("\n", ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, builder.Length);
    }

    [Fact]
    public void AppendPoint_NewlineInTagValue_MessageNamesTagAndMeasurement()
    {
        // Arrange
        var builder = new LineProtocolBuilder();

        // Act
        var ex = Assert.Throws<ArgumentException>(() => builder.AppendPoint("disk_rate", [Tag("mount", "/a\nb")], "value", 1, Ts));

        // Assert
        Assert.Contains("'mount'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'disk_rate'", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    public void AppendPoint_NonFiniteValue_ThrowsArgumentExceptionNamingMeasurementAndField(double value)
    {
        // Arrange
        var builder = new LineProtocolBuilder();
        builder.AppendPoint("before", [], "value", 1, Ts);
        var before = builder.ToString();

        // Act
        var ex = Assert.Throws<ArgumentException>(() => builder.AppendPoint("cpu_rate", [Tag("host_id", "h1")], "usage", value, Ts));

        // Assert
        Assert.Equal("value", ex.ParamName);
        Assert.Contains("'cpu_rate'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'usage'", ex.Message, StringComparison.Ordinal);
        Assert.Equal(before, builder.ToString());
        Assert.Equal(1, builder.PointCount);
    }

    [Theory]
    [InlineData(1.5, "1.5")]
    [InlineData(42d, "42")]
    [InlineData(0d, "0")]
    [InlineData(-3.25, "-3.25")]
    [InlineData(1e-7, "1E-07")]
    [InlineData(0.1 + 0.2, "0.30000000000000004")]
    [InlineData(123456789012345678901234d, "1.2345678901234569E+23")]
    [InlineData(double.MaxValue, "1.7976931348623157E+308")]
    [InlineData(double.Epsilon, "5E-324")]
    [InlineData(-1e300, "-1E+300")]
    public void AppendPoint_Value_WrittenInShortestRoundTripForm(double value, string expected)
    {
        // Act
        var line = Line("m", [], value: value);

        // Assert
        Assert.Equal($"m value={expected} 1700000000123\n", line);
        Assert.Equal(value, double.Parse(expected, NumberStyles.Float, CultureInfo.InvariantCulture));
    }

    [Fact]
    public void AppendPoint_CurrentCultureUsesCommaDecimalSeparator_StillWritesInvariantNumbers()
    {
        // Arrange
        var original = CultureInfo.CurrentCulture;
        var comma = (CultureInfo)CultureInfo.InvariantCulture.Clone();
        comma.NumberFormat.NumberDecimalSeparator = ",";
        comma.NumberFormat.NegativeSign = "~";
        CultureInfo.CurrentCulture = comma;
        try
        {
            // Act
            var line = Line("m", [], value: -1234.5, ts: -5);

            // Assert
            Assert.Equal("m value=-1234.5 -5\n", line);
        }
        finally
        {
            CultureInfo.CurrentCulture = original;
        }
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(-1L)]
    [InlineData(LineProtocol.MinTimestampUnixMs)]
    [InlineData(LineProtocol.MaxTimestampUnixMs)]
    public void AppendPoint_TimestampInRange_WrittenAsUnixMilliseconds(long timestamp)
    {
        // Act
        var line = Line("m", [], value: 1, ts: timestamp);

        // Assert
        Assert.Equal($"m value=1 {timestamp.ToString(CultureInfo.InvariantCulture)}\n", line);
    }

    [Theory]
    [InlineData(LineProtocol.MaxTimestampUnixMs + 1)]
    [InlineData(LineProtocol.MinTimestampUnixMs - 1)]
    [InlineData(long.MaxValue)]
    public void AppendPoint_TimestampOutOfRange_ThrowsArgumentOutOfRange(long timestamp)
    {
        // Arrange
        var builder = new LineProtocolBuilder();

        // Act
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => builder.AppendPoint("m", [], "value", 1, timestamp));

        // Assert
        Assert.Equal("timestampUnixMs", ex.ParamName);
    }

    [Fact]
    public void AppendPoint_MultiplePoints_NewlineSeparated()
    {
        // Arrange
        var builder = new LineProtocolBuilder();

        // Act
        builder.AppendPoint("cpu_rate", [Tag("host_id", "h1")], "value", 10, 1000);
        builder.AppendPoint("cpu_rate", [Tag("host_id", "h2")], "value", 20.5, 1000);
        builder.AppendPoint("mem_rate", [Tag("host_id", "h1")], "value", 0.25, 2000);

        // Assert
        Assert.Equal(
            "cpu_rate,host_id=h1 value=10 1000\ncpu_rate,host_id=h2 value=20.5 1000\nmem_rate,host_id=h1 value=0.25 2000\n",
            builder.ToString());
        Assert.Equal(3, builder.PointCount);
        Assert.Equal(Encoding.UTF8.GetBytes(builder.ToString()), builder.WrittenMemory.ToArray());
    }

    [Fact]
    public void Reset_AfterPoints_EmptiesBuilderAndKeepsCapacity()
    {
        // Arrange
        var builder = new LineProtocolBuilder(64);
        for (var i = 0; i < 100; i++)
        {
            builder.AppendPoint("m", [Tag("i", i.ToString(CultureInfo.InvariantCulture))], "value", i, i);
        }

        var capacity = builder.Capacity;

        // Act
        builder.Reset();
        builder.AppendPoint("n", [], "value", 1, 1);

        // Assert
        Assert.Equal("n value=1 1\n", builder.ToString());
        Assert.Equal(1, builder.PointCount);
        Assert.Equal(capacity, builder.Capacity);
        Assert.True(capacity >= 100 * "m,i=99 value=99 99\n".Length);
    }

    [Fact]
    public void AppendPoint_ZeroInitialCapacity_Grows()
    {
        // Arrange
        var builder = new LineProtocolBuilder(0);
        var longValue = new string('x', 10_000);

        // Act
        builder.AppendPoint("m", [Tag("k", longValue)], "value", 1, 1);

        // Assert
        Assert.Equal($"m,k={longValue} value=1 1\n", builder.ToString());
    }

    [Fact]
    public void AppendPoint_NonAsciiText_WrittenAsUtf8()
    {
        // Arrange
        var builder = new LineProtocolBuilder();

        // Act
        builder.AppendPoint("m", [Tag("city", "Zürich 東京 😀")], "value", 1, 1);

        // Assert
        Assert.Equal(Encoding.UTF8.GetBytes("m,city=Zürich\\ 東京\\ 😀 value=1 1\n"), builder.WrittenSpan.ToArray());
    }

    [Fact]
    public void AppendPoint_DuplicateTagKey_ThrowsAndLeavesBuilderUnchanged()
    {
        // Arrange
        var builder = new LineProtocolBuilder();

        // Act
        var ex = Assert.Throws<ArgumentException>(() => builder.AppendPoint("m", [Tag("host_id", "a"), Tag("host_id", "b")], "value", 1, 1));

        // Assert
        Assert.Contains("'host_id'", ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, builder.Length);
        Assert.Equal(0, builder.PointCount);
    }

    [Fact]
    public void AppendPoint_DuplicateTagKeyWithEmptyValue_IsSkippedNotDuplicate()
    {
        // Act
        var line = Line("m", [Tag("host_id", "a"), Tag("host_id", "")]);

        // Assert
        Assert.Equal("m,host_id=a value=1.5 1700000000123\n", line);
    }

    [Fact]
    public void AppendPoint_FailureAfterEarlierPoints_KeepsEarlierPointsIntact()
    {
        // Arrange
        var builder = new LineProtocolBuilder();
        builder.AppendPoint("ok", [Tag("a", "1")], "value", 1, 1);

        // Act: the failure happens after the measurement and first tag were already written.
        Assert.Throws<ArgumentException>(() => builder.AppendPoint("bad", [Tag("a", "1"), Tag("b", "x\ny")], "value", 1, 1));
        builder.AppendPoint("ok2", [], "value", 2, 2);

        // Assert
        Assert.Equal("ok,a=1 value=1 1\nok2 value=2 2\n", builder.ToString());
        Assert.Equal(2, builder.PointCount);
    }

    [Theory]
    [InlineData("#comment")]
    [InlineData("")]
    public void AppendPoint_InvalidMeasurement_ThrowsArgumentException(string measurement)
    {
        // Arrange
        var builder = new LineProtocolBuilder();

        // Act
        var ex = Assert.Throws<ArgumentException>(() => builder.AppendPoint(measurement, [], "value", 1, 1));

        // Assert
        Assert.Equal("measurement", ex.ParamName);
    }

    [Fact]
    public void AppendPoint_EmptyFieldKey_ThrowsArgumentException()
    {
        // Arrange
        var builder = new LineProtocolBuilder();

        // Act
        var ex = Assert.Throws<ArgumentException>(() => builder.AppendPoint("m", [], "", 1, 1));

        // Assert
        Assert.Equal("fieldKey", ex.ParamName);
    }

    [Fact]
    public void AppendPointSorted_SortedTags_WritesThemInGivenOrder()
    {
        // Arrange
        var builder = new LineProtocolBuilder();
        IReadOnlyList<KeyValuePair<string, string>> tags = new ReadOnlyCollection<KeyValuePair<string, string>>([Tag("a", "1"), Tag("b", "2")]);

        // Act
        builder.AppendPointSorted("m", tags, "value", 1, 1);
        builder.AppendPointSorted("m", [Tag("c", "3"), Tag("d", "4")], "value", 1, 1);

        // Assert
        Assert.Equal("m,a=1,b=2 value=1 1\nm,c=3,d=4 value=1 1\n", builder.ToString());
    }

    [Fact]
    public void AppendPointSorted_UnsortedTags_ThrowsArgumentException()
    {
        // Arrange
        var builder = new LineProtocolBuilder();
        var tags = new List<KeyValuePair<string, string>> { Tag("b", "2"), Tag("a", "1") };

        // Act
        var ex = Assert.Throws<ArgumentException>(() => builder.AppendPointSorted("m", tags, "value", 1, 1));

        // Assert
        Assert.Equal("sortedTags", ex.ParamName);
        Assert.Equal(0, builder.Length);
    }

    [Fact]
    public void EscapeHelpers_SpecialCharacters_MatchBuilderOutput()
    {
        // Act
        var measurement = LineProtocol.EscapeMeasurement("a b,c=d");
        var tag = LineProtocol.EscapeTag("a b,c=d");
        var fieldKey = LineProtocol.EscapeFieldKey("a b,c=d");

        // Assert
        Assert.Equal(@"a\ b\,c=d", measurement);
        Assert.Equal(@"a\ b\,c\=d", tag);
        Assert.Equal(@"a\ b\,c\=d", fieldKey);
    }

    [Fact]
    public void FormatPoint_OnePoint_ReturnsLineWithNewline()
    {
        // Act
        var line = LineProtocol.FormatPoint("cpu_rate", [Tag("host_id", "h 1")], "value", 0.5, 1);

        // Assert
        Assert.Equal(@"cpu_rate,host_id=h\ 1 value=0.5 1" + "\n", line);
    }

    private static void AppendWith(LineProtocolBuilder builder, string element, string text)
    {
        switch (element)
        {
            case "measurement":
                builder.AppendPoint(text, [Tag("k", "v")], "value", 1, 1);
                break;
            case "tagKey":
                builder.AppendPoint("m", [Tag(text, "v")], "value", 1, 1);
                break;
            case "tagValue":
                builder.AppendPoint("m", [Tag("k", text)], "value", 1, 1);
                break;
            default:
                builder.AppendPoint("m", [Tag("k", "v")], text, 1, 1);
                break;
        }
    }

    [Fact]
    public void AppendPoint_WithTextField_QuotesAndEscapesQuotesAndBackslashes()
    {
        // Arrange
        var builder = new LineProtocolBuilder();
        KeyValuePair<string, string>[] tags = [Tag("target", "db"), Tag("host_id", "h1")];

        // Act
        builder.AppendPoint("probe_success", tags, "value", 0, "message", "refused: \"db\" at C:\\x\\", Ts);

        // Assert
        Assert.Equal("probe_success,host_id=h1,target=db value=0,message=\"refused: \\\"db\\\" at C:\\\\x\\\\\" 1700000000123\n", builder.ToString());
        Assert.Equal(1, builder.PointCount);
    }

    [Fact]
    public void AppendPoint_TextFieldWithLineBreak_ThrowsAndLeavesNoPartialLine()
    {
        // Arrange
        var builder = new LineProtocolBuilder();
        builder.AppendPoint("a", [], "value", 1, Ts);
        var before = builder.ToString();

        // Act
        var error = Assert.Throws<ArgumentException>(() => builder.AppendPoint("b", [], "value", 1, "message", "line1\nline2", Ts));

        // Assert
        Assert.Contains("U+000A", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, builder.ToString());
        Assert.Equal(1, builder.PointCount);
    }
}
