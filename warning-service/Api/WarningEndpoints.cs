using Microsoft.EntityFrameworkCore;
using Monitor.ServiceDefaults.Auth;
using Monitor.WarningService.Data;
using Monitor.WarningService.Rules;

namespace Monitor.WarningService.Api;

/// <summary>The HTTP API under <c>/api/v1/warning</c>: rules (versioned), channels, alerts, silences, push log, audit log (admin).</summary>
internal static class WarningEndpoints
{
    public static IEndpointRouteBuilder MapWarningApi(this IEndpointRouteBuilder app)
    {
        var editor = new RequireRoleAttribute(MonitorRole.Editor);
        var viewer = new RequireRoleAttribute(MonitorRole.Viewer);
        var api = app.MapGroup("/api/v1/warning");

        api.MapGet("/rules", async (RuleService rules, CancellationToken ct) =>
            Results.Ok((await rules.ListAsync(ct).ConfigureAwait(false)).Select(RuleDto.From))).WithMetadata(viewer);
        api.MapGet("/rules/{id:long}", async (long id, RuleService rules, CancellationToken ct) =>
            await rules.GetAsync(id, ct).ConfigureAwait(false) is { } r ? Results.Ok(RuleDto.From(r)) : RuleNotFound(id)).WithMetadata(viewer);
        api.MapGet("/rules/{id:long}/versions", async (long id, RuleService rules, CancellationToken ct) =>
        {
            var versions = await rules.VersionsAsync(id, ct).ConfigureAwait(false);
            return versions.Count == 0 ? RuleNotFound(id) : Results.Ok(versions.Select(RuleDto.From));
        }).WithMetadata(viewer);
        api.MapPost("/rules", async (RuleSpec? spec, RuleService rules, HttpContext http, CancellationToken ct) =>
            ToResult(await rules.CreateAsync(spec, Caller(http), ct).ConfigureAwait(false), created: true)).WithMetadata(editor);
        api.MapPut("/rules/{id:long}", async (long id, RuleSpec? spec, RuleService rules, HttpContext http, CancellationToken ct) =>
            ToResult(await rules.UpdateAsync(id, spec, Caller(http), ct).ConfigureAwait(false), created: false, id)).WithMetadata(editor);
        api.MapDelete("/rules/{id:long}", async (long id, RuleService rules, HttpContext http, CancellationToken ct) =>
            await rules.DeleteAsync(id, Caller(http), ct).ConfigureAwait(false) ? Results.NoContent() : RuleNotFound(id)).WithMetadata(editor);

        api.MapGet("/channels", async (ChannelService channels, CancellationToken ct) =>
            Results.Ok((await channels.ListAsync(ct).ConfigureAwait(false)).Select(ChannelDto.From))).WithMetadata(viewer);
        api.MapPost("/channels", async (ChannelRequest? request, ChannelService channels, HttpContext http, CancellationToken ct) =>
        {
            var (row, errors, created) = await channels.UpsertAsync(null, request, Caller(http), ct).ConfigureAwait(false);
            return row is null ? Results.ValidationProblem(errors) : created ? Results.Created($"/api/v1/warning/channels/{row.Name}", ChannelDto.From(row)) : Results.Ok(ChannelDto.From(row));
        }).WithMetadata(editor);
        api.MapPut("/channels/{name}", async (string name, ChannelRequest? request, ChannelService channels, HttpContext http, CancellationToken ct) =>
        {
            var (row, errors, _) = await channels.UpsertAsync(name, request, Caller(http), ct).ConfigureAwait(false);
            return row is null ? Results.ValidationProblem(errors) : Results.Ok(ChannelDto.From(row));
        }).WithMetadata(editor);
        api.MapDelete("/channels/{name}", async (string name, ChannelService channels, HttpContext http, CancellationToken ct) =>
            await channels.DeleteAsync(name, Caller(http), ct).ConfigureAwait(false) ? Results.NoContent() : Results.Problem($"channel '{name}' not found", statusCode: 404)).WithMetadata(editor);

        api.MapGet("/alerts", async (string? state, long? ruleId, string? hostId, int? limit, string? cursor, AlertService alerts, CancellationToken ct) =>
        {
            var take = Math.Clamp(limit ?? 100, 1, 1000);
            var rows = await alerts.ListAsync(state, ruleId, hostId, take, Cursor.Parse(cursor), ct).ConfigureAwait(false);
            return Results.Ok(new Page<AlertDto>(rows.Select(AlertDto.From).ToList(), rows.Count == take ? rows[^1].Id.ToString(System.Globalization.CultureInfo.InvariantCulture) : null));
        }).WithMetadata(viewer);
        api.MapGet("/alerts/{id:long}", async (long id, AlertService alerts, CancellationToken ct) =>
        {
            if (await alerts.GetAsync(id, ct).ConfigureAwait(false) is not { } alert)
            {
                return Results.Problem($"alert {id} not found", statusCode: 404);
            }
            var (notifications, pushes) = await alerts.DeliveriesAsync(id, ct).ConfigureAwait(false);
            return Results.Ok(new { alert = AlertDto.From(alert), notifications = notifications.Select(NotificationDto.From), pushLog = pushes.Select(PushLogDto.From) });
        }).WithMetadata(viewer);
        api.MapPost("/alerts/{id:long}/ack", async (long id, AckRequest? request, AlertService alerts, HttpContext http, CancellationToken ct) =>
            await alerts.AcknowledgeAsync(id, string.IsNullOrWhiteSpace(request?.By) ? Caller(http) : request.By[..Math.Min(128, request.By.Length)], ct).ConfigureAwait(false) is { } a
                ? Results.Ok(AlertDto.From(a)) : Results.Problem($"alert {id} not found", statusCode: 404)).WithMetadata(editor);

        api.MapGet("/states", async (long? ruleId, string? hostId, string? phase, int? limit, AlertService alerts, CancellationToken ct) =>
            Results.Ok((await alerts.StatesAsync(ruleId, hostId, phase, limit ?? 1000, ct).ConfigureAwait(false)).Select(AlertStateDto.From))).WithMetadata(viewer);
        api.MapGet("/silences", async (bool? active, AlertService alerts, CancellationToken ct) =>
            Results.Ok((await alerts.SilencesAsync(active ?? true, ct).ConfigureAwait(false)).Select(SilenceDto.From))).WithMetadata(viewer);
        api.MapPost("/silences", async (SilenceRequest? request, AlertService alerts, HttpContext http, CancellationToken ct) =>
        {
            var (row, errors) = await alerts.CreateSilenceAsync(request, Caller(http), ct).ConfigureAwait(false);
            return row is null ? Results.ValidationProblem(errors) : Results.Created($"/api/v1/warning/silences/{row.Id}", SilenceDto.From(row));
        }).WithMetadata(editor);
        api.MapPost("/silences/preview", async (SilenceRequest? request, AlertService alerts, CancellationToken ct) =>
        {
            var (matches, errors) = await alerts.PreviewSilenceAsync(request, ct).ConfigureAwait(false);
            return matches is null ? Results.ValidationProblem(errors) : Results.Ok(matches.Select(AlertDto.From).ToList());
        }).WithMetadata(viewer);
        api.MapDelete("/silences/{id:long}", async (long id, AlertService alerts, HttpContext http, CancellationToken ct) =>
            await alerts.DeleteSilenceAsync(id, Caller(http), ct).ConfigureAwait(false) ? Results.NoContent() : Results.Problem($"silence {id} not found", statusCode: 404)).WithMetadata(editor);

        api.MapGet("/push-log", async (long? alertId, string? channel, int? limit, string? cursor, AlertService alerts, CancellationToken ct) =>
        {
            var take = Math.Clamp(limit ?? 100, 1, 1000);
            var rows = await alerts.PushLogAsync(alertId, channel, take, Cursor.Parse(cursor), ct).ConfigureAwait(false);
            return Results.Ok(new Page<PushLogDto>(rows.Select(PushLogDto.From).ToList(), rows.Count == take ? rows[^1].Id.ToString(System.Globalization.CultureInfo.InvariantCulture) : null));
        }).WithMetadata(viewer);

        api.MapGet("/audit", async (string? entityType, string? entityId, int? limit, IDbContextFactory<WarningDbContext> dbFactory, CancellationToken ct) =>
        {
            await using var db = await dbFactory.CreateDbContextAsync(ct).ConfigureAwait(false);
            var rows = await AuditLog.QueryAsync(db, entityType, entityId, Math.Clamp(limit ?? 100, 1, 1000), ct).ConfigureAwait(false);
            return Results.Ok(rows.Select(AuditDto.From).ToList());
        }).WithMetadata(new RequireRoleAttribute(MonitorRole.Admin));
        return app;
    }

    private static IResult ToResult(RuleChange change, bool created, long id = 0)
    {
        if (change.Errors is { Count: > 0 } errors)
        {
            return Results.ValidationProblem(errors, title: "The rule is invalid");
        }
        if (change.NotFound)
        {
            return RuleNotFound(id);
        }
        if (change.Conflict)
        {
            return Results.ValidationProblem(new Dictionary<string, string[]> { ["name"] = ["a rule with this name already exists"] }, statusCode: 409, title: "Duplicate rule name");
        }
        var dto = RuleDto.From(change.Rule!);
        return created ? Results.Created($"/api/v1/warning/rules/{dto.Id}", dto) : Results.Ok(dto);
    }

    private static IResult RuleNotFound(long id) => Results.Problem($"rule {id} not found", statusCode: 404, title: "Not found");

    internal static string Caller(HttpContext http) => http.User.Identity?.Name is { Length: > 0 } name ? name : "anonymous";
}
