using System.Diagnostics;
using Monitor.AnalyzeService.Extensions;
using Monitor.Influx;

namespace Monitor.AnalyzeService.Query;

/// <summary>Runs InfluxQL for the analyze operations: times each request and turns failures into <see cref="AnalyzeUnavailableException"/>.</summary>
internal interface IInfluxExecutor
{
    Task<InfluxQueryResult> QueryAsync(string operation, string influxQl, CancellationToken cancellationToken);
}

internal sealed partial class InfluxExecutor(InfluxQueryClient client, AnalyzeMetrics metrics, ILogger<InfluxExecutor> logger) : IInfluxExecutor
{
    public async Task<InfluxQueryResult> QueryAsync(string operation, string influxQl, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            return await client.QueryAsync(influxQl, cancellationToken).ConfigureAwait(false);
        }
        catch (InfluxQueryException ex) when (ex.IsTransient || ex.StatusCode is null || ex.StatusCode is System.Net.HttpStatusCode.Unauthorized or System.Net.HttpStatusCode.Forbidden)
        {
            throw new AnalyzeUnavailableException($"InfluxDB is unavailable: {ex.Message}", ex);
        }
        catch (InfluxQueryException ex) when (ex.ServerError?.Contains("database not found", StringComparison.OrdinalIgnoreCase) == true)
        {
            throw new AnalyzeUnavailableException($"InfluxDB has no such database yet: {ex.ServerError}", ex);
        }
        catch (InfluxQueryException ex)
        {
            // Every input is validated and escaped, so a refused statement is our bug or a server limit: log the text.
            Log.QueryRefused(logger, operation, ex.ServerError, influxQl);
            throw;
        }
        finally
        {
            metrics.Influx(operation, Stopwatch.GetElapsedTime(started));
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 5001, EventName = "InfluxQueryRefused", Level = LogLevel.Error,
            Message = "InfluxDB refused the {Operation} query ({ServerError}): {InfluxQl}")]
        public static partial void QueryRefused(ILogger logger, string operation, string? serverError, string influxQl);
    }
}
