using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using Monitor.ManageService.Data;

namespace Monitor.ManageService.Access;

/// <summary>
/// Users, tokens, sessions and the audit log, in the manage database but with their own migrations history table
/// (<c>__access_migrations</c>) so they evolve independently of <see cref="ManageDbContext"/>.
/// </summary>
public sealed class AccessDbContext(DbContextOptions<AccessDbContext> options) : DbContext(options)
{
    public const string MigrationsHistoryTable = "__access_migrations";
    public const int NameMaxLength = 64;

    public DbSet<UserEntity> Users => Set<UserEntity>();
    public DbSet<TokenEntity> Tokens => Set<TokenEntity>();
    public DbSet<SessionEntity> Sessions => Set<SessionEntity>();
    public DbSet<AuditEntity> Audit => Set<AuditEntity>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        var utc = new ValueConverter<DateTime, DateTime>(v => v, v => DateTime.SpecifyKind(v, DateTimeKind.Utc));
        var utcNullable = new ValueConverter<DateTime?, DateTime?>(v => v, v => v.HasValue ? DateTime.SpecifyKind(v.Value, DateTimeKind.Utc) : v);

        modelBuilder.Entity<UserEntity>(b =>
        {
            b.ToTable("access_users");
            b.HasKey(u => u.Id);
            b.Property(u => u.Id).HasColumnName("id");
            b.Property(u => u.Name).HasColumnName("name").HasMaxLength(NameMaxLength).IsRequired().UseCollation("utf8mb4_bin");
            b.Property(u => u.PasswordHash).HasColumnName("password_hash").HasMaxLength(256).IsRequired();
            b.Property(u => u.Role).HasColumnName("role").HasMaxLength(16).IsRequired();
            b.Property(u => u.Enabled).HasColumnName("enabled");
            b.Property(u => u.CreatedAt).HasColumnName("created_at").HasColumnType("datetime(6)").HasConversion(utc);
            b.Property(u => u.LastLoginAt).HasColumnName("last_login_at").HasColumnType("datetime(6)").HasConversion(utcNullable);
            b.HasIndex(u => u.Name).IsUnique().HasDatabaseName("ux_access_users_name");
        });

        modelBuilder.Entity<TokenEntity>(b =>
        {
            b.ToTable("access_tokens");
            b.HasKey(t => t.Id);
            b.Property(t => t.Id).HasColumnName("id");
            b.Property(t => t.Name).HasColumnName("name").HasMaxLength(NameMaxLength).IsRequired();
            b.Property(t => t.Kind).HasColumnName("kind").HasMaxLength(16).IsRequired();
            b.Property(t => t.Hash).HasColumnName("hash").HasMaxLength(64).IsRequired().IsFixedLength().UseCollation("ascii_bin");
            b.Property(t => t.Prefix).HasColumnName("prefix").HasMaxLength(16).IsRequired();
            b.Property(t => t.Role).HasColumnName("role").HasMaxLength(16).IsRequired();
            b.Property(t => t.HostId).HasColumnName("host_id").HasMaxLength(ManageDbContext.HostIdMaxLength).UseCollation("utf8mb4_bin");
            b.Property(t => t.CreatedBy).HasColumnName("created_by").HasMaxLength(NameMaxLength).IsRequired();
            b.Property(t => t.CreatedAt).HasColumnName("created_at").HasColumnType("datetime(6)").HasConversion(utc);
            b.Property(t => t.ExpiresAt).HasColumnName("expires_at").HasColumnType("datetime(6)").HasConversion(utcNullable);
            b.Property(t => t.RevokedAt).HasColumnName("revoked_at").HasColumnType("datetime(6)").HasConversion(utcNullable);
            b.Property(t => t.LastUsedAt).HasColumnName("last_used_at").HasColumnType("datetime(6)").HasConversion(utcNullable);
            b.HasIndex(t => t.Hash).IsUnique().HasDatabaseName("ux_access_tokens_hash");
        });

        modelBuilder.Entity<SessionEntity>(b =>
        {
            b.ToTable("access_sessions");
            b.HasKey(s => s.Id);
            b.Property(s => s.Id).HasColumnName("id");
            b.Property(s => s.Hash).HasColumnName("hash").HasMaxLength(64).IsRequired().IsFixedLength().UseCollation("ascii_bin");
            b.Property(s => s.UserId).HasColumnName("user_id");
            b.Property(s => s.CreatedAt).HasColumnName("created_at").HasColumnType("datetime(6)").HasConversion(utc);
            b.Property(s => s.ExpiresAt).HasColumnName("expires_at").HasColumnType("datetime(6)").HasConversion(utc);
            b.HasIndex(s => s.Hash).IsUnique().HasDatabaseName("ux_access_sessions_hash");
            b.HasIndex(s => s.UserId).HasDatabaseName("ix_access_sessions_user_id");
        });

        AuditModel.Map(modelBuilder, excludeFromMigrations: false);
    }
}

/// <summary>A console / API user.</summary>
public sealed class UserEntity
{
    public long Id { get; set; }
    public string Name { get; set; } = "";
    /// <summary><c>pbkdf2-sha256$iterations$salt$hash</c> (base64).</summary>
    public string PasswordHash { get; set; } = "";
    public string Role { get; set; } = "viewer";
    public bool Enabled { get; set; } = true;
    public DateTime CreatedAt { get; set; }
    public DateTime? LastLoginAt { get; set; }
}

/// <summary>An API token (kind <c>api</c>) or agent token (kind <c>agent</c>); only its SHA-256 is stored.</summary>
public sealed class TokenEntity
{
    public long Id { get; set; }
    public string Name { get; set; } = "";
    public string Kind { get; set; } = "api";
    public string Hash { get; set; } = "";
    /// <summary>First characters of the token (e.g. <c>mon_Ab12</c>), shown in listings so a token can be recognised.</summary>
    public string Prefix { get; set; } = "";
    public string Role { get; set; } = "viewer";
    /// <summary>Agent tokens: the only host id it may report for; null = any host (fleet token).</summary>
    public string? HostId { get; set; }
    public string CreatedBy { get; set; } = "";
    public DateTime CreatedAt { get; set; }
    public DateTime? ExpiresAt { get; set; }
    public DateTime? RevokedAt { get; set; }
    public DateTime? LastUsedAt { get; set; }
}

/// <summary>A console session (cookie <c>monitor_session</c>); only its SHA-256 is stored.</summary>
public sealed class SessionEntity
{
    public long Id { get; set; }
    public string Hash { get; set; } = "";
    public long UserId { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime ExpiresAt { get; set; }
}

/// <summary>One audited change: who did what to which entity, with before/after JSON (secrets masked).</summary>
public sealed class AuditEntity
{
    public long Id { get; set; }
    public DateTime At { get; set; }
    public string Actor { get; set; } = "";
    public string Action { get; set; } = "";
    public string EntityType { get; set; } = "";
    public string EntityId { get; set; } = "";
    public string? Before { get; set; }
    public string? After { get; set; }
}

/// <summary>Used by <c>dotnet ef --context AccessDbContext</c> only.</summary>
internal sealed class AccessDesignTimeDbContextFactory : IDesignTimeDbContextFactory<AccessDbContext>
{
    public AccessDbContext CreateDbContext(string[] args)
    {
        var connectionString = Environment.GetEnvironmentVariable("ConnectionStrings__Manage")
            ?? "Server=127.0.0.1;Port=3307;Database=monitor_manage;User ID=monitor";
        var options = new DbContextOptionsBuilder<AccessDbContext>()
            .UseMySql(connectionString, ManageDatabase.ParseServerVersion("10.11.0-mariadb"),
                my => my.MigrationsHistoryTable(AccessDbContext.MigrationsHistoryTable))
            .Options;
        return new AccessDbContext(options);
    }
}
