using System.Diagnostics;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Monitor.Influx;

/// <summary>
/// Sends line-protocol batches to InfluxDB's <c>/write</c> endpoint (v1 API: InfluxDB 1.x natively, 2.x and 3.x
/// through their compatibility endpoint). A typed <see cref="HttpClient"/>; register it with
/// <c>AddMonitorInflux()</c>.
/// </summary>
/// <remarks>
/// The writer makes one attempt per call and never retries: the caller owns retry and back-off, because a
/// persistence consumer must pause on an outage rather than skip a batch. Failures surface as
/// <see cref="InfluxWriteException"/>; only caller cancellation surfaces as <see cref="OperationCanceledException"/>.
/// </remarks>
public sealed partial class InfluxWriter
{
    private readonly HttpClient _httpClient;
    private readonly ILogger<InfluxWriter> _logger;
    private readonly Uri _writeUri;
    private readonly AuthenticationHeaderValue? _authorization;
    private readonly bool _gzip;
    private readonly string _database;

    /// <summary>Creates a writer; normally done by <see cref="IHttpClientFactory"/>.</summary>
    /// <param name="httpClient">The client to send with; its <see cref="HttpClient.Timeout"/> bounds each write.</param>
    /// <param name="options">The InfluxDB settings.</param>
    /// <param name="logger">The logger.</param>
    public InfluxWriter(HttpClient httpClient, IOptions<InfluxOptions> options, ILogger<InfluxWriter> logger)
    {
        ArgumentNullException.ThrowIfNull(httpClient);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);

        var settings = options.Value;
        _httpClient = httpClient;
        _logger = logger;
        _database = settings.Database;
        _gzip = settings.Gzip;
        _authorization = InfluxHttp.CreateAuthorization(settings);

        var query = new StringBuilder("write?");
        InfluxHttp.AppendParameter(query, "db", settings.Database);
        InfluxHttp.AppendParameter(query, "precision", LineProtocol.Precision);
        if (!string.IsNullOrEmpty(settings.RetentionPolicy))
        {
            InfluxHttp.AppendParameter(query, "rp", settings.RetentionPolicy);
        }

        _writeUri = InfluxHttp.Resolve(settings.Url, query.ToString());
    }

    /// <summary>Gets the absolute <c>/write</c> URL this writer posts to (it carries no credentials).</summary>
    public Uri WriteUri => _writeUri;

    /// <summary>Writes the points of <paramref name="batch"/> (its <see cref="LineProtocolBuilder.WrittenMemory"/>).</summary>
    /// <param name="batch">The batch; not changed, so the caller can retry it and must <see cref="LineProtocolBuilder.Reset"/> it after success.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when InfluxDB accepted the batch (HTTP 2xx).</returns>
    /// <exception cref="InfluxWriteException">InfluxDB did not accept the batch.</exception>
    public Task WriteAsync(LineProtocolBuilder batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        return WriteCoreAsync(batch.WrittenMemory, batch.PointCount, cancellationToken);
    }

    /// <summary>Writes line protocol (UTF-8, lines separated by <c>\n</c>, millisecond timestamps).</summary>
    /// <param name="lineProtocol">The lines; empty input sends nothing.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when InfluxDB accepted the batch (HTTP 2xx).</returns>
    /// <exception cref="InfluxWriteException">InfluxDB did not accept the batch.</exception>
    public Task WriteAsync(ReadOnlyMemory<byte> lineProtocol, CancellationToken cancellationToken) =>
        WriteCoreAsync(lineProtocol, pointCount: -1, cancellationToken);

    private async Task WriteCoreAsync(ReadOnlyMemory<byte> lineProtocol, int pointCount, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (lineProtocol.IsEmpty)
        {
            return;
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, _writeUri);
        request.Headers.Authorization = _authorization;
        request.Content = _gzip ? CreateGzipContent(lineProtocol.Span) : new ReadOnlyMemoryContent(lineProtocol);
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("text/plain") { CharSet = "utf-8" };
        var sentBytes = request.Content.Headers.ContentLength ?? lineProtocol.Length;

        var started = Stopwatch.GetTimestamp();
        HttpResponseMessage response;
        try
        {
            response = await _httpClient.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            // HttpClient.Timeout fired (the caller did not cancel).
            var elapsed = Stopwatch.GetElapsedTime(started);
            Log.WriteTimedOut(_logger, _database, lineProtocol.Length, elapsed.TotalMilliseconds, ex);
            throw new InfluxWriteException(
                $"Writing to InfluxDB timed out after {elapsed.TotalMilliseconds:F0} ms.",
                statusCode: null,
                isTransient: true,
                isMalformed: false,
                serverError: null,
                ex);
        }
        catch (HttpRequestException ex)
        {
            Log.WriteUnreachable(_logger, _database, _writeUri.GetLeftPart(UriPartial.Authority), ex);
            throw new InfluxWriteException(
                $"InfluxDB at {_writeUri.GetLeftPart(UriPartial.Authority)} could not be reached: {ex.Message}",
                statusCode: null,
                isTransient: true,
                isMalformed: false,
                serverError: null,
                ex);
        }

        using (response)
        {
            if (response.IsSuccessStatusCode)
            {
                var elapsedMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                if (pointCount >= 0)
                {
                    Log.Written(_logger, pointCount, lineProtocol.Length, sentBytes, _database, elapsedMs);
                }
                else
                {
                    Log.WrittenBytes(_logger, lineProtocol.Length, sentBytes, _database, elapsedMs);
                }
                return;
            }

            var serverError = await InfluxHttp.ReadErrorAsync(response, cancellationToken).ConfigureAwait(false);
            var exception = CreateException(response.StatusCode, serverError);
            Log.WriteRejected(_logger, (int)response.StatusCode, _database, exception.IsTransient, exception.IsMalformed, serverError);
            throw exception;
        }
    }

    private static InfluxWriteException CreateException(HttpStatusCode statusCode, string? serverError)
    {
        var status = InfluxHttp.Describe(statusCode);
        var detail = serverError is null ? string.Empty : $": {serverError}";
        return statusCode switch
        {
            HttpStatusCode.BadRequest => new InfluxWriteException(
                $"InfluxDB rejected the batch as malformed ({status}){detail}", statusCode, isTransient: false, isMalformed: true, serverError),
            HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => new InfluxWriteException(
                $"InfluxDB authentication failed ({status}); check {InfluxOptions.SectionName}:Username/Password or {InfluxOptions.SectionName}:Token.",
                statusCode,
                isTransient: false,
                isMalformed: false,
                serverError),
            HttpStatusCode.RequestEntityTooLarge => new InfluxWriteException(
                $"The batch is larger than InfluxDB accepts ({status}); lower {InfluxOptions.SectionName}:MaxBatchPoints.",
                statusCode,
                isTransient: false,
                isMalformed: false,
                serverError),
            _ when InfluxHttp.IsTransient(statusCode) => new InfluxWriteException(
                $"InfluxDB is unavailable ({status}){detail}", statusCode, isTransient: true, isMalformed: false, serverError),
            _ => new InfluxWriteException(
                $"InfluxDB refused the write ({status}){detail}", statusCode, isTransient: false, isMalformed: false, serverError),
        };
    }

    private static ByteArrayContent CreateGzipContent(ReadOnlySpan<byte> lineProtocol)
    {
        // Line protocol compresses about 10:1; Fastest keeps the CPU cost well below the network time.
        var output = new MemoryStream(Math.Max(256, lineProtocol.Length / 4));
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(lineProtocol);
        }

        var content = new ByteArrayContent(output.GetBuffer(), 0, checked((int)output.Length));
        content.Headers.ContentEncoding.Add("gzip");
        return content;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, EventName = "InfluxWritten", Level = LogLevel.Debug,
            Message = "Wrote {PointCount} points ({Bytes} bytes, {SentBytes} sent) to InfluxDB database {Database} in {ElapsedMs:F1} ms")]
        public static partial void Written(ILogger logger, int pointCount, int bytes, long sentBytes, string database, double elapsedMs);

        [LoggerMessage(EventId = 5, EventName = "InfluxWrittenBytes", Level = LogLevel.Debug,
            Message = "Wrote {Bytes} bytes ({SentBytes} sent) to InfluxDB database {Database} in {ElapsedMs:F1} ms")]
        public static partial void WrittenBytes(ILogger logger, int bytes, long sentBytes, string database, double elapsedMs);

        [LoggerMessage(EventId = 2, EventName = "InfluxWriteRejected", Level = LogLevel.Warning,
            Message = "InfluxDB answered HTTP {StatusCode} to a write to database {Database} (transient: {IsTransient}, malformed: {IsMalformed}): {ServerError}")]
        public static partial void WriteRejected(ILogger logger, int statusCode, string database, bool isTransient, bool isMalformed, string? serverError);

        [LoggerMessage(EventId = 3, EventName = "InfluxWriteTimedOut", Level = LogLevel.Warning,
            Message = "A write of {Bytes} bytes to InfluxDB database {Database} timed out after {ElapsedMs:F0} ms")]
        public static partial void WriteTimedOut(ILogger logger, string database, int bytes, double elapsedMs, Exception exception);

        [LoggerMessage(EventId = 4, EventName = "InfluxWriteUnreachable", Level = LogLevel.Warning,
            Message = "InfluxDB at {Endpoint} could not be reached for a write to database {Database}")]
        public static partial void WriteUnreachable(ILogger logger, string database, string endpoint, Exception exception);
    }
}
