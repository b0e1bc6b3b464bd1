using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Monitor.WarningService.Data;

/// <summary>Database <c>monitor_warning</c>: rules (versioned), channels, alert state, alerts, outbox, push log, silences, audit log.</summary>
internal sealed class WarningDbContext(DbContextOptions<WarningDbContext> options) : DbContext(options)
{
    public DbSet<RuleEntity> Rules => Set<RuleEntity>();
    public DbSet<RuleVersionEntity> RuleVersions => Set<RuleVersionEntity>();
    public DbSet<ChannelEntity> Channels => Set<ChannelEntity>();
    public DbSet<AlertStateEntity> AlertStates => Set<AlertStateEntity>();
    public DbSet<AlertEntity> Alerts => Set<AlertEntity>();
    public DbSet<NotificationEntity> Notifications => Set<NotificationEntity>();
    public DbSet<PushLogEntity> PushLog => Set<PushLogEntity>();
    public DbSet<SilenceEntity> Silences => Set<SilenceEntity>();
    public DbSet<LeaderFenceEntity> LeaderFences => Set<LeaderFenceEntity>();
    public DbSet<Probes.ProbeAlertStateEntity> ProbeAlertStates => Set<Probes.ProbeAlertStateEntity>();
    public DbSet<AuditEntity> Audit => Set<AuditEntity>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<RuleEntity>(e =>
        {
            e.ToTable("rules");
            e.HasIndex(r => r.Name).IsUnique();
            e.Property(r => r.Name).HasMaxLength(128);
            e.Property(r => r.SpecJson).HasColumnType("longtext");
        });
        modelBuilder.Entity<RuleVersionEntity>(e =>
        {
            e.ToTable("rule_versions");
            e.HasKey(v => new { v.RuleId, v.Version });
            e.Property(v => v.SpecJson).HasColumnType("longtext");
            e.Property(v => v.ChangedBy).HasMaxLength(128);
        });
        modelBuilder.Entity<ChannelEntity>(e =>
        {
            e.ToTable("channels");
            e.HasIndex(c => c.Name).IsUnique();
            e.Property(c => c.Name).HasMaxLength(128);
            e.Property(c => c.Type).HasMaxLength(16);
            e.Property(c => c.Url).HasMaxLength(2048);
            e.Property(c => c.Secret).HasMaxLength(512);
            e.Property(c => c.SmtpHost).HasMaxLength(255);
            e.Property(c => c.SmtpUser).HasMaxLength(255);
            e.Property(c => c.SmtpPassword).HasMaxLength(512);
            e.Property(c => c.EmailFrom).HasMaxLength(255);
            e.Property(c => c.EmailTo).HasMaxLength(2048);
            e.Property(c => c.Template).HasColumnType("text");
        });
        modelBuilder.Entity<AlertStateEntity>(e =>
        {
            e.ToTable("alert_states");
            e.HasKey(s => new { s.RuleId, s.HostId });
            e.Property(s => s.HostId).HasMaxLength(128);
            e.Property(s => s.Phase).HasMaxLength(16);
            e.Property(s => s.Severity).HasMaxLength(16);
            e.Property(s => s.BreachValuesJson).HasColumnType("text");
            e.HasIndex(s => s.Partition);
            e.HasIndex(s => s.HostId);
        });
        modelBuilder.Entity<AlertEntity>(e =>
        {
            e.ToTable("alerts");
            e.Property(a => a.RuleName).HasMaxLength(128);
            e.Property(a => a.HostId).HasMaxLength(128);
            e.Property(a => a.Metric).HasMaxLength(128);
            e.Property(a => a.Comparator).HasMaxLength(4);
            e.Property(a => a.Severity).HasMaxLength(16);
            e.Property(a => a.State).HasMaxLength(16);
            e.Property(a => a.AcknowledgedBy).HasMaxLength(128);
            e.Property(a => a.BreachValuesJson).HasColumnType("text");
            e.Property(a => a.ChannelsJson).HasColumnType("text");
            e.Property(a => a.Target).HasMaxLength(128);
            e.Property(a => a.EvidenceJson).HasColumnType("text");
            e.HasIndex(a => new { a.State, a.LastNotifiedAtMs });
            e.HasIndex(a => new { a.RuleId, a.HostId });
        });
        modelBuilder.Entity<Probes.ProbeAlertStateEntity>(e =>
        {
            e.ToTable("probe_alert_states");
            e.HasKey(s => new { s.RuleId, s.HostId, s.Target });
            e.Property(s => s.HostId).HasMaxLength(128);
            e.Property(s => s.Target).HasMaxLength(128);
            e.Property(s => s.Phase).HasMaxLength(16);
            e.Property(s => s.MessagesJson).HasColumnType("text");
            e.HasIndex(s => s.Partition);
            e.HasIndex(s => s.HostId);
        });
        modelBuilder.Entity<NotificationEntity>(e =>
        {
            e.ToTable("notifications");
            e.Property(n => n.Channel).HasMaxLength(128);
            e.Property(n => n.Kind).HasMaxLength(16);
            e.Property(n => n.Status).HasMaxLength(16);
            e.Property(n => n.ClaimToken).HasMaxLength(64);
            e.HasIndex(n => new { n.Status, n.ClaimedUntilMs });
            e.HasIndex(n => n.AlertId);
        });
        modelBuilder.Entity<PushLogEntity>(e =>
        {
            e.ToTable("push_log");
            e.Property(p => p.Channel).HasMaxLength(128);
            e.Property(p => p.ChannelType).HasMaxLength(16);
            e.Property(p => p.Kind).HasMaxLength(16);
            e.Property(p => p.PayloadDigest).HasMaxLength(64);
            e.Property(p => p.Status).HasMaxLength(16);
            e.Property(p => p.Reply).HasMaxLength(512);
            e.Property(p => p.Error).HasMaxLength(1024);
            e.HasIndex(p => p.AlertId);
            e.HasIndex(p => p.NotificationId);
        });
        modelBuilder.Entity<LeaderFenceEntity>(e =>
        {
            e.ToTable("leader_fences");
            e.HasKey(f => f.Name);
            e.Property(f => f.Name).HasMaxLength(64);
            e.Property(f => f.Holder).HasMaxLength(128);
        });
        modelBuilder.Entity<SilenceEntity>(e =>
        {
            e.ToTable("silences");
            e.Property(s => s.HostId).HasMaxLength(128);
            e.Property(s => s.Location).HasMaxLength(128);
            e.Property(s => s.Comment).HasMaxLength(1024);
            e.HasIndex(s => s.EndsAtMs);
        });
        modelBuilder.Entity<AuditEntity>(e =>
        {
            e.ToTable("audit");
            e.Property(a => a.At).HasColumnType("datetime(6)")
                .HasConversion(v => v, v => DateTime.SpecifyKind(v, DateTimeKind.Utc));
            e.Property(a => a.Actor).HasMaxLength(128);
            e.Property(a => a.Action).HasMaxLength(32);
            e.Property(a => a.EntityType).HasMaxLength(32);
            e.Property(a => a.EntityId).HasMaxLength(256);
            e.Property(a => a.Before).HasColumnType("longtext");
            e.Property(a => a.After).HasColumnType("longtext");
            e.HasIndex(a => new { a.EntityType, a.EntityId });
            e.HasIndex(a => a.At);
        });
    }
}

/// <summary>For <c>dotnet ef migrations add</c>: builds the context without the host (no connection is opened).</summary>
internal sealed class WarningDbContextDesignFactory : IDesignTimeDbContextFactory<WarningDbContext>
{
    public WarningDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<WarningDbContext>()
            .UseMySql("Server=127.0.0.1;Database=monitor_warning", new MariaDbServerVersion(new Version(10, 11)))
            .Options);
}
