using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace Monitor.Diagnostics.SelfMetrics;

/// <summary>The per-instance view of the pipeline figures.</summary>
public static class SelfMetricsEndpoints
{
    /// <summary>Path of the view for a service of kind <paramref name="kind"/>.</summary>
    public static string PathFor(string kind) => $"/api/v1/{kind}/instance/stats/pipeline";

    /// <summary>Maps <c>GET /api/v1/{kind}/instance/stats/pipeline</c>: the figures of the latest tick (taken now when there was none yet). The caller declares the role.</summary>
    public static RouteHandlerBuilder MapSelfMetrics(this IEndpointRouteBuilder app, string kind)
    {
        ArgumentNullException.ThrowIfNull(app);
        return app.MapGet(PathFor(kind), (SelfMetricsCollector collector, IOptions<SelfMetricsOptions> options) =>
            Results.Json(collector.Latest ?? collector.Tick(options.Value.Kind, options.Value.Instance), SelfFiguresJsonContext.Default.SelfFiguresSnapshot))
            .WithName($"{kind}-pipeline-figures").WithSummary("This instance's own pipeline figures (queue depths, lag, failures) as fed to the pipeline.");
    }
}
