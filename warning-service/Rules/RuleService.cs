using Microsoft.EntityFrameworkCore;
using Monitor.WarningService.Data;
using Monitor.WarningService.Evaluation;
using Monitor.WarningService.Notifications;
using MySqlConnector;

namespace Monitor.WarningService.Rules;

/// <summary>A stored rule at one version.</summary>
internal sealed record StoredRule(long Id, int Version, RuleSpec Spec, long UpdatedAtMs);

/// <summary>Outcome of a rule change: the stored rule, or validation errors (field → messages), or a status.</summary>
internal sealed record RuleChange(StoredRule? Rule, Dictionary<string, string[]>? Errors = null, bool NotFound = false, bool Conflict = false);

/// <summary>
/// Creates, changes and deletes rules; every change writes a new immutable version row in the same transaction.
/// Deleting or disabling a rule ends its firing alerts in that transaction (resolved without a recovery value, with a
/// resolve notice) and drops its (rule, host) states, so nothing stays firing for a rule that no longer evaluates.
/// </summary>
internal sealed class RuleService(
    IDbContextFactory<WarningDbContext> dbFactory,
    RuleValidator validator,
    RuleCatalog catalog,
    NotificationPlanner planner,
    NotificationSignal signal,
    TimeProvider timeProvider)
{
    public async Task<List<StoredRule>> ListAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var rows = await db.Rules.AsNoTracking().Where(r => !r.Deleted).OrderBy(r => r.Id).ToListAsync(cancellationToken).ConfigureAwait(false);
        return rows.Select(ToStored).ToList();
    }

    public async Task<StoredRule?> GetAsync(long id, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var row = await db.Rules.AsNoTracking().FirstOrDefaultAsync(r => r.Id == id && !r.Deleted, cancellationToken).ConfigureAwait(false);
        return row is null ? null : ToStored(row);
    }

    public async Task<StoredRule?> FindByNameAsync(string name, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var row = await db.Rules.AsNoTracking().FirstOrDefaultAsync(r => r.Name == name && !r.Deleted, cancellationToken).ConfigureAwait(false);
        return row is null ? null : ToStored(row);
    }

    public async Task<List<StoredRule>> VersionsAsync(long id, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var rows = await db.RuleVersions.AsNoTracking().Where(v => v.RuleId == id).OrderBy(v => v.Version).ToListAsync(cancellationToken).ConfigureAwait(false);
        return rows.Select(v => new StoredRule(v.RuleId, v.Version, RuleSpec.FromJson(v.SpecJson), v.CreatedAtMs)).ToList();
    }

    public Task<RuleChange> CreateAsync(RuleSpec? spec, string changedBy, CancellationToken cancellationToken) =>
        RetryOnDeadlockAsync(() => CreateOnceAsync(spec, changedBy, cancellationToken));

    public Task<RuleChange> UpdateAsync(long id, RuleSpec? spec, string changedBy, CancellationToken cancellationToken) =>
        RetryOnDeadlockAsync(() => UpdateOnceAsync(id, spec, changedBy, cancellationToken));

    public Task<bool> DeleteAsync(long id, string changedBy, CancellationToken cancellationToken) =>
        RetryOnDeadlockAsync(() => DeleteOnceAsync(id, changedBy, cancellationToken));

    /// <summary>
    /// InnoDB picks a victim when two rule transactions lock the same index ranges in different orders (for example an
    /// API change while the built-in rules are seeded at start-up). The victim's transaction was rolled back whole, so
    /// running it again is safe; after three attempts the error surfaces.
    /// </summary>
    private static async Task<T> RetryOnDeadlockAsync<T>(Func<Task<T>> operation)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await operation().ConfigureAwait(false);
            }
            catch (Exception ex) when (attempt < 3 && IsDeadlock(ex))
            {
                await Task.Delay(TimeSpan.FromMilliseconds(20 * attempt)).ConfigureAwait(false);
            }
        }
    }

    private static bool IsDeadlock(Exception? ex)
    {
        for (; ex is not null; ex = ex.InnerException)
        {
            if (ex is MySqlException { ErrorCode: MySqlErrorCode.LockDeadlock or MySqlErrorCode.LockWaitTimeout })
            {
                return true;
            }
        }
        return false;
    }

    private async Task<RuleChange> CreateOnceAsync(RuleSpec? spec, string changedBy, CancellationToken cancellationToken)
    {
        var errors = await ValidateAsync(spec, cancellationToken).ConfigureAwait(false);
        if (errors.Count > 0)
        {
            return new RuleChange(null, errors);
        }
        var now = timeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = await db.Database.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var json = spec!.ToJson();
        // A deleted rule's name may be reused: the old row keeps its id for the alerts that reference it.
        await db.Rules.Where(r => r.Name == spec.Name && r.Deleted)
            .ExecuteUpdateAsync(u => u.SetProperty(r => r.Name, r => r.Name + "#deleted-" + r.Id), cancellationToken).ConfigureAwait(false);
        var row = new RuleEntity { Name = spec.Name, CurrentVersion = 1, SpecJson = json, UpdatedAtMs = now };
        db.Rules.Add(row);
        try
        {
            await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (DbUpdateException ex) when (ex.InnerException is MySqlException { ErrorCode: MySqlErrorCode.DuplicateKeyEntry })
        {
            return new RuleChange(null, Conflict: true);
        }
        db.RuleVersions.Add(new RuleVersionEntity { RuleId = row.Id, Version = 1, SpecJson = json, CreatedAtMs = now, ChangedBy = changedBy });
        db.Audit.Add(AuditLog.EntryJson(DateTimeOffset.FromUnixTimeMilliseconds(now), changedBy, "create", AuditLog.Rule, AuditId(row.Id), null, json));
        await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        await catalog.ReloadAsync(cancellationToken).ConfigureAwait(false);
        return new RuleChange(ToStored(row));
    }

    private async Task<RuleChange> UpdateOnceAsync(long id, RuleSpec? spec, string changedBy, CancellationToken cancellationToken)
    {
        var errors = await ValidateAsync(spec, cancellationToken).ConfigureAwait(false);
        if (errors.Count > 0)
        {
            return new RuleChange(null, errors);
        }
        var now = timeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = await db.Database.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var row = await db.Rules.FromSql($"SELECT * FROM rules WHERE Id = {id} FOR UPDATE").FirstOrDefaultAsync(cancellationToken).ConfigureAwait(false);
        if (row is null || row.Deleted)
        {
            return new RuleChange(null, NotFound: true);
        }
        var json = spec!.ToJson();
        var ended = spec.Enabled ? 0 : await EndAlertsAsync(db, row.Id, now, cancellationToken).ConfigureAwait(false);
        db.Audit.Add(AuditLog.EntryJson(DateTimeOffset.FromUnixTimeMilliseconds(now), changedBy, AuditAction(row.SpecJson, spec), AuditLog.Rule, AuditId(row.Id), row.SpecJson, json));
        row.Name = spec.Name;
        row.CurrentVersion++;
        row.SpecJson = json;
        row.UpdatedAtMs = now;
        db.RuleVersions.Add(new RuleVersionEntity { RuleId = row.Id, Version = row.CurrentVersion, SpecJson = json, CreatedAtMs = now, ChangedBy = changedBy });
        try
        {
            await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (DbUpdateException ex) when (ex.InnerException is MySqlException { ErrorCode: MySqlErrorCode.DuplicateKeyEntry })
        {
            return new RuleChange(null, Conflict: true);
        }
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        await catalog.ReloadAsync(cancellationToken).ConfigureAwait(false);
        if (ended > 0)
        {
            signal.Pulse();
        }
        return new RuleChange(ToStored(row));
    }

    private async Task<bool> DeleteOnceAsync(long id, string changedBy, CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = await db.Database.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var row = await db.Rules.FromSql($"SELECT * FROM rules WHERE Id = {id} FOR UPDATE").FirstOrDefaultAsync(cancellationToken).ConfigureAwait(false);
        if (row is null || row.Deleted)
        {
            return false;
        }
        row.Deleted = true;
        row.CurrentVersion++;
        row.UpdatedAtMs = now;
        db.RuleVersions.Add(new RuleVersionEntity { RuleId = row.Id, Version = row.CurrentVersion, SpecJson = row.SpecJson, Deleted = true, CreatedAtMs = now, ChangedBy = changedBy });
        db.Audit.Add(AuditLog.EntryJson(DateTimeOffset.FromUnixTimeMilliseconds(now), changedBy, "delete", AuditLog.Rule, AuditId(row.Id), row.SpecJson, null));
        await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
        var ended = await EndAlertsAsync(db, row.Id, now, cancellationToken).ConfigureAwait(false);
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        await catalog.ReloadAsync(cancellationToken).ConfigureAwait(false);
        if (ended > 0)
        {
            signal.Pulse();
        }
        return true;
    }

    /// <summary>Resolves the rule's firing alerts (queueing resolve notices) and removes its states; non-zero when something was ended.</summary>
    private async Task<int> EndAlertsAsync(WarningDbContext db, long ruleId, long nowMs, CancellationToken cancellationToken)
    {
        var (ended, queued) = await AlertStore.EndFiringAsync(db, planner, a => a.RuleId == ruleId, nowMs, cancellationToken).ConfigureAwait(false);
        await db.AlertStates.Where(s => s.RuleId == ruleId).ExecuteDeleteAsync(cancellationToken).ConfigureAwait(false);
        await db.ProbeAlertStates.Where(s => s.RuleId == ruleId).ExecuteDeleteAsync(cancellationToken).ConfigureAwait(false);
        return Math.Max(queued, ended);
    }

    private async Task<Dictionary<string, string[]>> ValidateAsync(RuleSpec? spec, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var channels = await db.Channels.AsNoTracking().Select(c => c.Name).ToListAsync(cancellationToken).ConfigureAwait(false);
        return validator.Validate(spec, channels.ToHashSet(StringComparer.Ordinal));
    }

    private static string AuditId(long id) => id.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary><c>enable</c>/<c>disable</c> when only the enabled flag changes, else <c>update</c>.</summary>
    internal static string AuditAction(string beforeJson, RuleSpec after)
    {
        var before = RuleSpec.FromJson(beforeJson);
        if (before.Enabled == after.Enabled)
        {
            return "update";
        }
        before.Enabled = after.Enabled;
        return before.ToJson() == after.ToJson() ? (after.Enabled ? "enable" : "disable") : "update";
    }

    private static StoredRule ToStored(RuleEntity r) => new(r.Id, r.CurrentVersion, RuleSpec.FromJson(r.SpecJson), r.UpdatedAtMs);
}
