using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using Monitor.ServiceDefaults.Auth;

namespace Monitor.ManageService.Access;

/// <summary>
/// Builds audit rows (table <c>access_audit</c>) for any of the manage service's contexts. The caller adds the row to
/// the same context as the change and saves both with one <c>SaveChanges</c>, so a change and its audit row are
/// committed or rolled back together.
/// </summary>
internal sealed class AuditTrail(IHttpContextAccessor httpContextAccessor, TimeProvider timeProvider)
{
    /// <summary>The actor when no authenticated request is in progress (start-up work, commands).</summary>
    public const string SystemActor = "system";

    /// <summary>The authenticated caller of the current HTTP or gRPC request (see docs/access.md), at most 64 characters.</summary>
    public string Actor => Fit(httpContextAccessor.HttpContext is { } http ? MonitorPrincipal.Of(http)?.Name ?? "anonymous" : SystemActor);

    /// <summary>A row for <paramref name="before"/> → <paramref name="after"/> (null: created / deleted), by <see cref="Actor"/>.</summary>
    public AuditEntity Entry(string action, string entityType, string entityId, object? before, object? after) =>
        Entry(Actor, action, entityType, entityId, before, after);

    /// <summary>A row by an explicit <paramref name="actor"/>; the views must be registered in <see cref="AuditJsonContext"/>.</summary>
    public AuditEntity Entry(string actor, string action, string entityType, string entityId, object? before, object? after) => new()
    {
        At = timeProvider.GetUtcNow().UtcDateTime,
        Actor = Fit(actor),
        Action = action,
        EntityType = entityType,
        EntityId = entityId,
        Before = Serialize(before),
        After = Serialize(after),
    };

    /// <summary>The JSON an audit row stores for <paramref name="view"/>.</summary>
    public static string? Serialize(object? view) =>
        view is null ? null : JsonSerializer.Serialize(view, view.GetType(), AuditJsonContext.Default);

    private static string Fit(string actor) => actor.Length <= AccessDbContext.NameMaxLength ? actor : actor[..AccessDbContext.NameMaxLength];
}

/// <summary>The mapping of <see cref="AuditEntity"/>, shared by every context that writes audit rows.</summary>
internal static class AuditModel
{
    public const string Table = "access_audit";

    /// <summary>
    /// Maps the audit table. <see cref="AccessDbContext"/> owns it (its migrations create it); the other contexts map
    /// it with <paramref name="excludeFromMigrations"/> so they can write audit rows in their own transaction without
    /// a second copy of the table in their migrations.
    /// </summary>
    public static void Map(ModelBuilder modelBuilder, bool excludeFromMigrations)
    {
        var utc = new ValueConverter<DateTime, DateTime>(v => v, v => DateTime.SpecifyKind(v, DateTimeKind.Utc));
        modelBuilder.Entity<AuditEntity>(b =>
        {
            if (excludeFromMigrations)
            {
                b.ToTable(Table, t => t.ExcludeFromMigrations());
            }
            else
            {
                b.ToTable(Table);
            }
            b.HasKey(a => a.Id);
            b.Property(a => a.Id).HasColumnName("id");
            b.Property(a => a.At).HasColumnName("at").HasColumnType("datetime(6)").HasConversion(utc);
            b.Property(a => a.Actor).HasColumnName("actor").HasMaxLength(AccessDbContext.NameMaxLength).IsRequired();
            b.Property(a => a.Action).HasColumnName("action").HasMaxLength(32).IsRequired();
            b.Property(a => a.EntityType).HasColumnName("entity_type").HasMaxLength(32).IsRequired();
            b.Property(a => a.EntityId).HasColumnName("entity_id").HasMaxLength(256).IsRequired();
            b.Property(a => a.Before).HasColumnName("before_json").HasColumnType("text");
            b.Property(a => a.After).HasColumnName("after_json").HasColumnType("text");
            b.HasIndex(a => a.At).HasDatabaseName("ix_access_audit_at");
        });
    }
}

/// <summary>What the audit log records of a user (never the password or its hash).</summary>
internal sealed record UserAuditView(string Name, string Role, bool Enabled, bool? PasswordChanged);

/// <summary>What the audit log records of a token (never the secret or its hash).</summary>
internal sealed record TokenAuditView(long Id, string Name, string Kind, string Role, string? HostId, string Prefix, DateTime? ExpiresAt, DateTime? RevokedAt);

/// <summary>What the audit log records of a host.</summary>
internal sealed record HostAuditView(string HostId, string Location, string Description, IReadOnlyDictionary<string, string> Labels);

/// <summary>What the audit log records of a probe target: the config with every secret replaced by <c>***</c>.</summary>
internal sealed record ProbeTargetAuditView(
    string Name, string Type, JsonObject Config, long IntervalMs, long TimeoutMs, bool Enabled,
    string AssignmentMode, IReadOnlyList<string> AssignmentHostIds, string AssignmentLocation, IReadOnlyList<string> Channels, long Version,
    bool? SecretsChanged);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(UserAuditView))]
[JsonSerializable(typeof(TokenAuditView))]
[JsonSerializable(typeof(HostAuditView))]
[JsonSerializable(typeof(ProbeTargetAuditView))]
internal sealed partial class AuditJsonContext : JsonSerializerContext;
