using System.Net;

namespace Monitor.Influx;

/// <summary>A write to InfluxDB failed; the properties say whether retrying can help.</summary>
/// <remarks>
/// Callers dead-letter a batch only when <see cref="IsMalformed"/> is set (InfluxDB answered 400: retrying the same
/// bytes fails again). Every other failure means InfluxDB did not take the batch and it must be retried later;
/// <see cref="IsTransient"/> tells an outage (5xx, 429, timeouts, connection errors) from a configuration problem
/// (authentication, unknown database) that needs a person but must not lose data either.
/// </remarks>
public sealed class InfluxWriteException : Exception
{
    /// <summary>Creates an exception with a default message.</summary>
    public InfluxWriteException()
        : this("Writing to InfluxDB failed.")
    {
    }

    /// <summary>Creates an exception with the given message.</summary>
    /// <param name="message">The message.</param>
    public InfluxWriteException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with the given message and cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public InfluxWriteException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates an exception describing a failed write.</summary>
    /// <param name="message">The message; never contains credentials.</param>
    /// <param name="statusCode">The HTTP status InfluxDB answered with, or <see langword="null"/> if there was no response.</param>
    /// <param name="isTransient">Whether the failure is expected to pass by itself.</param>
    /// <param name="isMalformed">Whether InfluxDB rejected the data itself (HTTP 400).</param>
    /// <param name="serverError">The error text InfluxDB returned, if any.</param>
    /// <param name="innerException">The cause, if any.</param>
    public InfluxWriteException(
        string message,
        HttpStatusCode? statusCode,
        bool isTransient,
        bool isMalformed,
        string? serverError,
        Exception? innerException = null)
        : base(message, innerException)
    {
        StatusCode = statusCode;
        IsTransient = isTransient;
        IsMalformed = isMalformed;
        ServerError = serverError;
    }

    /// <summary>Gets the HTTP status InfluxDB answered with, or <see langword="null"/> if no response arrived.</summary>
    public HttpStatusCode? StatusCode { get; }

    /// <summary>
    /// Gets a value indicating whether the failure should pass by itself (HTTP 5xx, 408, 429, a timeout or a
    /// connection error), so the same batch can be retried after a back-off.
    /// </summary>
    public bool IsTransient { get; }

    /// <summary>
    /// Gets a value indicating whether InfluxDB rejected the data (HTTP 400: unparsable lines, a field type conflict,
    /// points outside the retention policy). Retrying the same bytes cannot succeed. InfluxDB 1.x still stores the
    /// valid points of a batch that it answers 400 ("partial write").
    /// </summary>
    public bool IsMalformed { get; }

    /// <summary>Gets the error text InfluxDB returned (its JSON <c>error</c> member), if any, shortened to 1,000 characters.</summary>
    public string? ServerError { get; }
}
