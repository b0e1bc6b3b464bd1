using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Monitor.Influx;

/// <summary>HTTP details shared by <see cref="InfluxWriter"/> and <see cref="InfluxQueryClient"/>.</summary>
internal static class InfluxHttp
{
    /// <summary>The longest server error text kept in exceptions and logs.</summary>
    internal const int MaxErrorLength = 1000;

    // An error body is a small JSON object; a huge one (every line of a large batch failing) is cut here.
    private const int MaxErrorBodyBytes = 64 * 1024;

    /// <summary>
    /// Resolves <paramref name="relative"/> (no leading slash) against <paramref name="baseUrl"/>, keeping a path
    /// prefix such as <c>http://proxy/influx/</c>.
    /// </summary>
    internal static Uri Resolve(Uri baseUrl, string relative)
    {
        var text = baseUrl.AbsoluteUri;
        var withSlash = text.EndsWith('/') ? baseUrl : new Uri(text + "/", UriKind.Absolute);
        return new Uri(withSlash, relative);
    }

    /// <summary>The normalized base address (with a trailing slash) for <see cref="HttpClient.BaseAddress"/>.</summary>
    internal static Uri BaseAddress(Uri baseUrl) => Resolve(baseUrl, string.Empty);

    /// <summary>Builds the <c>Authorization</c> header: <c>Token</c> for 2.x/3.x, HTTP Basic for 1.x, or none.</summary>
    internal static AuthenticationHeaderValue? CreateAuthorization(InfluxOptions options)
    {
        if (!string.IsNullOrEmpty(options.Token))
        {
            return new AuthenticationHeaderValue("Token", options.Token);
        }

        if (!string.IsNullOrEmpty(options.Username))
        {
            var credentials = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{options.Username}:{options.Password}"));
            return new AuthenticationHeaderValue("Basic", credentials);
        }

        return null;
    }

    /// <summary>Appends <c>&amp;name=value</c> with the value URL-encoded.</summary>
    internal static void AppendParameter(StringBuilder query, string name, string value)
    {
        if (query.Length > 0 && query[^1] != '?')
        {
            query.Append('&');
        }

        query.Append(name).Append('=').Append(Uri.EscapeDataString(value));
    }

    /// <summary>Whether a status means "try again later": 408, 429 and every 5xx.</summary>
    internal static bool IsTransient(HttpStatusCode statusCode) =>
        statusCode is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests || (int)statusCode >= 500;

    /// <summary>
    /// Reads the error InfluxDB sent: the <c>error</c> member of its JSON body, else its <c>X-Influxdb-Error</c>
    /// header, else the start of the body. Never throws except for caller cancellation.
    /// </summary>
    internal static async Task<string?> ReadErrorAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        byte[] body;
        int length;
        try
        {
            var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                body = new byte[MaxErrorBodyBytes];
                length = 0;
                int read;
                while (length < body.Length
                    && (read = await stream.ReadAsync(body.AsMemory(length), cancellationToken).ConfigureAwait(false)) > 0)
                {
                    length += read;
                }
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException
            || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return HeaderError(response);
        }

        return ParseError(body.AsSpan(0, length)) ?? HeaderError(response) ?? Shorten(Encoding.UTF8.GetString(body, 0, length).Trim());
    }

    /// <summary>Reads the <c>error</c> string member of a JSON object, or <see langword="null"/>.</summary>
    internal static string? ParseError(ReadOnlySpan<byte> json)
    {
        if (json.IsEmpty)
        {
            return null;
        }

        try
        {
            var reader = new Utf8JsonReader(json);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isError = reader.ValueTextEquals("error"u8);
                if (!reader.Read())
                {
                    return null;
                }

                if (isError && reader.TokenType == JsonTokenType.String)
                {
                    return Shorten(reader.GetString());
                }

                reader.Skip();
            }
        }
        catch (JsonException)
        {
            // Not JSON (a proxy's error page, a cut-off body): the caller falls back to the raw text.
        }

        return null;
    }

    internal static string? Shorten(string? text) =>
        string.IsNullOrEmpty(text) ? null : text.Length <= MaxErrorLength ? text : string.Concat(text.AsSpan(0, MaxErrorLength), "…");

    internal static string Describe(HttpStatusCode statusCode) => $"HTTP {(int)statusCode} {statusCode}";

    private static string? HeaderError(HttpResponseMessage response) =>
        response.Headers.TryGetValues("X-Influxdb-Error", out var values) ? Shorten(string.Join("; ", values)) : null;
}
