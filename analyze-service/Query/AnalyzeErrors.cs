namespace Monitor.AnalyzeService.Query;

/// <summary>A request parameter is invalid; <see cref="Field"/> names it (HTTP 400 / gRPC InvalidArgument).</summary>
internal sealed class AnalyzeValidationException(string field, string message) : Exception(message)
{
    public string Field { get; } = field;
}

/// <summary>Something the request names does not exist (HTTP 404 / gRPC NotFound).</summary>
internal sealed class AnalyzeNotFoundException(string field, string message) : Exception(message)
{
    public string Field { get; } = field;
}

/// <summary>A dependency (InfluxDB, the manage service) cannot answer (HTTP 503 / gRPC Unavailable).</summary>
internal sealed class AnalyzeUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
