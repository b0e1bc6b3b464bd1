using System.Net;
using System.Text;
using System.Text.Json;
using System.Web;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Monitor.Influx.UnitTests;

public sealed class InfluxQueryClientTests
{
    // Captured from InfluxDB 1.6.7 (epoch=ms) for
    // SELECT mean(value) FROM cpu_rate WHERE time >= 1700000000000ms AND time < 1700000120000ms GROUP BY time(1m), host_id
    // after writing host_id=h1 (twice at the same time: the second write replaced the first) and host_id="h 2,x=y".
    private const string GroupedResponse = """
        {"results":[{"statement_id":0,"series":[{"name":"cpu_rate","tags":{"host_id":"h 2,x=y"},"columns":["time","mean"],"values":[[1699999980000,42],[1700000040000,null],[1700000100000,null]]},{"name":"cpu_rate","tags":{"host_id":"h1"},"columns":["time","mean"],"values":[[1699999980000,2],[1700000040000,null],[1700000100000,null]]}]}]}
        """;

    private static InfluxQueryClient CreateClient(FakeHttpMessageHandler handler, InfluxOptions? options = null) =>
        new(new HttpClient(handler), Options.Create(options ?? new InfluxOptions()), NullLogger<InfluxQueryClient>.Instance);

    [Fact]
    public async Task QueryAsync_GroupedSeries_ParsesNamesTagsColumnsAndValues()
    {
        // Arrange
        var client = CreateClient(new FakeHttpMessageHandler(HttpStatusCode.OK, GroupedResponse));

        // Act
        var result = await client.QueryAsync("SELECT mean(value) FROM cpu_rate GROUP BY time(1m), host_id", TestContext.Current.CancellationToken);

        // Assert
        var statement = Assert.Single(result.Statements);
        Assert.Equal(0, statement.StatementId);
        Assert.Equal(2, result.Series.Count);

        var h2 = result.Series[0];
        Assert.Equal("cpu_rate", h2.Name);
        Assert.Equal("h 2,x=y", h2.Tags["host_id"]);
        Assert.Equal(["time", "mean"], h2.Columns);
        Assert.Equal(3, h2.RowCount);
        Assert.Equal(1699999980000, h2.GetInt64(0, "time"));
        Assert.Equal(42d, h2.GetDouble(0, "mean"));
        Assert.Equal(42L, h2.GetInt64(0, "mean"));
        Assert.Equal(1700000040000, h2.GetInt64(1, 0));
        Assert.Null(h2.GetDouble(1, "mean"));
        Assert.Null(h2.GetValue(2, 1));

        var h1 = result.Series[1];
        Assert.Equal("h1", h1.Tags["host_id"]);
        Assert.Equal(2d, h1.GetDouble(0, "mean"));
    }

    [Fact]
    public async Task QueryAsync_ReadOnlyStatement_SendsGetWithDatabaseEpochAndQuery()
    {
        // Arrange
        var handler = new FakeHttpMessageHandler(HttpStatusCode.OK, """{"results":[{"statement_id":0}]}""");
        var client = CreateClient(handler, new InfluxOptions { Token = "tok", RetentionPolicy = "autogen" });
        const string Query = "SELECT last(value) FROM \"cpu_rate\" WHERE host_id = 'a b'";

        // Act
        var result = await client.QueryAsync(Query, TestContext.Current.CancellationToken);

        // Assert
        var request = handler.LastRequest;
        Assert.Equal(HttpMethod.Get, request.Method);
        Assert.Equal("http://127.0.0.1:8086/query", request.Uri.GetLeftPart(UriPartial.Path));
        Assert.Equal("monitor", request.Query["db"]);
        Assert.Equal("ms", request.Query["epoch"]);
        Assert.Equal("autogen", request.Query["rp"]);
        Assert.Equal(Query, request.Query["q"]);
        Assert.Equal("Token", request.AuthScheme);
        Assert.Empty(result.Series);
    }

    [Theory]
    [InlineData("CREATE DATABASE monitor")]
    [InlineData("SELECT mean(value) INTO rollup FROM cpu_rate")]
    [InlineData("SELECT 1; DROP MEASUREMENT cpu_rate")]
    public async Task QueryAsync_WritingStatement_SendsPostForm(string query)
    {
        // Arrange
        var handler = new FakeHttpMessageHandler(HttpStatusCode.OK, """{"results":[{"statement_id":0}]}""");
        var client = CreateClient(handler);

        // Act
        await client.QueryAsync(query, TestContext.Current.CancellationToken);

        // Assert
        var request = handler.LastRequest;
        Assert.Equal(HttpMethod.Post, request.Method);
        Assert.False(request.Query.ContainsKey("q"));
        Assert.Equal(query, HttpUtility.ParseQueryString(Encoding.UTF8.GetString(request.Body))["q"]);
    }

    [Fact]
    public async Task QueryAsync_DatabaseArgument_OverridesConfiguredDatabase()
    {
        // Arrange
        var handler = new FakeHttpMessageHandler(HttpStatusCode.OK, """{"results":[{"statement_id":0}]}""");
        var client = CreateClient(handler);

        // Act
        await client.QueryAsync("SHOW MEASUREMENTS", TestContext.Current.CancellationToken, database: "other");

        // Assert
        Assert.Equal("other", handler.LastRequest.Query["db"]);
    }

    [Fact]
    public async Task QueryAsync_StatementError_ThrowsWithStatementIdAndMessage()
    {
        // Arrange: InfluxDB 1.x answers 200 and reports the error per statement.
        var handler = new FakeHttpMessageHandler(HttpStatusCode.OK, """{"results":[{"statement_id":0,"error":"database not found: nope"}]}""");
        var client = CreateClient(handler);

        // Act
        var ex = await Assert.ThrowsAsync<InfluxQueryException>(() => client.QueryAsync("SHOW MEASUREMENTS", TestContext.Current.CancellationToken, "nope"));

        // Assert
        Assert.Equal(0, ex.StatementId);
        Assert.Equal("database not found: nope", ex.ServerError);
        Assert.False(ex.IsTransient);
        Assert.Contains("database not found: nope", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task QueryAsync_SecondStatementFails_ThrowsNamingThatStatement()
    {
        // Arrange
        var handler = new FakeHttpMessageHandler(
            HttpStatusCode.OK,
            """{"results":[{"statement_id":0,"series":[{"name":"databases","columns":["name"],"values":[["monitor"]]}]},{"statement_id":1,"error":"not executed"}]}""");
        var client = CreateClient(handler);

        // Act
        var ex = await Assert.ThrowsAsync<InfluxQueryException>(() => client.QueryAsync("SHOW DATABASES; SHOW USERS", TestContext.Current.CancellationToken));

        // Assert
        Assert.Equal(1, ex.StatementId);
    }

    [Fact]
    public async Task QueryAsync_ParseErrorWithBadRequest_ThrowsNonTransientWithServerError()
    {
        // Arrange
        var handler = new FakeHttpMessageHandler(
            HttpStatusCode.BadRequest, """{"error":"error parsing query: found FROMM, expected FROM at line 1, char 10"}""");
        var client = CreateClient(handler);

        // Act
        var ex = await Assert.ThrowsAsync<InfluxQueryException>(() => client.QueryAsync("SELECT * FROMM x", TestContext.Current.CancellationToken));

        // Assert
        Assert.False(ex.IsTransient);
        Assert.Equal(HttpStatusCode.BadRequest, ex.StatusCode);
        Assert.StartsWith("error parsing query", ex.ServerError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task QueryAsync_ServiceUnavailable_ThrowsTransient()
    {
        // Arrange
        var client = CreateClient(new FakeHttpMessageHandler(HttpStatusCode.ServiceUnavailable, "overloaded", "text/plain"));

        // Act
        var ex = await Assert.ThrowsAsync<InfluxQueryException>(() => client.QueryAsync("SHOW DATABASES", TestContext.Current.CancellationToken));

        // Assert
        Assert.True(ex.IsTransient);
        Assert.Equal("overloaded", ex.ServerError);
    }

    [Fact]
    public async Task QueryAsync_Unreachable_ThrowsTransient()
    {
        // Arrange
        var client = CreateClient(new FakeHttpMessageHandler((_, _) => Task.FromException<HttpResponseMessage>(new HttpRequestException("refused"))));

        // Act
        var ex = await Assert.ThrowsAsync<InfluxQueryException>(() => client.QueryAsync("SHOW DATABASES", TestContext.Current.CancellationToken));

        // Assert
        Assert.True(ex.IsTransient);
        Assert.IsType<HttpRequestException>(ex.InnerException);
    }

    [Fact]
    public async Task QueryAsync_InvalidJson_Throws()
    {
        // Arrange
        var client = CreateClient(new FakeHttpMessageHandler(HttpStatusCode.OK, "<html>proxy error</html>", "text/html"));

        // Act
        var ex = await Assert.ThrowsAsync<InfluxQueryException>(() => client.QueryAsync("SHOW DATABASES", TestContext.Current.CancellationToken));

        // Assert
        Assert.IsType<JsonException>(ex.InnerException, exactMatch: false);
    }

    [Fact]
    public void Parse_TopLevelError_Throws()
    {
        // Act
        var ex = Assert.Throws<InfluxQueryException>(() => InfluxQueryClient.Parse("""{"error":"authorization failed"}"""u8.ToArray()));

        // Assert
        Assert.Equal("authorization failed", ex.ServerError);
    }

    [Fact]
    public void Parse_ShowTagValues_ReadsStringColumns()
    {
        // Arrange
        var json = """{"results":[{"statement_id":0,"series":[{"name":"cpu_rate","columns":["key","value"],"values":[["host_id","h1"],["host_id","h2"]]}]}]}"""u8.ToArray();

        // Act
        var series = Assert.Single(InfluxQueryClient.Parse(json).Series);

        // Assert
        Assert.Empty(series.Tags);
        Assert.Equal("h2", series.GetString(1, "value"));
        Assert.Equal(-1, series.GetColumnIndex("missing"));
        Assert.Throws<ArgumentException>(() => series.GetString(0, "missing"));
        Assert.Throws<FormatException>(() => series.GetDouble(0, "value"));
    }

    [Fact]
    public void Parse_NumbersInVariousForms_ReadAsDoubleAndLong()
    {
        // Arrange
        var json = """{"results":[{"statement_id":0,"series":[{"name":"m","columns":["time","a","b","c"],"values":[[1,4.0,1e3,2.5]]}]}]}"""u8.ToArray();

        // Act
        var series = Assert.Single(InfluxQueryClient.Parse(json).Series);

        // Assert
        Assert.Equal(4L, series.GetInt64(0, "a"));
        Assert.Equal(1000L, series.GetInt64(0, "b"));
        Assert.Equal("2.5", series.GetString(0, "c"));
        Assert.Throws<FormatException>(() => series.GetInt64(0, "c"));
    }
}
