using System.Text;
using Monitor.AnalyzeService.Query;
using Xunit;

namespace Monitor.AnalyzeService.UnitTests;

public sealed class InfluxQueryBuilderTests
{
    public static readonly TheoryData<string> Injections =
    [
        "a\"b",
        "a'b",
        "a\\b",
        "a/b",
        "a;b",
        "x' OR '1'='1",
        "x'; DROP DATABASE monitor; SELECT '",
        "x\\' OR host_id =~ /.*/ --",
        "/.*/",
        ".*",
        "^(a|b)$",
        "a[b]{2}+?",
        "\\'",
        "\\",
        "'",
        "\"",
        "a\\nb",
        "😀 host",
    ];

    private readonly InfluxQueryBuilder _builder = new("monitor", "rollup_1m", "rollup_1h");

    [Theory]
    [MemberData(nameof(Injections))]
    public void Where_KeepsEveryHostIdOneStringLiteral(string hostile)
    {
        var where = InfluxQueryBuilder.Where(["ok", hostile], [new LabelMatch("mount", hostile)], 1000, 2000);
        var tokens = Lex(where);
        string[] expected =
        [
            "(", "I:host_id", "=", "S:ok", "OR", "I:host_id", "=", "S:" + hostile, ")", "AND",
            "I:mount", "=", "S:" + hostile, "AND", "time", ">=", "1000ms", "AND", "time", "<", "2000ms",
        ];
        Assert.Equal(expected, tokens);
    }

    [Theory]
    [MemberData(nameof(Injections))]
    public void ShowStatements_KeepTheHostOneStringLiteral(string hostile)
    {
        Assert.Equal(["SHOW", "MEASUREMENTS", "WHERE", "I:host_id", "=", "S:" + hostile], Lex(InfluxQueryBuilder.ShowMeasurementsOfHost(hostile)));
        Assert.Equal(
            ["SHOW", "TAG", "VALUES", "FROM", "I:cpu_rate", "WITH", "KEY", "!=", "I:host_id", "WHERE", "I:host_id", "=", "S:" + hostile],
            Lex(InfluxQueryBuilder.ShowLabelValues("cpu_rate", hostile)));
    }

    [Fact]
    public void Aggregated_LocationQuery_IsOneStatementGroupedByHost()
    {
        var q = _builder.Aggregated("cpu_rate", new QueryPart(Resolution.Raw, 0, 3_600_000), TimeSpan.FromMinutes(1), AggregateFunction.P95, ["a", "b", "c"], [], splitByLabels: false);
        Assert.Equal(
            "SELECT percentile(\"value\", 95) AS \"value\" FROM \"cpu_rate\" WHERE (\"host_id\" = 'a' OR \"host_id\" = 'b' OR \"host_id\" = 'c') AND time >= 0ms AND time < 3600000ms GROUP BY time(1m), \"host_id\" fill(none)",
            q);
        Assert.DoesNotContain(";", q, StringComparison.Ordinal);
    }

    [Fact]
    public void Aggregated_FromRollup_ReadsTheRetentionPolicyAndCombinesExactly()
    {
        var q = _builder.Aggregated("mem_rate", new QueryPart(Resolution.Rollup1h, 0, 7_200_000), TimeSpan.FromHours(1), AggregateFunction.Mean, ["h"], [], splitByLabels: true);
        Assert.Equal(
            "SELECT sum(\"sum\") / sum(\"count\") AS \"value\" FROM \"monitor\".\"rollup_1h\".\"mem_rate\" WHERE (\"host_id\" = 'h') AND time >= 0ms AND time < 7200000ms GROUP BY time(1h), * fill(none)",
            q);
    }

    [Fact]
    public void Raw_LimitsPointsPerSeries()
    {
        var q = _builder.Raw("cpu_rate", 0, 1000, ["h"], [], splitByLabels: true, limit: 101);
        Assert.EndsWith("GROUP BY * ORDER BY time ASC LIMIT 101", q, StringComparison.Ordinal);
    }

    [Fact]
    public void Fleet_WithoutHostFilter_HasOnlyTheTimeCondition() =>
        Assert.Equal("time >= 5ms", InfluxQueryBuilder.Where(null, [], 5, null));

    [Fact]
    public void Source_RefusesNonMetricNames() =>
        Assert.Throws<ArgumentException>(() => _builder.Source("cpu\"; DROP", Resolution.Raw));

    [Fact]
    public void LocationRollup_WrapsThePerHostAggregate()
    {
        var q = _builder.LocationRollup("cpu_rate", new QueryPart(Resolution.Raw, 0, 600_000), TimeSpan.FromMinutes(5), AggregateFunction.Max, ["a", "b"], []);
        Assert.StartsWith("SELECT mean(\"value\") AS \"mean\", min(\"value\") AS \"min\", max(\"value\") AS \"max\", count(\"value\") AS \"hosts\" FROM (SELECT max(\"value\") AS \"value\" FROM \"cpu_rate\"", q, StringComparison.Ordinal);
        Assert.EndsWith("GROUP BY time(5m), \"host_id\" fill(none)) WHERE time >= 0ms AND time < 600000ms GROUP BY time(5m) fill(none)", q, StringComparison.Ordinal);
    }

    /// <summary>
    /// A small InfluxQL lexer (per the InfluxQL spec: both quote styles take \\, \", \', \n escapes): identifiers come
    /// out as "I:name", strings as "S:value" (unescaped), anything else as its text.
    /// </summary>
    internal static List<string> Lex(string text)
    {
        var tokens = new List<string>();
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (c == ' ')
            {
                i++;
            }
            else if (c is '"' or '\'')
            {
                var value = new StringBuilder();
                i++;
                while (true)
                {
                    Assert.True(i < text.Length, $"unterminated literal in {text}");
                    var d = text[i];
                    Assert.NotEqual('\n', d);
                    if (d == '\\')
                    {
                        var e = text[i + 1];
                        Assert.Contains(e, "\\\"'n");
                        value.Append(e == 'n' ? '\n' : e);
                        i += 2;
                    }
                    else if (d == c)
                    {
                        i++;
                        break;
                    }
                    else
                    {
                        value.Append(d);
                        i++;
                    }
                }
                tokens.Add((c == '"' ? "I:" : "S:") + value);
            }
            else if (c is '(' or ')' or ',' or ';')
            {
                tokens.Add(c.ToString());
                i++;
            }
            else
            {
                var start = i;
                while (i < text.Length && text[i] is not (' ' or '(' or ')' or ',' or '"' or '\'' or ';'))
                {
                    i++;
                }
                tokens.Add(text[start..i]);
            }
        }
        return tokens;
    }
}
