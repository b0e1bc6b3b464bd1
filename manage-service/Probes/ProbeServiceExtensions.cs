using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Monitor.ManageService.Data;
using Monitor.ManageService.Options;
using Monitor.ManageService.Probes;

namespace Microsoft.Extensions.Hosting;

/// <summary>Wiring of the probe-target area (issue #10): store, API, config stream.</summary>
internal static partial class ProbeServiceExtensions
{
    public static IHostApplicationBuilder AddProbeTargets(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptionsWithValidateOnStart<ProbeOptions, ProbeOptionsValidator>().BindConfiguration(ProbeOptions.SectionName);
        services.AddDbContext<ProbeDbContext>((sp, db) =>
        {
            var options = sp.GetRequiredService<IOptions<ManageOptions>>().Value;
            var connectionString = sp.GetRequiredService<IConfiguration>().GetConnectionString(options.ConnectionStringName);
            if (string.IsNullOrWhiteSpace(connectionString))
            {
                throw new InvalidOperationException($"ConnectionStrings:{options.ConnectionStringName} is not set (the manage database, e.g. ConnectionStrings__Manage).");
            }
            db.UseMySql(connectionString, ManageDatabase.ParseServerVersion(options.ServerVersion), o => o.MigrationsHistoryTable(ProbeDbContext.MigrationsTable));
        });
        services.AddSingleton<SecretProtector>();
        services.AddSingleton<ProbeChangeNotifier>();
        services.AddSingleton<ProberSet>();
        services.AddHostedService(sp => sp.GetRequiredService<ProberSet>());
        services.AddSingleton<ProbeTargetCache>();
        services.AddScoped<ProbeTargetStore>();
        services.AddScoped<ProbeStatusReader>();
        services.AddHostedService<ProbeRevisionWatcher>();
        return builder;
    }

    public static WebApplication MapProbeTargets(this WebApplication app)
    {
        app.MapGrpcService<ProbeConfigGrpcService>();
        app.MapProbeApi();
        return app;
    }

    /// <summary>Applies the probe migrations (history table <c>__probe_migrations</c>).</summary>
    public static async Task MigrateProbeDatabaseAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ProbeDbContext>();
        var logger = scope.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger<ProbeDbContext>();
        var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken).ConfigureAwait(false)).ToList();
        if (pending.Count == 0)
        {
            return;
        }
        var names = string.Join(", ", pending);
        Log.Migrating(logger, pending.Count, names);
        await db.Database.MigrateAsync(cancellationToken).ConfigureAwait(false);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 6100, EventName = "ProbeDbMigrating", Level = LogLevel.Information,
            Message = "Applying {Count} probe migration(s) to the manage database: {Migrations}")]
        public static partial void Migrating(ILogger logger, int count, string migrations);
    }
}
