using Microsoft.EntityFrameworkCore;
using Monitor.WarningService.Data;

namespace Monitor.WarningService.Api;

/// <summary>Alert queries, acknowledgement and silences, shared by the HTTP and gRPC APIs.</summary>
internal sealed class AlertService(IDbContextFactory<WarningDbContext> dbFactory, TimeProvider timeProvider)
{
    public async Task<List<AlertEntity>> ListAsync(string? state, long? ruleId, string? hostId, int limit, long beforeId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var q = db.Alerts.AsNoTracking().Where(a => a.Id < beforeId);
        if (!string.IsNullOrEmpty(state))
        {
            q = q.Where(a => a.State == state);
        }
        if (ruleId is > 0)
        {
            q = q.Where(a => a.RuleId == ruleId);
        }
        if (!string.IsNullOrEmpty(hostId))
        {
            q = q.Where(a => a.HostId == hostId);
        }
        return await q.OrderByDescending(a => a.Id).Take(Math.Clamp(limit, 1, 1000)).ToListAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<List<AlertStateEntity>> StatesAsync(long? ruleId, string? hostId, string? phase, int limit, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var q = db.AlertStates.AsNoTracking();
        if (ruleId is > 0)
        {
            q = q.Where(s => s.RuleId == ruleId);
        }
        if (!string.IsNullOrEmpty(hostId))
        {
            q = q.Where(s => s.HostId == hostId);
        }
        if (!string.IsNullOrEmpty(phase))
        {
            q = q.Where(s => s.Phase == phase);
        }
        return await q.OrderBy(s => s.RuleId).ThenBy(s => s.HostId).Take(Math.Clamp(limit, 1, 10_000)).ToListAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<AlertEntity?> GetAsync(long id, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        return await db.Alerts.AsNoTracking().FirstOrDefaultAsync(a => a.Id == id, cancellationToken).ConfigureAwait(false);
    }

    public async Task<(List<NotificationEntity> Notifications, List<PushLogEntity> Pushes)> DeliveriesAsync(long alertId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var notifications = await db.Notifications.AsNoTracking().Where(n => n.AlertId == alertId).OrderBy(n => n.Id).ToListAsync(cancellationToken).ConfigureAwait(false);
        var pushes = await db.PushLog.AsNoTracking().Where(p => p.AlertId == alertId).OrderBy(p => p.Id).ToListAsync(cancellationToken).ConfigureAwait(false);
        return (notifications, pushes);
    }

    public async Task<List<PushLogEntity>> PushLogAsync(long? alertId, string? channel, int limit, long beforeId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var q = db.PushLog.AsNoTracking().Where(p => p.Id < beforeId);
        if (alertId is > 0)
        {
            q = q.Where(p => p.AlertId == alertId);
        }
        if (!string.IsNullOrEmpty(channel))
        {
            q = q.Where(p => p.Channel == channel);
        }
        return await q.OrderByDescending(p => p.Id).Take(Math.Clamp(limit, 1, 1000)).ToListAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Acknowledges; an acknowledged alert stops repeating. Null when the alert does not exist.</summary>
    public async Task<AlertEntity?> AcknowledgeAsync(long id, string by, CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        await db.Alerts.Where(a => a.Id == id && a.AcknowledgedAtMs == null)
            .ExecuteUpdateAsync(u => u.SetProperty(a => a.AcknowledgedAtMs, now).SetProperty(a => a.AcknowledgedBy, by), cancellationToken).ConfigureAwait(false);
        return await db.Alerts.AsNoTracking().FirstOrDefaultAsync(a => a.Id == id, cancellationToken).ConfigureAwait(false);
    }

    public async Task<List<SilenceEntity>> SilencesAsync(bool activeOnly, CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var q = db.Silences.AsNoTracking();
        if (activeOnly)
        {
            q = q.Where(s => s.EndsAtMs > now);
        }
        return await q.OrderByDescending(s => s.Id).Take(1000).ToListAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Validates and stores a silence; returns field errors or the stored row.</summary>
    public async Task<(SilenceEntity? Silence, Dictionary<string, string[]> Errors)> CreateSilenceAsync(SilenceRequest? request, string actor, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (request is null)
        {
            errors["body"] = ["a silence is required"];
            return (null, errors);
        }
        var now = timeProvider.GetUtcNow();
        var starts = request.StartsAt ?? now;
        if (request.RuleId is not > 0 && string.IsNullOrWhiteSpace(request.HostId) && string.IsNullOrWhiteSpace(request.Location))
        {
            errors["ruleId"] = ["a silence needs at least one of ruleId, hostId, location"];
        }
        if (request.EndsAt is not { } ends || ends <= starts)
        {
            errors["endsAt"] = ["endsAt is required and must be after startsAt"];
        }
        if ((request.HostId?.Length ?? 0) > 128 || (request.Location?.Length ?? 0) > 128 || (request.Comment?.Length ?? 0) > 1024)
        {
            errors["comment"] = ["hostId and location are at most 128 characters, comment 1024"];
        }
        if (errors.Count > 0)
        {
            return (null, errors);
        }
        var row = new SilenceEntity
        {
            RuleId = request.RuleId is > 0 ? request.RuleId : null,
            HostId = string.IsNullOrWhiteSpace(request.HostId) ? null : request.HostId,
            Location = string.IsNullOrWhiteSpace(request.Location) ? null : request.Location,
            StartsAtMs = starts.ToUnixTimeMilliseconds(),
            EndsAtMs = request.EndsAt!.Value.ToUnixTimeMilliseconds(),
            Comment = request.Comment ?? "",
            CreatedAtMs = now.ToUnixTimeMilliseconds(),
        };
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        // The audit row names the silence's id, known after the insert: one transaction keeps both.
        await using var tx = await db.Database.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        db.Silences.Add(row);
        await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
        db.Audit.Add(AuditLog.Entry(now, actor, "create", AuditLog.Silence, row.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), null, AuditLog.View(row)));
        await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        return (row, errors);
    }

    public async Task<bool> DeleteSilenceAsync(long id, string actor, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var row = await db.Silences.FirstOrDefaultAsync(s => s.Id == id, cancellationToken).ConfigureAwait(false);
        if (row is null)
        {
            return false;
        }
        db.Silences.Remove(row);
        db.Audit.Add(AuditLog.Entry(timeProvider.GetUtcNow(), actor, "delete", AuditLog.Silence, id.ToString(System.Globalization.CultureInfo.InvariantCulture), AuditLog.View(row), null));
        try
        {
            await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (DbUpdateConcurrencyException)
        {
            // Deleted by another request in between: that one is audited.
            return false;
        }
        return true;
    }
}
