using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using Monitor.ManageService.Data;

namespace Monitor.ManageService.Probes;

/// <summary>
/// Probe targets in the manage database (<c>monitor_manage</c>), with their own migrations history table
/// (<c>__probe_migrations</c>) so they evolve independently of <see cref="ManageDbContext"/>.
/// </summary>
public sealed class ProbeDbContext(DbContextOptions<ProbeDbContext> options) : DbContext(options)
{
    public const string MigrationsTable = "__probe_migrations";
    public const int NameMaxLength = 128;

    /// <summary>Every target (deleted targets are removed).</summary>
    public DbSet<ProbeTargetEntity> Targets => Set<ProbeTargetEntity>();

    /// <summary>Small named values: the store revision and the generated secret key.</summary>
    public DbSet<ProbeMetaEntity> Meta => Set<ProbeMetaEntity>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        var utc = new ValueConverter<DateTime, DateTime>(v => v, v => DateTime.SpecifyKind(v, DateTimeKind.Utc));
        modelBuilder.Entity<ProbeTargetEntity>(b =>
        {
            b.ToTable("probe_targets");
            b.HasKey(t => t.Id);
            b.Property(t => t.Id).HasColumnName("id");
            b.Property(t => t.Name).HasColumnName("name").HasMaxLength(NameMaxLength).IsRequired().UseCollation("utf8mb4_bin");
            b.Property(t => t.Type).HasColumnName("type").HasMaxLength(16).IsRequired();
            b.Property(t => t.ConfigJson).HasColumnName("config_json").HasColumnType("mediumtext").IsRequired();
            b.Property(t => t.IntervalMs).HasColumnName("interval_ms");
            b.Property(t => t.TimeoutMs).HasColumnName("timeout_ms");
            b.Property(t => t.Enabled).HasColumnName("enabled");
            b.Property(t => t.AssignmentMode).HasColumnName("assignment_mode").HasMaxLength(16).IsRequired();
            b.Property(t => t.AssignmentHostsJson).HasColumnName("assignment_hosts").HasColumnType("text").IsRequired();
            b.Property(t => t.AssignmentLocation).HasColumnName("assignment_location").HasMaxLength(128).IsRequired().HasDefaultValue("");
            b.Property(t => t.ChannelsJson).HasColumnName("channels").HasColumnType("text").IsRequired();
            b.Property(t => t.Version).HasColumnName("version");
            b.Property(t => t.CreatedAt).HasColumnName("created_at").HasColumnType("datetime(6)").HasConversion(utc);
            b.Property(t => t.UpdatedAt).HasColumnName("updated_at").HasColumnType("datetime(6)").HasConversion(utc);
            b.HasIndex(t => t.Name).IsUnique().HasDatabaseName("ux_probe_targets_name");
        });
        modelBuilder.Entity<ProbeMetaEntity>(b =>
        {
            b.ToTable("probe_meta");
            b.HasKey(m => m.Name);
            b.Property(m => m.Name).HasColumnName("name").HasMaxLength(64);
            b.Property(m => m.Value).HasColumnName("value").HasColumnType("text").IsRequired();
        });

        // Target changes write their audit row in the same transaction; the table belongs to AccessDbContext's migrations.
        Access.AuditModel.Map(modelBuilder, excludeFromMigrations: true);
    }
}

/// <summary>A row of <c>probe_targets</c>. Secret values inside <see cref="ConfigJson"/> are encrypted (<c>enc:v1:...</c>).</summary>
public sealed class ProbeTargetEntity
{
    public long Id { get; set; }
    public string Name { get; set; } = "";
    public string Type { get; set; } = "";
    public string ConfigJson { get; set; } = "{}";
    public long IntervalMs { get; set; }
    public long TimeoutMs { get; set; }
    public bool Enabled { get; set; } = true;
    /// <summary><c>all</c>, <c>hosts</c>, <c>location</c> or <c>auto</c>.</summary>
    public string AssignmentMode { get; set; } = "all";
    public string AssignmentHostsJson { get; set; } = "[]";
    public string AssignmentLocation { get; set; } = "";
    public string ChannelsJson { get; set; } = "[]";
    /// <summary>Incremented on every change, from 1.</summary>
    public long Version { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
}

/// <summary>A row of <c>probe_meta</c>.</summary>
public sealed class ProbeMetaEntity
{
    public string Name { get; set; } = "";
    public string Value { get; set; } = "";
}

/// <summary>Used by <c>dotnet ef</c> only; no connection is opened to add a migration.</summary>
internal sealed class ProbeDesignTimeDbContextFactory : IDesignTimeDbContextFactory<ProbeDbContext>
{
    public ProbeDbContext CreateDbContext(string[] args)
    {
        var connectionString = Environment.GetEnvironmentVariable("ConnectionStrings__Manage")
            ?? "Server=127.0.0.1;Port=3307;Database=monitor_manage;User ID=monitor";
        var options = new DbContextOptionsBuilder<ProbeDbContext>()
            .UseMySql(connectionString, ManageDatabase.ParseServerVersion("10.11.0-mariadb"),
                o => o.MigrationsHistoryTable(ProbeDbContext.MigrationsTable))
            .Options;
        return new ProbeDbContext(options);
    }
}
