using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Monitor.ManageService.Access;
using Monitor.ManageService.Data;
using Monitor.ManageService.Extensions;
using Monitor.ManageService.Grpc;
using Monitor.ManageService.Hosts;
using Monitor.ManageService.Http;
using Monitor.ManageService.Liveness;
using Monitor.ManageService.Options;
using Monitor.ManageService.Registry;
using Monitor.ManageService.Stats;

namespace Microsoft.Extensions.Hosting;

internal static class ManageServiceExtensions
{
    public static IHostApplicationBuilder AddManageService(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptionsWithValidateOnStart<ManageOptions, ManageOptionsValidator>().BindConfiguration(ManageOptions.SectionName);
        services.AddSingleton<IValidateOptions<ManageOptions>, ManageOptionsCustomValidator>();
        services.AddDbContext<ManageDbContext>((sp, db) =>
        {
            var options = sp.GetRequiredService<IOptions<ManageOptions>>().Value;
            var connectionString = sp.GetRequiredService<IConfiguration>().GetConnectionString(options.ConnectionStringName);
            if (string.IsNullOrWhiteSpace(connectionString))
            {
                throw new InvalidOperationException($"ConnectionStrings:{options.ConnectionStringName} is not set (the manage database, e.g. ConnectionStrings__Manage).");
            }
            db.UseMySql(connectionString, ManageDatabase.ParseServerVersion(options.ServerVersion));
        });
        services.AddHealthChecks().AddCheck<ManageDbHealthCheck>("manage-db", tags: ["ready"]);
        services.AddMonitorInflux();
        services.AddSingleton<ManageMetrics>();
        services.AddSingleton<EtcdConnection>();
        services.AddSingleton<HostEventPublisher>();
        services.AddScoped<HostStore>();
        services.AddScoped<LivenessService>();
        services.AddSingleton<LivenessTracker>();
        services.AddHostedService<LivenessRefresher>();
        services.AddSingleton<ServiceRegistryView>();
        services.AddHostedService<ServiceRegistryWatcher>();
        services.AddManageStats();
        services.AddOpenApi();
        builder.AddProbeTargets();
        services.AddAccess();
        return builder;
    }

    /// <summary>
    /// Applies pending migrations when <c>Manage:ApplyMigrationsOnStartup</c> is true or the process was started with
    /// <c>--migrate</c>. Returns true when the process should exit (<c>--migrate</c>: migrate, then stop).
    /// </summary>
    public static async Task<bool> MigrateManageDatabaseAsync(this WebApplication app, string[] args)
    {
        var migrateOnly = args.Contains("--migrate", StringComparer.Ordinal);
        if (migrateOnly || app.Services.GetRequiredService<IOptions<ManageOptions>>().Value.ApplyMigrationsOnStartup)
        {
            await ManageDatabase.MigrateAsync(app.Services, app.Lifetime.ApplicationStopping).ConfigureAwait(false);
            await ProbeServiceExtensions.MigrateProbeDatabaseAsync(app.Services, app.Lifetime.ApplicationStopping).ConfigureAwait(false);
            await AccessExtensions.PrepareAccessAsync(app.Services, app.Lifetime.ApplicationStopping).ConfigureAwait(false);
        }
        return migrateOnly;
    }

    public static WebApplication MapManageService(this WebApplication app)
    {
        app.MapGrpcService<ManageGrpcService>();
        app.MapManageApi();
        app.MapLegacyHostApi();
        app.MapManageStats();
        app.MapProbeTargets();
        app.MapAccessApi();
        app.MapOpenApi(ManageApi.Prefix + "/openapi/{documentName}.json").WithMetadata(new Monitor.ServiceDefaults.Auth.RequireRoleAttribute(Monitor.ServiceDefaults.Auth.MonitorRole.Anonymous));
        return app;
    }
}
