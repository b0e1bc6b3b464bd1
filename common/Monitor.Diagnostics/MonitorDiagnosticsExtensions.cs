using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Monitor.Diagnostics.Admin;
using Monitor.Diagnostics.Requests;
using Monitor.Diagnostics.SelfMetrics;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registration of request statistics and the admin-port runtime diagnostics.</summary>
public static class MonitorDiagnosticsExtensions
{
    /// <summary>
    /// Registers <see cref="RequestStatistics"/>, its gRPC interceptor and the runtime diagnostics (options from section
    /// <c>Diagnostics</c>). Add <see cref="RequestStatisticsInterceptor"/> to the gRPC interceptors yourself, first.
    /// </summary>
    public static IServiceCollection AddMonitorDiagnostics(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();
        services.TryAddSingleton<RequestStatistics>();
        services.TryAddSingleton<RequestStatisticsInterceptor>();
        services.AddOptions<DiagnosticsOptions>().BindConfiguration(DiagnosticsOptions.SectionName);
        services.TryAddSingleton<RuntimeDiagnostics>();
        services.AddOptions<SelfMetricsOptions>().BindConfiguration(SelfMetricsOptions.SectionName);
        services.TryAddSingleton<SelfMetricsCollector>();
        services.AddHostedService<SelfMetricsFeeder>();
        return services;
    }

    /// <summary>Counts HTTP requests per route template. Call right after <c>UseRouting</c>.</summary>
    public static IApplicationBuilder UseMonitorRequestStatistics(this IApplicationBuilder app) =>
        app.UseMiddleware<RequestStatisticsMiddleware>();
}
