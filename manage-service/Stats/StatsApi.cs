using Monitor.Diagnostics.Requests;
using Monitor.ManageService.Http;
using Monitor.ServiceDefaults.Auth;

namespace Monitor.ManageService.Stats;

/// <summary>Fleet-wide self-observability under <c>/api/v1/manage</c>: request statistics over all live instances.</summary>
internal static class StatsApi
{
    public static IServiceCollection AddManageStats(this IServiceCollection services)
    {
        services.AddHttpClient(RequestStatsAggregator.HttpClientName, c => c.Timeout = TimeSpan.FromSeconds(5));
        services.AddSingleton<RequestStatsAggregator>();
        services.AddSingleton<RegistryFigures>();
        services.AddHostedService(sp => sp.GetRequiredService<RegistryFigures>());
        services.AddSingleton<PipelineHealthService>();
        return services;
    }

    public static IEndpointRouteBuilder MapManageStats(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup(ManageApi.Prefix).WithTags("stats").WithMetadata(new RequireRoleAttribute(MonitorRole.Viewer));

        api.MapGet("/stats/requests", async (RequestStatsAggregator aggregator, HttpRequest request, string? window, CancellationToken ct) =>
        {
            if (!RequestStatisticsEndpoints.TryParseWindowMinutes(window, out var minutes, out var error))
            {
                return Results.ValidationProblem(new Dictionary<string, string[]> { ["window"] = [error] });
            }
            var stats = await aggregator.AggregateAsync(minutes, request.Headers.Authorization.ToString(), request.Headers.Cookie.ToString(), ct)
                .ConfigureAwait(false);
            return Results.Ok(stats);
        }).WithName("AggregateRequestStats")
            .WithSummary("Request statistics of every live instance in the registry, merged per service kind and route (calls/s, error rate, p50/p99).");

        api.MapGet("/pipeline/health", async (PipelineHealthService health, HttpRequest request, CancellationToken ct) =>
            Results.Ok(await health.GetAsync(request.Headers.Authorization.ToString(), request.Headers.Cookie.ToString(), ct).ConfigureAwait(false)))
            .WithName("PipelineHealth")
            .WithSummary("Is the pipeline healthy, and if not, which stage is behind: per stage the live instances, a status and the key figures.");
        return app;
    }
}
