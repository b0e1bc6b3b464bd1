using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace Monitor.ManageService.Data;

/// <summary>The manage service's database (<c>monitor_manage</c>), owned by this service alone.</summary>
public sealed class ManageDbContext(DbContextOptions<ManageDbContext> options) : DbContext(options)
{
    public const int HostIdMaxLength = 128;
    public const int LocationMaxLength = 128;
    public const int DescriptionMaxLength = 1024;

    /// <summary>Hosts that are not deleted (a query filter hides deleted rows; use <c>IgnoreQueryFilters</c> to see them).</summary>
    public DbSet<HostEntity> Hosts => Set<HostEntity>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        var utc = new ValueConverter<DateTime, DateTime>(v => v, v => DateTime.SpecifyKind(v, DateTimeKind.Utc));
        var utcNullable = new ValueConverter<DateTime?, DateTime?>(v => v, v => v.HasValue ? DateTime.SpecifyKind(v.Value, DateTimeKind.Utc) : v);
        var labels = new ValueConverter<Dictionary<string, string>, string>(
            v => JsonSerializer.Serialize(v, LabelsJsonContext.Default.DictionaryStringString),
            v => JsonSerializer.Deserialize(v, LabelsJsonContext.Default.DictionaryStringString) ?? new Dictionary<string, string>());
        var labelsComparer = new ValueComparer<Dictionary<string, string>>(
            (a, b) => a!.Count == b!.Count && !a.Except(b).Any(),
            v => v.Aggregate(0, (h, kv) => HashCode.Combine(h, kv.Key.GetHashCode(StringComparison.Ordinal), kv.Value.GetHashCode(StringComparison.Ordinal))),
            v => new Dictionary<string, string>(v));

        modelBuilder.Entity<HostEntity>(b =>
        {
            b.ToTable("hosts");
            b.HasKey(h => h.Id);
            b.Property(h => h.Id).HasColumnName("id");
            // Binary collation: host ids are case-sensitive tags in InfluxDB, and paging compares them ordinally.
            b.Property(h => h.HostId).HasColumnName("host_id").HasMaxLength(HostIdMaxLength).IsRequired().UseCollation("utf8mb4_bin");
            b.Property(h => h.Location).HasColumnName("location").HasMaxLength(LocationMaxLength).IsRequired().HasDefaultValue("");
            b.Property(h => h.Description).HasColumnName("description").HasMaxLength(DescriptionMaxLength).IsRequired().HasDefaultValue("");
            b.Property(h => h.Labels).HasColumnName("labels").HasColumnType("text").IsRequired()
                .HasConversion(labels, labelsComparer);
            b.Property(h => h.CreatedAt).HasColumnName("created_at").HasColumnType("datetime(6)").HasConversion(utc);
            b.Property(h => h.UpdatedAt).HasColumnName("updated_at").HasColumnType("datetime(6)").HasConversion(utc);
            b.Property(h => h.DeletedAt).HasColumnName("deleted_at").HasColumnType("datetime(6)").HasConversion(utcNullable);
            b.Property(h => h.ActiveHostId).HasColumnName("active_host_id").HasMaxLength(HostIdMaxLength).UseCollation("utf8mb4_bin")
                .HasComputedColumnSql("IF(`deleted_at` IS NULL, `host_id`, NULL)", stored: true);
            b.HasIndex(h => h.ActiveHostId).IsUnique().HasDatabaseName("ux_hosts_active_host_id");
            b.HasIndex(h => h.HostId).HasDatabaseName("ix_hosts_host_id");
            b.HasIndex(h => new { h.Location, h.HostId }).HasDatabaseName("ix_hosts_location_host_id");
            b.HasQueryFilter(h => h.DeletedAt == null);
        });

        // Host changes write their audit row in the same SaveChanges; the table belongs to AccessDbContext's migrations.
        Access.AuditModel.Map(modelBuilder, excludeFromMigrations: true);
    }
}

[JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class LabelsJsonContext : JsonSerializerContext;
