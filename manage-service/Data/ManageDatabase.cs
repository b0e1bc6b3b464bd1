using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using MySqlConnector;

namespace Monitor.ManageService.Data;

internal static partial class ManageDatabase
{
    /// <summary>Parses <c>10.11.0-mariadb</c> / <c>8.0.36-mysql</c> without connecting (ServerVersion.AutoDetect would).</summary>
    public static ServerVersion ParseServerVersion(string text)
    {
        var dash = text.IndexOf('-', StringComparison.Ordinal);
        var version = Version.Parse(text[..dash]);
        return text[(dash + 1)..] == "mysql" ? new MySqlServerVersion(version) : new MariaDbServerVersion(version);
    }

    public static bool IsDuplicateKey(DbUpdateException ex) =>
        ex.InnerException is MySqlException { ErrorCode: MySqlErrorCode.DuplicateKeyEntry };

    /// <summary>Applies pending migrations (start-up with <c>Manage:ApplyMigrationsOnStartup</c>, or <c>--migrate</c>).</summary>
    public static async Task MigrateAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ManageDbContext>();
        var logger = scope.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ManageDatabase));
        var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken).ConfigureAwait(false)).ToList();
        if (pending.Count == 0)
        {
            Log.UpToDate(logger);
            return;
        }
        var names = string.Join(", ", pending);
        Log.Migrating(logger, pending.Count, names);
        await db.Database.MigrateAsync(cancellationToken).ConfigureAwait(false);
        Log.Migrated(logger, pending.Count);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 6001, EventName = "ManageDbMigrating", Level = LogLevel.Information,
            Message = "Applying {Count} migration(s) to the manage database: {Migrations}")]
        public static partial void Migrating(ILogger logger, int count, string migrations);

        [LoggerMessage(EventId = 6002, EventName = "ManageDbMigrated", Level = LogLevel.Information,
            Message = "Applied {Count} migration(s) to the manage database")]
        public static partial void Migrated(ILogger logger, int count);

        [LoggerMessage(EventId = 6003, EventName = "ManageDbUpToDate", Level = LogLevel.Information,
            Message = "The manage database schema is up to date")]
        public static partial void UpToDate(ILogger logger);
    }
}

/// <summary>Readiness: the database answers.</summary>
internal sealed class ManageDbHealthCheck(IServiceProvider services) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ManageDbContext>();
        return await db.Database.CanConnectAsync(cancellationToken).ConfigureAwait(false)
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Unhealthy("the manage database does not answer");
    }
}
