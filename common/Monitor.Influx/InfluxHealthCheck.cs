using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Monitor.Influx;

/// <summary>Readiness: InfluxDB answers <c>/ping</c>.</summary>
public sealed class InfluxHealthCheck(InfluxQueryClient client) : IHealthCheck
{
    /// <inheritdoc />
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        await client.PingAsync(cancellationToken).ConfigureAwait(false)
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Unhealthy("InfluxDB does not answer /ping");
}
