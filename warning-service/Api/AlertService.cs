using Microsoft.EntityFrameworkCore;
using Monitor.WarningService.Data;
using Monitor.WarningService.Evaluation;
using Monitor.WarningService.Notifications;

namespace Monitor.WarningService.Api;

/// <summary>Alert queries, acknowledgement and silences, shared by the HTTP and gRPC APIs.</summary>
internal sealed class AlertService(IDbContextFactory<WarningDbContext> dbFactory, NotificationPlanner planner, TimeProvider timeProvider)
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
        if (!HasScope(request))
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
        var row = Scope(request);
        row.StartsAtMs = starts.ToUnixTimeMilliseconds();
        row.EndsAtMs = request.EndsAt!.Value.ToUnixTimeMilliseconds();
        row.Comment = request.Comment ?? "";
        row.CreatedAtMs = now.ToUnixTimeMilliseconds();
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

    /// <summary>At most this many matching alerts are returned by <see cref="PreviewSilenceAsync"/>, newest first.</summary>
    internal const int MaxPreviewMatches = 1000;

    /// <summary>
    /// The firing alerts a silence draft would match now, decided by <see cref="NotificationPlanner.Matching"/> (the rule
    /// that silences notifications, location-scoped drafts included), or the draft's field errors. Nothing is stored;
    /// unlike <see cref="CreateSilenceAsync"/>, <c>endsAt</c> may be left out of a draft.
    /// </summary>
    public async Task<(List<AlertEntity>? Matches, Dictionary<string, string[]> Errors)> PreviewSilenceAsync(SilenceRequest? request, CancellationToken cancellationToken)
    {
        var errors = ValidateDraft(request);
        if (errors.Count > 0)
        {
            return (null, errors);
        }
        var draft = Scope(request!);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var q = db.Alerts.AsNoTracking().Where(a => a.State == Phases.Firing);
        // Rule and host narrow the scan in SQL; the planner still decides, so the answer cannot drift from delivery.
        if (draft.RuleId is { } ruleId)
        {
            q = q.Where(a => a.RuleId == ruleId);
        }
        if (draft.HostId is { } hostId)
        {
            q = q.Where(a => a.HostId == hostId);
        }
        var firing = await q.OrderByDescending(a => a.Id).ToListAsync(cancellationToken).ConfigureAwait(false);
        SilenceEntity[] silences = [draft];
        return (firing.Where(a => planner.Matching(silences, a) is not null).Take(MaxPreviewMatches).ToList(), errors);
    }

    /// <summary>The checks of <see cref="CreateSilenceAsync"/> on the fields that shape a match; <c>endsAt</c> may be left out of a draft.</summary>
    private static Dictionary<string, string[]> ValidateDraft(SilenceRequest? request)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (request is null)
        {
            errors["body"] = ["a silence draft is required"];
            return errors;
        }
        if (request.RuleId is < 0)
        {
            errors["ruleId"] = ["ruleId must be a positive rule id"];
        }
        else if (!HasScope(request))
        {
            errors["ruleId"] = ["a silence needs at least one of ruleId, hostId, location"];
        }
        if ((request.HostId?.Length ?? 0) > 128)
        {
            errors["hostId"] = ["hostId is at most 128 characters"];
        }
        if ((request.Location?.Length ?? 0) > 128)
        {
            errors["location"] = ["location is at most 128 characters"];
        }
        if (request.StartsAt is { } starts && request.EndsAt is { } ends && ends <= starts)
        {
            errors["endsAt"] = ["endsAt must be after startsAt"];
        }
        return errors;
    }

    /// <summary>True when the request names at least one of rule, host, location (a silence of everything is refused).</summary>
    private static bool HasScope(SilenceRequest request) =>
        request.RuleId is > 0 || !string.IsNullOrWhiteSpace(request.HostId) || !string.IsNullOrWhiteSpace(request.Location);

    /// <summary>A silence row with the request's filters as matching reads them (an absent field matches anything).</summary>
    private static SilenceEntity Scope(SilenceRequest request) => new()
    {
        RuleId = request.RuleId is > 0 ? request.RuleId : null,
        HostId = string.IsNullOrWhiteSpace(request.HostId) ? null : request.HostId,
        Location = string.IsNullOrWhiteSpace(request.Location) ? null : request.Location,
    };

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
