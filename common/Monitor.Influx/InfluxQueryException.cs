using System.Net;

namespace Monitor.Influx;

/// <summary>An InfluxQL query failed: InfluxDB could not be reached, refused the request, or reported an error.</summary>
public sealed class InfluxQueryException : Exception
{
    /// <summary>Creates an exception with a default message.</summary>
    public InfluxQueryException()
        : this("The InfluxDB query failed.")
    {
    }

    /// <summary>Creates an exception with the given message.</summary>
    /// <param name="message">The message.</param>
    public InfluxQueryException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with the given message and cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public InfluxQueryException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates an exception describing a failed query.</summary>
    /// <param name="message">The message; never contains credentials.</param>
    /// <param name="statusCode">The HTTP status InfluxDB answered with, or <see langword="null"/> if there was no response.</param>
    /// <param name="isTransient">Whether the failure is expected to pass by itself.</param>
    /// <param name="serverError">The error text InfluxDB returned, if any.</param>
    /// <param name="statementId">The failing statement (from 0) when InfluxDB reported a statement error.</param>
    /// <param name="innerException">The cause, if any.</param>
    public InfluxQueryException(
        string message,
        HttpStatusCode? statusCode,
        bool isTransient,
        string? serverError,
        int? statementId = null,
        Exception? innerException = null)
        : base(message, innerException)
    {
        StatusCode = statusCode;
        IsTransient = isTransient;
        ServerError = serverError;
        StatementId = statementId;
    }

    /// <summary>Gets the HTTP status InfluxDB answered with, or <see langword="null"/> if no response arrived.</summary>
    public HttpStatusCode? StatusCode { get; }

    /// <summary>Gets a value indicating whether the failure should pass by itself (5xx, 408, 429, a timeout, a connection error).</summary>
    public bool IsTransient { get; }

    /// <summary>Gets the error text InfluxDB returned (for example <c>database not found: monitor</c>), if any.</summary>
    public string? ServerError { get; }

    /// <summary>Gets the failing statement (from 0) when InfluxDB reported an error for one statement.</summary>
    public int? StatementId { get; }
}
