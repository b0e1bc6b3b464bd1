using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore;

namespace Monitor.WarningService.Data;

/// <summary>
/// Audit rows of rules, channels and silences (table <c>audit</c>). The caller adds the row to the context that makes
/// the change and saves both in one transaction, so there is never a change without its row or a row without its change.
/// </summary>
internal static class AuditLog
{
    public const string Rule = "rule";
    public const string Channel = "channel";
    public const string Silence = "silence";
    public const string Mask = "***";
    private const int ActorMaxLength = 128;

    /// <summary>A row with before/after views (registered in <see cref="AuditJsonContext"/>); null = created / deleted.</summary>
    public static AuditEntity Entry(DateTimeOffset at, string actor, string action, string entityType, string entityId, object? before, object? after) =>
        EntryJson(at, actor, action, entityType, entityId, Serialize(before), Serialize(after));

    /// <summary>A row whose before/after are JSON already (rule specs).</summary>
    public static AuditEntity EntryJson(DateTimeOffset at, string actor, string action, string entityType, string entityId, string? before, string? after) => new()
    {
        At = at.UtcDateTime,
        Actor = actor.Length <= ActorMaxLength ? actor : actor[..ActorMaxLength],
        Action = action,
        EntityType = entityType,
        EntityId = entityId,
        Before = before,
        After = after,
    };

    public static string? Serialize(object? view) =>
        view is null ? null : JsonSerializer.Serialize(view, view.GetType(), AuditJsonContext.Default);

    /// <summary>Newest first, optionally of one entity type / id.</summary>
    public static Task<List<AuditEntity>> QueryAsync(WarningDbContext db, string? entityType, string? entityId, int limit, CancellationToken cancellationToken)
    {
        var query = db.Audit.AsNoTracking();
        if (!string.IsNullOrEmpty(entityType))
        {
            query = query.Where(a => a.EntityType == entityType);
        }
        if (!string.IsNullOrEmpty(entityId))
        {
            query = query.Where(a => a.EntityId == entityId);
        }
        return query.OrderByDescending(a => a.Id).Take(limit).ToListAsync(cancellationToken);
    }

    /// <summary>A channel without its secrets: the URL only as <c>scheme://host[:port]/***</c>, signing secret and SMTP password as <c>***</c> when set.</summary>
    public static ChannelAuditView View(ChannelEntity c) => new(
        c.Name, c.Type, c.Enabled, MaskUrl(c.Url), string.IsNullOrEmpty(c.Secret) ? null : Mask,
        c.SmtpHost, c.SmtpPort, c.SmtpUser, string.IsNullOrEmpty(c.SmtpPassword) ? null : Mask, c.SmtpUseTls, c.EmailFrom, c.EmailTo, c.Template,
        SecretsChanged: null);

    public static SilenceAuditView View(SilenceEntity s) => new(
        s.Id, s.RuleId, s.HostId, s.Location,
        DateTimeOffset.FromUnixTimeMilliseconds(s.StartsAtMs), DateTimeOffset.FromUnixTimeMilliseconds(s.EndsAtMs), s.Comment);

    /// <summary>Webhook URLs carry their credential in the path or query (WeCom key, DingTalk access_token): keep only the origin.</summary>
    public static string? MaskUrl(string? url)
    {
        if (string.IsNullOrEmpty(url))
        {
            return null;
        }
        return Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? $"{uri.Scheme}://{uri.Host}{(uri.IsDefaultPort ? "" : ":" + uri.Port.ToString(System.Globalization.CultureInfo.InvariantCulture))}/{Mask}"
            : Mask;
    }
}

/// <summary>What the audit log records of a channel (secrets masked; <c>secretsChanged</c>: the URL, secret or SMTP password was replaced).</summary>
internal sealed record ChannelAuditView(string Name, string Type, bool Enabled, string? Url, string? Secret, string? SmtpHost, int SmtpPort,
    string? SmtpUser, string? SmtpPassword, bool SmtpUseTls, string? EmailFrom, string? EmailTo, string? Template,
    bool? SecretsChanged);

/// <summary>What the audit log records of a silence.</summary>
internal sealed record SilenceAuditView(long Id, long? RuleId, string? HostId, string? Location, DateTimeOffset StartsAt, DateTimeOffset EndsAt, string Comment);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ChannelAuditView))]
[JsonSerializable(typeof(SilenceAuditView))]
internal sealed partial class AuditJsonContext : JsonSerializerContext;
