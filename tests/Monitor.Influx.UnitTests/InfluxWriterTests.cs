using System.IO.Compression;
using System.Net;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Monitor.Influx.UnitTests;

public sealed class InfluxWriterTests
{
    private static readonly byte[] Batch = Encoding.UTF8.GetBytes("cpu_rate,host_id=h1 value=1.5 1700000000000\ncpu_rate,host_id=h2 value=2 1700000000000\n");

    private static InfluxWriter CreateWriter(FakeHttpMessageHandler handler, InfluxOptions? options = null, TimeSpan? timeout = null)
    {
        var client = new HttpClient(handler) { Timeout = timeout ?? TimeSpan.FromSeconds(30) };
        return new InfluxWriter(client, Options.Create(options ?? new InfluxOptions()), NullLogger<InfluxWriter>.Instance);
    }

    [Fact]
    public async Task WriteAsync_GzipEnabled_BodyDecompressesToSameBytes()
    {
        // Arrange
        var handler = new FakeHttpMessageHandler(HttpStatusCode.NoContent);
        var writer = CreateWriter(handler, new InfluxOptions { Gzip = true });

        // Act
        await writer.WriteAsync(Batch, TestContext.Current.CancellationToken);

        // Assert
        var request = handler.LastRequest;
        Assert.Equal(["gzip"], request.ContentEncoding);
        using var gzip = new GZipStream(new MemoryStream(request.Body), CompressionMode.Decompress);
        using var decompressed = new MemoryStream();
        await gzip.CopyToAsync(decompressed, TestContext.Current.CancellationToken);
        Assert.Equal(Batch, decompressed.ToArray());
        Assert.Equal("text/plain; charset=utf-8", request.ContentType);
    }

    [Fact]
    public async Task WriteAsync_GzipDisabled_SendsRawBytes()
    {
        // Arrange
        var handler = new FakeHttpMessageHandler(HttpStatusCode.NoContent);
        var writer = CreateWriter(handler, new InfluxOptions { Gzip = false });

        // Act
        await writer.WriteAsync(Batch, TestContext.Current.CancellationToken);

        // Assert
        Assert.Empty(handler.LastRequest.ContentEncoding);
        Assert.Equal(Batch, handler.LastRequest.Body);
    }

    [Theory]
    [InlineData(HttpStatusCode.NoContent)]
    [InlineData(HttpStatusCode.OK)]
    public async Task WriteAsync_SuccessStatus_Completes(HttpStatusCode status)
    {
        // Arrange
        var handler = new FakeHttpMessageHandler(status);
        var writer = CreateWriter(handler);

        // Act
        await writer.WriteAsync(Batch, TestContext.Current.CancellationToken);

        // Assert
        Assert.Single(handler.Requests);
        Assert.Equal(HttpMethod.Post, handler.LastRequest.Method);
    }

    [Fact]
    public async Task WriteAsync_Default_PostsToWriteWithDatabaseAndMillisecondPrecision()
    {
        // Arrange
        var handler = new FakeHttpMessageHandler(HttpStatusCode.NoContent);
        var writer = CreateWriter(handler);

        // Act
        await writer.WriteAsync(Batch, TestContext.Current.CancellationToken);

        // Assert
        var request = handler.LastRequest;
        Assert.Equal("http://127.0.0.1:8086/write", request.Uri.GetLeftPart(UriPartial.Path));
        Assert.Equal(new Dictionary<string, string> { ["db"] = "monitor", ["precision"] = "ms" }, request.Query);
        Assert.Null(request.AuthScheme);
    }

    [Fact]
    public async Task WriteAsync_RetentionPolicyAndPathPrefix_AddsEncodedRpAndKeepsPrefix()
    {
        // Arrange
        var handler = new FakeHttpMessageHandler(HttpStatusCode.NoContent);
        var options = new InfluxOptions
        {
            Url = new Uri("https://influx.example:9999/proxy/influx"),
            Database = "metrics-db",
            RetentionPolicy = "two weeks&more",
        };
        var writer = CreateWriter(handler, options);

        // Act
        await writer.WriteAsync(Batch, TestContext.Current.CancellationToken);

        // Assert
        var request = handler.LastRequest;
        Assert.Equal("https://influx.example:9999/proxy/influx/write", request.Uri.GetLeftPart(UriPartial.Path));
        Assert.Equal("metrics-db", request.Query["db"]);
        Assert.Equal("ms", request.Query["precision"]);
        Assert.Equal("two weeks&more", request.Query["rp"]);
        Assert.Equal(writer.WriteUri, request.Uri);
    }

    [Fact]
    public async Task WriteAsync_UsernameAndPassword_SendsBasicAuthorization()
    {
        // Arrange
        var handler = new FakeHttpMessageHandler(HttpStatusCode.NoContent);
        var writer = CreateWriter(handler, new InfluxOptions { Username = "monitor", Password = "pä:ss" });

        // Act
        await writer.WriteAsync(Batch, TestContext.Current.CancellationToken);

        // Assert
        Assert.Equal("Basic", handler.LastRequest.AuthScheme);
        Assert.Equal("monitor:pä:ss", Encoding.UTF8.GetString(Convert.FromBase64String(handler.LastRequest.AuthParameter!)));
        Assert.DoesNotContain("p=", handler.LastRequest.Uri.Query, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WriteAsync_Token_SendsTokenAuthorization()
    {
        // Arrange
        var handler = new FakeHttpMessageHandler(HttpStatusCode.NoContent);
        var writer = CreateWriter(handler, new InfluxOptions { Token = "s3cr3t-token" });

        // Act
        await writer.WriteAsync(Batch, TestContext.Current.CancellationToken);

        // Assert
        Assert.Equal("Token", handler.LastRequest.AuthScheme);
        Assert.Equal("s3cr3t-token", handler.LastRequest.AuthParameter);
    }

    [Fact]
    public async Task WriteAsync_BadRequest_ThrowsMalformedWithServerMessage()
    {
        // Arrange: the body InfluxDB 1.x sends for an unparsable line.
        const string Body = """{"error":"partial write: unable to parse 'cpu_rate value=': missing field value dropped=1"}""";
        var handler = new FakeHttpMessageHandler(HttpStatusCode.BadRequest, Body);
        var writer = CreateWriter(handler);

        // Act
        var ex = await Assert.ThrowsAsync<InfluxWriteException>(() => writer.WriteAsync(Batch, TestContext.Current.CancellationToken));

        // Assert
        Assert.True(ex.IsMalformed);
        Assert.False(ex.IsTransient);
        Assert.Equal(HttpStatusCode.BadRequest, ex.StatusCode);
        Assert.Equal("partial write: unable to parse 'cpu_rate value=': missing field value dropped=1", ex.ServerError);
        Assert.Contains("missing field value", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WriteAsync_BadRequestWithoutJson_UsesInfluxErrorHeaderOrBody()
    {
        // Arrange
        var handler = new FakeHttpMessageHandler((_, _) =>
        {
            var response = new HttpResponseMessage(HttpStatusCode.BadRequest) { Content = new StringContent("not json") };
            response.Headers.Add("X-Influxdb-Error", "field type conflict");
            return Task.FromResult(response);
        });
        var writer = CreateWriter(handler);

        // Act
        var ex = await Assert.ThrowsAsync<InfluxWriteException>(() => writer.WriteAsync(Batch, TestContext.Current.CancellationToken));

        // Assert
        Assert.True(ex.IsMalformed);
        Assert.Equal("field type conflict", ex.ServerError);
    }

    [Theory]
    [InlineData(HttpStatusCode.ServiceUnavailable)]
    [InlineData(HttpStatusCode.InternalServerError)]
    [InlineData(HttpStatusCode.BadGateway)]
    [InlineData(HttpStatusCode.TooManyRequests)]
    [InlineData(HttpStatusCode.RequestTimeout)]
    public async Task WriteAsync_ServerUnavailable_ThrowsTransient(HttpStatusCode status)
    {
        // Arrange
        var handler = new FakeHttpMessageHandler(status, """{"error":"timeout"}""");
        var writer = CreateWriter(handler);

        // Act
        var ex = await Assert.ThrowsAsync<InfluxWriteException>(() => writer.WriteAsync(Batch, TestContext.Current.CancellationToken));

        // Assert
        Assert.True(ex.IsTransient);
        Assert.False(ex.IsMalformed);
        Assert.Equal(status, ex.StatusCode);
    }

    [Theory]
    [InlineData(HttpStatusCode.Unauthorized)]
    [InlineData(HttpStatusCode.Forbidden)]
    public async Task WriteAsync_AuthenticationRejected_ThrowsNonTransientWithoutSecrets(HttpStatusCode status)
    {
        // Arrange
        var handler = new FakeHttpMessageHandler(status, """{"error":"authorization failed"}""");
        var writer = CreateWriter(handler, new InfluxOptions { Username = "monitor", Password = "hunter2-secret" });

        // Act
        var ex = await Assert.ThrowsAsync<InfluxWriteException>(() => writer.WriteAsync(Batch, TestContext.Current.CancellationToken));

        // Assert
        Assert.False(ex.IsTransient);
        Assert.False(ex.IsMalformed);
        Assert.Contains("authentication failed", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", ex.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task WriteAsync_DatabaseNotFound_ThrowsNeitherTransientNorMalformed()
    {
        // Arrange
        var handler = new FakeHttpMessageHandler(HttpStatusCode.NotFound, """{"error":"database not found: \"monitor\""}""");
        var writer = CreateWriter(handler);

        // Act
        var ex = await Assert.ThrowsAsync<InfluxWriteException>(() => writer.WriteAsync(Batch, TestContext.Current.CancellationToken));

        // Assert
        Assert.False(ex.IsTransient);
        Assert.False(ex.IsMalformed);
        Assert.Equal("database not found: \"monitor\"", ex.ServerError);
    }

    [Fact]
    public async Task WriteAsync_ConnectionRefused_ThrowsTransientWrappingCause()
    {
        // Arrange
        var cause = new HttpRequestException("Connection refused (127.0.0.1:8086)");
        var handler = new FakeHttpMessageHandler((_, _) => Task.FromException<HttpResponseMessage>(cause));
        var writer = CreateWriter(handler);

        // Act
        var ex = await Assert.ThrowsAsync<InfluxWriteException>(() => writer.WriteAsync(Batch, TestContext.Current.CancellationToken));

        // Assert
        Assert.True(ex.IsTransient);
        Assert.Null(ex.StatusCode);
        Assert.Same(cause, ex.InnerException);
    }

    [Fact]
    public async Task WriteAsync_HttpClientTimeout_ThrowsTransient()
    {
        // Arrange: the server never answers; HttpClient.Timeout ends the call.
        var handler = new FakeHttpMessageHandler(async (_, ct) =>
        {
            await Task.Delay(Timeout.Infinite, ct);
            return new HttpResponseMessage(HttpStatusCode.NoContent);
        });
        var writer = CreateWriter(handler, timeout: TimeSpan.FromMilliseconds(50));

        // Act
        var ex = await Assert.ThrowsAsync<InfluxWriteException>(() => writer.WriteAsync(Batch, TestContext.Current.CancellationToken));

        // Assert
        Assert.True(ex.IsTransient);
        Assert.Contains("timed out", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WriteAsync_CallerCancels_ThrowsOperationCanceled()
    {
        // Arrange
        using var cts = new CancellationTokenSource();
        var handler = new FakeHttpMessageHandler(async (_, ct) =>
        {
            await cts.CancelAsync();
            await Task.Delay(Timeout.Infinite, ct);
            return new HttpResponseMessage(HttpStatusCode.NoContent);
        });
        var writer = CreateWriter(handler);

        // Act + Assert
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => writer.WriteAsync(Batch, cts.Token));
    }

    [Fact]
    public async Task WriteAsync_EmptyBatch_SendsNothing()
    {
        // Arrange
        var handler = new FakeHttpMessageHandler(HttpStatusCode.NoContent);
        var writer = CreateWriter(handler);

        // Act
        await writer.WriteAsync(ReadOnlyMemory<byte>.Empty, TestContext.Current.CancellationToken);
        await writer.WriteAsync(new LineProtocolBuilder(), TestContext.Current.CancellationToken);

        // Assert
        Assert.Empty(handler.Requests);
    }

    [Fact]
    public async Task WriteAsync_Builder_SendsItsBytesAndLeavesItUnchanged()
    {
        // Arrange
        var handler = new FakeHttpMessageHandler(HttpStatusCode.NoContent);
        var writer = CreateWriter(handler, new InfluxOptions { Gzip = false });
        var batch = new LineProtocolBuilder();
        batch.AppendPoint("cpu_rate", [new("host_id", "h1")], "value", 1.5, 1700000000000);

        // Act
        await writer.WriteAsync(batch, TestContext.Current.CancellationToken);

        // Assert
        Assert.Equal(batch.WrittenMemory.ToArray(), handler.LastRequest.Body);
        Assert.Equal(1, batch.PointCount);
    }
}
