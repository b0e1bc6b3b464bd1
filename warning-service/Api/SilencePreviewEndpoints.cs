using Microsoft.EntityFrameworkCore;
using Monitor.ServiceDefaults.Auth;
using Monitor.WarningService.Data;
using Monitor.WarningService.Evaluation;
using Monitor.WarningService.Notifications;

namespace Monitor.WarningService.Api;

/// <summary>
/// <c>POST /api/v1/warning/silences/preview</c>: the firing alerts a silence draft would match now. The draft is
/// validated like <c>POST /silences</c> (400 with the field named) but nothing is stored. Matching goes through
/// <see cref="NotificationPlanner.Matching"/>, the rule that decides whether a notification is silenced, so the
/// console's editor shows what the service will actually do (location-scoped drafts included).
/// </summary>
internal static class SilencePreviewEndpoints
{
    /// <summary>At most this many matching alerts are returned, newest first.</summary>
    internal const int MaxMatches = 1000;

    public static IEndpointRouteBuilder MapSilencePreviewApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v1/warning/silences/preview", async (SilenceRequest? request, IDbContextFactory<WarningDbContext> dbFactory,
            NotificationPlanner planner, CancellationToken ct) =>
        {
            var errors = Validate(request);
            if (errors.Count > 0)
            {
                return Results.ValidationProblem(errors);
            }
            var draft = new SilenceEntity
            {
                RuleId = request!.RuleId is > 0 ? request.RuleId : null,
                HostId = string.IsNullOrWhiteSpace(request.HostId) ? null : request.HostId,
                Location = string.IsNullOrWhiteSpace(request.Location) ? null : request.Location,
            };
            await using var db = await dbFactory.CreateDbContextAsync(ct).ConfigureAwait(false);
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
            var firing = await q.OrderByDescending(a => a.Id).ToListAsync(ct).ConfigureAwait(false);
            SilenceEntity[] silences = [draft];
            return Results.Ok(firing.Where(a => planner.Matching(silences, a) is not null).Take(MaxMatches).Select(AlertDto.From).ToList());
        }).WithMetadata(new RequireRoleAttribute(MonitorRole.Viewer));
        return app;
    }

    /// <summary>The checks of <c>POST /silences</c> on the fields that shape a match; <c>endsAt</c> may be left out of a draft.</summary>
    internal static Dictionary<string, string[]> Validate(SilenceRequest? request)
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
        else if (request.RuleId is not > 0 && string.IsNullOrWhiteSpace(request.HostId) && string.IsNullOrWhiteSpace(request.Location))
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
}
