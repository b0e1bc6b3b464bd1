using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Monitor.WarningService.Options;

namespace Monitor.WarningService.Data;

/// <summary>Applies pending migrations at start-up when <c>Warning:ApplyMigrations</c> is true (creating the database if needed).</summary>
internal sealed partial class MigrationService(IDbContextFactory<WarningDbContext> dbFactory, IOptions<WarningOptions> options, ILogger<MigrationService> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!options.Value.ApplyMigrations)
        {
            return;
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken).ConfigureAwait(false)).ToList();
        if (pending.Count > 0)
        {
            await db.Database.MigrateAsync(cancellationToken).ConfigureAwait(false);
            Log.Migrated(logger, pending.Count, pending);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static partial class Log
    {
        [LoggerMessage(EventId = 7201, EventName = "MigrationsApplied", Level = LogLevel.Information, Message = "Applied {Count} migration(s): {Migrations}")]
        public static partial void Migrated(ILogger logger, int count, List<string> migrations);
    }
}
