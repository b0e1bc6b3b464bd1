using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Monitor.Influx;

/// <summary>
/// Runs InfluxQL through InfluxDB's <c>/query</c> endpoint (v1 API; 2.x and 3.x serve it for compatibility) and parses
/// the JSON answer. Timestamps come back as Unix milliseconds (<c>epoch=ms</c>). A typed <see cref="HttpClient"/>;
/// register it with <c>AddMonitorInflux()</c>.
/// </summary>
/// <remarks>
/// Build queries with <see cref="InfluxQl"/> so every identifier and string literal is validated and escaped.
/// Read-only statements (<c>SELECT</c> without <c>INTO</c>, <c>SHOW</c>) are sent with GET, everything else with POST
/// as InfluxDB 1.x requires. Failures surface as <see cref="InfluxQueryException"/>, including an error reported for
/// any single statement; only caller cancellation surfaces as <see cref="OperationCanceledException"/>.
/// </remarks>
public sealed partial class InfluxQueryClient
{
    // Longer GET URLs risk proxy limits; InfluxDB takes the same query as a form POST.
    private const int MaxGetQueryLength = 4096;

    private readonly HttpClient _httpClient;
    private readonly ILogger<InfluxQueryClient> _logger;
    private readonly InfluxOptions _options;
    private readonly AuthenticationHeaderValue? _authorization;

    /// <summary>Creates a query client; normally done by <see cref="IHttpClientFactory"/>.</summary>
    /// <param name="httpClient">The client to send with.</param>
    /// <param name="options">The InfluxDB settings.</param>
    /// <param name="logger">The logger.</param>
    public InfluxQueryClient(HttpClient httpClient, IOptions<InfluxOptions> options, ILogger<InfluxQueryClient> logger)
    {
        ArgumentNullException.ThrowIfNull(httpClient);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);

        _httpClient = httpClient;
        _logger = logger;
        _options = options.Value;
        _authorization = InfluxHttp.CreateAuthorization(_options);
    }

    /// <summary>Checks that InfluxDB answers <c>/ping</c> with 2xx (1.x, and the v1-compatible endpoints of 2.x/3.x).</summary>
    /// <param name="cancellationToken">Cancels the check.</param>
    /// <returns>True when InfluxDB answered 2xx.</returns>
    public async Task<bool> PingAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var response = await _httpClient.GetAsync(new Uri("ping", UriKind.Relative), cancellationToken).ConfigureAwait(false);
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>Runs one or more InfluxQL statements (separated by <c>;</c>).</summary>
    /// <param name="influxQl">The query; build it with <see cref="InfluxQl"/>.</param>
    /// <param name="cancellationToken">Cancels the query.</param>
    /// <param name="database">The database to run against; <see langword="null"/> for <see cref="InfluxOptions.Database"/>.</param>
    /// <returns>The parsed result; its <see cref="InfluxQueryResult.Series"/> is empty when nothing matched.</returns>
    /// <exception cref="InfluxQueryException">The query failed or a statement reported an error.</exception>
    public async Task<InfluxQueryResult> QueryAsync(string influxQl, CancellationToken cancellationToken, string? database = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(influxQl);
        cancellationToken.ThrowIfCancellationRequested();

        var db = string.IsNullOrEmpty(database) ? _options.Database : database;
        var query = new StringBuilder("query?");
        InfluxHttp.AppendParameter(query, "db", db);
        InfluxHttp.AppendParameter(query, "epoch", LineProtocol.Precision);
        if (!string.IsNullOrEmpty(_options.RetentionPolicy))
        {
            InfluxHttp.AppendParameter(query, "rp", _options.RetentionPolicy);
        }

        HttpRequestMessage request;
        if (IsReadOnly(influxQl) && influxQl.Length <= MaxGetQueryLength)
        {
            InfluxHttp.AppendParameter(query, "q", influxQl);
            request = new HttpRequestMessage(HttpMethod.Get, InfluxHttp.Resolve(_options.Url, query.ToString()));
        }
        else
        {
            request = new HttpRequestMessage(HttpMethod.Post, InfluxHttp.Resolve(_options.Url, query.ToString()))
            {
                Content = new FormUrlEncodedContent([new KeyValuePair<string, string>("q", influxQl)]),
            };
        }

        using (request)
        {
            request.Headers.Authorization = _authorization;
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));

            var started = Stopwatch.GetTimestamp();
            HttpResponseMessage response;
            try
            {
                response = await _httpClient.SendAsync(request, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
            {
                var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                Log.QueryTimedOut(_logger, db, elapsed, ex);
                throw new InfluxQueryException(
                    $"The InfluxDB query timed out after {elapsed:F0} ms.", statusCode: null, isTransient: true, serverError: null, innerException: ex);
            }
            catch (HttpRequestException ex)
            {
                var endpoint = _options.Url.GetLeftPart(UriPartial.Authority);
                Log.QueryUnreachable(_logger, endpoint, db, ex);
                throw new InfluxQueryException(
                    $"InfluxDB at {endpoint} could not be reached: {ex.Message}", statusCode: null, isTransient: true, serverError: null, innerException: ex);
            }

            using (response)
            {
                if (!response.IsSuccessStatusCode)
                {
                    var serverError = await InfluxHttp.ReadErrorAsync(response, cancellationToken).ConfigureAwait(false);
                    var exception = CreateException(response.StatusCode, serverError);
                    Log.QueryRejected(_logger, (int)response.StatusCode, db, serverError);
                    throw exception;
                }

                byte[] body;
                try
                {
                    body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is HttpRequestException or IOException
                    || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
                {
                    throw new InfluxQueryException(
                        "Reading the InfluxDB query response failed.", response.StatusCode, isTransient: true, serverError: null, innerException: ex);
                }

                var result = Parse(body);
                var elapsedMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                Log.Queried(_logger, db, result.Series.Count, body.Length, elapsedMs);
                return result;
            }
        }
    }

    /// <summary>Parses a <c>/query</c> JSON answer; statement and top-level errors become <see cref="InfluxQueryException"/>.</summary>
    /// <param name="json">The UTF-8 response body.</param>
    /// <returns>The parsed result.</returns>
    internal static InfluxQueryResult Parse(ReadOnlyMemory<byte> json)
    {
        JsonElement root;
        try
        {
            // One copy of the whole answer backs every JsonElement handed out, so the pooled document can go now.
            using var document = JsonDocument.Parse(json);
            root = document.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            throw new InfluxQueryException(
                "InfluxDB returned a query response that is not valid JSON.", HttpStatusCode.OK, isTransient: false, serverError: null, innerException: ex);
        }

        if (root.ValueKind != JsonValueKind.Object)
        {
            throw Malformed("the response is not a JSON object");
        }

        if (root.TryGetProperty("error", out var topError) && topError.ValueKind == JsonValueKind.String)
        {
            var error = InfluxHttp.Shorten(topError.GetString());
            throw new InfluxQueryException($"InfluxDB reported a query error: {error}", HttpStatusCode.OK, isTransient: false, error);
        }

        if (!root.TryGetProperty("results", out var results) || results.ValueKind == JsonValueKind.Null)
        {
            return new InfluxQueryResult([]);
        }

        if (results.ValueKind != JsonValueKind.Array)
        {
            throw Malformed("'results' is not an array");
        }

        var statements = new List<InfluxStatementResult>(results.GetArrayLength());
        foreach (var statement in results.EnumerateArray())
        {
            var statementId = statement.TryGetProperty("statement_id", out var id) && id.ValueKind == JsonValueKind.Number
                ? id.GetInt32()
                : statements.Count;

            if (statement.TryGetProperty("error", out var statementError) && statementError.ValueKind == JsonValueKind.String)
            {
                var error = InfluxHttp.Shorten(statementError.GetString());
                throw new InfluxQueryException(
                    $"InfluxDB reported an error for statement {statementId}: {error}", HttpStatusCode.OK, isTransient: false, error, statementId);
            }

            statements.Add(new InfluxStatementResult(statementId, ParseSeriesList(statement)));
        }

        return new InfluxQueryResult(statements);
    }

    private static List<InfluxSeries> ParseSeriesList(JsonElement statement)
    {
        if (!statement.TryGetProperty("series", out var seriesArray) || seriesArray.ValueKind != JsonValueKind.Array)
        {
            return [];
        }

        var list = new List<InfluxSeries>(seriesArray.GetArrayLength());
        foreach (var series in seriesArray.EnumerateArray())
        {
            var name = series.TryGetProperty("name", out var nameElement) && nameElement.ValueKind == JsonValueKind.String
                ? nameElement.GetString()!
                : string.Empty;

            var tags = new Dictionary<string, string>(StringComparer.Ordinal);
            if (series.TryGetProperty("tags", out var tagsElement) && tagsElement.ValueKind == JsonValueKind.Object)
            {
                foreach (var tag in tagsElement.EnumerateObject())
                {
                    // A series grouped by a tag it lacks reports "" for it.
                    tags[tag.Name] = tag.Value.ValueKind == JsonValueKind.String ? tag.Value.GetString()! : tag.Value.GetRawText();
                }
            }

            var columns = new List<string>();
            if (series.TryGetProperty("columns", out var columnsElement) && columnsElement.ValueKind == JsonValueKind.Array)
            {
                foreach (var column in columnsElement.EnumerateArray())
                {
                    columns.Add(column.ValueKind == JsonValueKind.String ? column.GetString()! : column.GetRawText());
                }
            }

            var rows = new List<IReadOnlyList<JsonElement?>>();
            if (series.TryGetProperty("values", out var valuesElement) && valuesElement.ValueKind == JsonValueKind.Array)
            {
                rows.Capacity = valuesElement.GetArrayLength();
                foreach (var row in valuesElement.EnumerateArray())
                {
                    if (row.ValueKind != JsonValueKind.Array)
                    {
                        throw Malformed($"a row of series '{name}' is not an array");
                    }

                    var cells = new JsonElement?[row.GetArrayLength()];
                    var i = 0;
                    foreach (var cell in row.EnumerateArray())
                    {
                        cells[i++] = cell.ValueKind == JsonValueKind.Null ? null : cell;
                    }

                    rows.Add(cells);
                }
            }

            list.Add(new InfluxSeries(name, tags, columns, rows));
        }

        return list;
    }

    /// <summary>Whether a query only reads, so InfluxDB 1.x accepts it with GET.</summary>
    internal static bool IsReadOnly(string influxQl)
    {
        var text = influxQl.AsSpan().TrimStart();
        var readsOnly = text.StartsWith("SELECT", StringComparison.OrdinalIgnoreCase)
            || text.StartsWith("SHOW", StringComparison.OrdinalIgnoreCase);

        // SELECT ... INTO writes; a ';' may start a second statement that writes. POST is always accepted.
        return readsOnly
            && !text.Contains("INTO", StringComparison.OrdinalIgnoreCase)
            && !text.Contains(';');
    }

    private static InfluxQueryException CreateException(HttpStatusCode statusCode, string? serverError)
    {
        var status = InfluxHttp.Describe(statusCode);
        var detail = serverError is null ? string.Empty : $": {serverError}";
        return statusCode switch
        {
            HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => new InfluxQueryException(
                $"InfluxDB authentication failed ({status}); check {InfluxOptions.SectionName}:Username/Password or {InfluxOptions.SectionName}:Token.",
                statusCode,
                isTransient: false,
                serverError),
            _ when InfluxHttp.IsTransient(statusCode) => new InfluxQueryException(
                $"InfluxDB is unavailable ({status}){detail}", statusCode, isTransient: true, serverError),
            _ => new InfluxQueryException($"InfluxDB refused the query ({status}){detail}", statusCode, isTransient: false, serverError),
        };
    }

    private static InfluxQueryException Malformed(string what) =>
        new($"InfluxDB returned an unexpected query response: {what}.", HttpStatusCode.OK, isTransient: false, serverError: null);

    private static partial class Log
    {
        [LoggerMessage(EventId = 11, EventName = "InfluxQueried", Level = LogLevel.Debug,
            Message = "Queried InfluxDB database {Database}: {SeriesCount} series, {Bytes} bytes in {ElapsedMs:F1} ms")]
        public static partial void Queried(ILogger logger, string database, int seriesCount, int bytes, double elapsedMs);

        [LoggerMessage(EventId = 12, EventName = "InfluxQueryRejected", Level = LogLevel.Warning,
            Message = "InfluxDB answered HTTP {StatusCode} to a query on database {Database}: {ServerError}")]
        public static partial void QueryRejected(ILogger logger, int statusCode, string database, string? serverError);

        [LoggerMessage(EventId = 13, EventName = "InfluxQueryTimedOut", Level = LogLevel.Warning,
            Message = "A query on InfluxDB database {Database} timed out after {ElapsedMs:F0} ms")]
        public static partial void QueryTimedOut(ILogger logger, string database, double elapsedMs, Exception exception);

        [LoggerMessage(EventId = 14, EventName = "InfluxQueryUnreachable", Level = LogLevel.Warning,
            Message = "InfluxDB at {Endpoint} could not be reached for a query on database {Database}")]
        public static partial void QueryUnreachable(ILogger logger, string endpoint, string database, Exception exception);
    }
}
