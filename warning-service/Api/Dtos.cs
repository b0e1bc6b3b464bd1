using System.Globalization;
using System.Text.Json;
using Monitor.WarningService.Data;
using Monitor.WarningService.Rules;

namespace Monitor.WarningService.Api;

internal sealed record RuleDto(long Id, int Version, DateTimeOffset UpdatedAt, RuleSpec Spec)
{
    public static RuleDto From(StoredRule r) => new(r.Id, r.Version, DateTimeOffset.FromUnixTimeMilliseconds(r.UpdatedAtMs), r.Spec);
}

/// <summary>A channel as sent by a client; secrets are write-only.</summary>
internal sealed class ChannelRequest
{
    public string Name { get; set; } = "";
    public string Type { get; set; } = "";
    public string? Url { get; set; }
    public string? Secret { get; set; }
    public string? SmtpHost { get; set; }
    public int SmtpPort { get; set; }
    public string? SmtpUser { get; set; }
    public string? SmtpPassword { get; set; }
    public bool SmtpUseTls { get; set; }
    public string? EmailFrom { get; set; }
    public List<string> EmailTo { get; set; } = [];
    public string? Template { get; set; }
    public bool Enabled { get; set; } = true;
}

/// <summary>A channel as returned: never the URL, signing secret or SMTP password, only whether they are set.</summary>
internal sealed record ChannelDto(string Name, string Type, bool Enabled, bool HasUrl, bool HasSecret, string? SmtpHost, int SmtpPort,
    string? SmtpUser, bool HasSmtpPassword, bool SmtpUseTls, string? EmailFrom, string[] EmailTo, string? Template, DateTimeOffset UpdatedAt)
{
    public static ChannelDto From(ChannelEntity c) => new(c.Name, c.Type, c.Enabled, !string.IsNullOrEmpty(c.Url), !string.IsNullOrEmpty(c.Secret),
        c.SmtpHost, c.SmtpPort, c.SmtpUser, !string.IsNullOrEmpty(c.SmtpPassword), c.SmtpUseTls, c.EmailFrom,
        (c.EmailTo ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), c.Template,
        DateTimeOffset.FromUnixTimeMilliseconds(c.UpdatedAtMs));
}

internal sealed record AlertDto(long Id, long RuleId, int RuleVersion, string RuleName, string HostId, string Metric, string Comparator,
    string Severity, string State, double Value, double Threshold, double[] BreachingValues, DateTimeOffset WindowStart, DateTimeOffset WindowEnd,
    int ConsecutiveCount, int ConsecutiveNeeded, DateTimeOffset FiredAt, DateTimeOffset? ResolvedAt, double? ResolvedValue,
    DateTimeOffset? AcknowledgedAt, string? AcknowledgedBy, string? Target = null, string[]? FailureMessages = null)
{
    public static AlertDto From(AlertEntity a) => new(a.Id, a.RuleId, a.RuleVersion, a.RuleName, a.HostId, a.Metric, a.Comparator, a.Severity, a.State,
        a.Value, a.Threshold, JsonSerializer.Deserialize<double[]>(a.BreachValuesJson) ?? [], Ms(a.WindowStartMs), Ms(a.WindowEndMs),
        a.ConsecutiveCount, a.ConsecutiveNeeded, Ms(a.FiredAtMs), a.ResolvedAtMs is { } r ? Ms(r) : null, a.ResolvedValue,
        a.AcknowledgedAtMs is { } k ? Ms(k) : null, a.AcknowledgedBy,
        a.Target, a.EvidenceJson is null ? null : JsonSerializer.Deserialize<string[]>(a.EvidenceJson));

    private static DateTimeOffset Ms(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);
}

/// <summary>Persisted state of one (rule, host): the consecutive-breach progress behind a pending alert.</summary>
internal sealed record AlertStateDto(long RuleId, string HostId, int RuleVersion, string Phase, int Count, string? Severity, DateTimeOffset? PendingSince,
    long LastSampleUnixMs, double LastValue, double[] BreachingValues, long? AlertId)
{
    public static AlertStateDto From(AlertStateEntity s) => new(s.RuleId, s.HostId, s.RuleVersion, s.Phase, s.Count, s.Severity,
        s.PendingSinceMs > 0 ? DateTimeOffset.FromUnixTimeMilliseconds(s.PendingSinceMs) : null, s.LastSampleMs, s.LastValue,
        JsonSerializer.Deserialize<double[]>(s.BreachValuesJson) ?? [], s.AlertId);
}

internal sealed record NotificationDto(long Id, long AlertId, string Channel, string Kind, string Status, DateTimeOffset CreatedAt, long? SilenceId)
{
    public static NotificationDto From(NotificationEntity n) =>
        new(n.Id, n.AlertId, n.Channel, n.Kind, n.Status, DateTimeOffset.FromUnixTimeMilliseconds(n.CreatedAtMs), n.SilenceId);
}

internal sealed record PushLogDto(long Id, long NotificationId, long AlertId, string Channel, string ChannelType, string Kind, string PayloadDigest,
    string Status, string Reply, int Attempts, long LatencyMs, string? Error, DateTimeOffset At)
{
    public static PushLogDto From(PushLogEntity p) => new(p.Id, p.NotificationId, p.AlertId, p.Channel, p.ChannelType, p.Kind, p.PayloadDigest,
        p.Status, p.Reply, p.Attempts, p.LatencyMs, p.Error, DateTimeOffset.FromUnixTimeMilliseconds(p.AtMs));
}

internal sealed class SilenceRequest
{
    public long? RuleId { get; set; }
    public string? HostId { get; set; }
    public string? Location { get; set; }
    public DateTimeOffset? StartsAt { get; set; }
    public DateTimeOffset? EndsAt { get; set; }
    public string? Comment { get; set; }
}

internal sealed record SilenceDto(long Id, long? RuleId, string? HostId, string? Location, DateTimeOffset StartsAt, DateTimeOffset EndsAt, string Comment)
{
    public static SilenceDto From(SilenceEntity s) => new(s.Id, s.RuleId, s.HostId, s.Location,
        DateTimeOffset.FromUnixTimeMilliseconds(s.StartsAtMs), DateTimeOffset.FromUnixTimeMilliseconds(s.EndsAtMs), s.Comment);
}

internal sealed class AckRequest
{
    public string? By { get; set; }
}

internal sealed record Page<T>(IReadOnlyList<T> Items, string? NextCursor);

internal static class Cursor
{
    public static long Parse(string? cursor) => long.TryParse(cursor, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : long.MaxValue;
}

/// <summary>An audit row as returned (the same shape as the manage service's <c>/api/v1/manage/audit</c>).</summary>
internal sealed record AuditDto(long Id, DateTime At, string Actor, string Action, string EntityType, string EntityId,
    JsonElement? Before, JsonElement? After)
{
    public static AuditDto From(AuditEntity a) => new(a.Id, a.At, a.Actor, a.Action, a.EntityType, a.EntityId, Parse(a.Before), Parse(a.After));

    private static JsonElement? Parse(string? json) => json is null ? null : JsonDocument.Parse(json).RootElement.Clone();
}
