using System.Net;

namespace Monitor.Influx.UnitTests;

/// <summary>Answers every request with a canned response and records what was sent, body included.</summary>
internal sealed class FakeHttpMessageHandler : HttpMessageHandler
{
    private readonly Func<HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>> _respond;

    public FakeHttpMessageHandler(Func<HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>> respond)
    {
        _respond = respond;
    }

    public FakeHttpMessageHandler(HttpStatusCode statusCode, string? body = null, string mediaType = "application/json")
        : this((_, _) => Task.FromResult(new HttpResponseMessage(statusCode)
        {
            Content = body is null ? new ByteArrayContent([]) : new StringContent(body, System.Text.Encoding.UTF8, mediaType),
        }))
    {
    }

    public List<RecordedRequest> Requests { get; } = [];

    public RecordedRequest LastRequest => Requests[^1];

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        // The caller disposes the request when the call returns, so copy what the tests look at now.
        var body = request.Content is null ? [] : await request.Content.ReadAsByteArrayAsync(cancellationToken);
        Requests.Add(new RecordedRequest(
            request.Method,
            request.RequestUri!,
            request.Headers.Authorization?.Scheme,
            request.Headers.Authorization?.Parameter,
            request.Content?.Headers.ContentEncoding.ToList() ?? [],
            request.Content?.Headers.ContentType?.ToString(),
            body));
        return await _respond(request, cancellationToken);
    }
}

internal sealed record RecordedRequest(
    HttpMethod Method,
    Uri Uri,
    string? AuthScheme,
    string? AuthParameter,
    IReadOnlyList<string> ContentEncoding,
    string? ContentType,
    byte[] Body)
{
    public Dictionary<string, string> Query =>
        Uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('=', 2))
            .ToDictionary(p => Uri.UnescapeDataString(p[0]), p => Uri.UnescapeDataString(p.Length > 1 ? p[1] : string.Empty));
}
