using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Monitor.ManageService.Access;
using Monitor.ManageService.Data;
using Monitor.ManageService.Hosts;
using MySqlConnector;

namespace Monitor.ManageService.Probes;

/// <summary>Which probers run a target (input; null fields = default).</summary>
internal sealed record AssignmentInput(string? Mode, IReadOnlyList<string>? HostIds, string? Location);

/// <summary>A target definition as sent by a client; null fields are defaults (create/replace) or unchanged (patch).</summary>
internal sealed record ProbeTargetInput(
    string? Name,
    string? Type,
    JsonNode? Config,
    long? IntervalMs,
    long? TimeoutMs,
    bool? Enabled,
    AssignmentInput? Assignment,
    IReadOnlyList<string>? Channels);

/// <summary>A stored target, decoded; <see cref="Config"/> still holds the encrypted secrets.</summary>
internal sealed record ProbeTarget(
    string Name,
    string Type,
    JsonObject Config,
    long IntervalMs,
    long TimeoutMs,
    bool Enabled,
    string AssignmentMode,
    IReadOnlyList<string> AssignmentHostIds,
    string AssignmentLocation,
    IReadOnlyList<string> Channels,
    long Version,
    DateTime CreatedAt,
    DateTime UpdatedAt)
{
    public static ProbeTarget From(ProbeTargetEntity e) => new(
        e.Name, e.Type,
        JsonNode.Parse(e.ConfigJson) as JsonObject ?? [],
        e.IntervalMs, e.TimeoutMs, e.Enabled, e.AssignmentMode,
        JsonSerializer.Deserialize<List<string>>(e.AssignmentHostsJson) ?? [],
        e.AssignmentLocation,
        JsonSerializer.Deserialize<List<string>>(e.ChannelsJson) ?? [],
        e.Version, e.CreatedAt, e.UpdatedAt);

    /// <summary>The config with every secret replaced by <see cref="ProbeConfigSchema.Mask"/> (what the API returns).</summary>
    public JsonObject MaskedConfig()
    {
        var copy = (JsonObject)Config.DeepClone();
        foreach (var (parent, key, _) in ProbeConfigSchema.SecretSlots(Type, copy).ToList())
        {
            if (parent[key]?.GetValue<string>() is { Length: > 0 })
            {
                parent[key] = ProbeConfigSchema.Mask;
            }
        }
        return copy;
    }

    /// <summary>The config with secrets in clear text (sent to probers only).</summary>
    public JsonObject RevealedConfig(SecretProtector protector)
    {
        var copy = (JsonObject)Config.DeepClone();
        foreach (var (parent, key, _) in ProbeConfigSchema.SecretSlots(Type, copy).ToList())
        {
            if (parent[key]?.GetValue<string>() is { Length: > 0 } stored)
            {
                parent[key] = protector.Unprotect(stored);
            }
        }
        return copy;
    }
}

/// <summary>
/// Target CRUD, shared by the HTTP API and gRPC. Validates per type, encrypts secrets (an update that sends
/// <c>***</c> keeps the stored one), bumps the store revision in the same transaction, then tells the watch streams.
/// </summary>
internal sealed partial class ProbeTargetStore(
    ProbeDbContext db,
    SecretProtector protector,
    ProbeChangeNotifier notifier,
    AuditTrail audit,
    TimeProvider timeProvider,
    ILogger<ProbeTargetStore> logger)
{
    public const long DefaultIntervalMs = 30_000;
    public const long DefaultTimeoutMs = 5_000;
    public const long MinIntervalMs = 1_000;
    public const long MaxIntervalMs = 86_400_000;
    public const long MinTimeoutMs = 100;
    public const int MaxChannels = 32;
    public const int MaxAssignedHosts = 1000;

    public async Task<IReadOnlyList<ProbeTarget>> ListAsync(CancellationToken cancellationToken)
    {
        var rows = await Db(() => db.Targets.AsNoTracking().OrderBy(t => t.Name).ToListAsync(cancellationToken)).ConfigureAwait(false);
        return rows.Select(ProbeTarget.From).ToList();
    }

    public async Task<ProbeTarget> GetAsync(string? name, CancellationToken cancellationToken)
    {
        ValidateName(name);
        var row = await Db(() => db.Targets.AsNoTracking().FirstOrDefaultAsync(t => t.Name == name, cancellationToken)).ConfigureAwait(false);
        return row is null ? throw NotFound(name!) : ProbeTarget.From(row);
    }

    /// <summary>The current revision of the store (0 before the first change).</summary>
    public async Task<long> RevisionAsync(CancellationToken cancellationToken)
    {
        var value = await Db(() => db.Meta.AsNoTracking().Where(m => m.Name == "revision").Select(m => m.Value).FirstOrDefaultAsync(cancellationToken)).ConfigureAwait(false);
        return long.TryParse(value, System.Globalization.CultureInfo.InvariantCulture, out var r) ? r : 0;
    }

    public async Task<ProbeTarget> CreateAsync(ProbeTargetInput input, CancellationToken cancellationToken)
    {
        ValidateName(input.Name);
        await EnsureSecretKeyAsync(cancellationToken).ConfigureAwait(false);
        var entity = new ProbeTargetEntity { Name = input.Name! };
        Apply(entity, input, existing: null);
        var now = Now();
        entity.Version = 1;
        entity.CreatedAt = now;
        entity.UpdatedAt = now;
        db.Targets.Add(entity);
        db.Add(audit.Entry("create", AuditEntityType, entity.Name, null, AuditView(ProbeTarget.From(entity))));
        try
        {
            await SaveWithRevisionAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (DbUpdateException ex) when (ManageDatabase.IsDuplicateKey(ex))
        {
            throw new ManageException(ManageErrorKind.AlreadyExists, $"target '{entity.Name}' already exists", "name");
        }
        Log.Created(logger, entity.Name, entity.Type, entity.Enabled);
        return ProbeTarget.From(entity);
    }

    /// <summary>
    /// Changes a target. <paramref name="replace"/>: null fields of <paramref name="input"/> take their defaults (gRPC
    /// UpdateTarget); otherwise null fields stay as they are (HTTP PATCH).
    /// </summary>
    public async Task<ProbeTarget> UpdateAsync(string? name, ProbeTargetInput input, bool replace, CancellationToken cancellationToken)
    {
        ValidateName(name);
        if (input.Name is not null && input.Name != name)
        {
            throw ManageException.Invalid("name", "cannot be changed (delete the target and create a new one)");
        }
        await EnsureSecretKeyAsync(cancellationToken).ConfigureAwait(false);
        var entity = await Db(() => db.Targets.FirstOrDefaultAsync(t => t.Name == name, cancellationToken)).ConfigureAwait(false)
            ?? throw NotFound(name!);
        var current = ProbeTarget.From(entity);
        var effective = replace ? input : input with
        {
            Type = input.Type ?? current.Type,
            Config = input.Config ?? (input.Type is null || input.Type == current.Type ? current.MaskedConfig() : null),
            IntervalMs = input.IntervalMs ?? current.IntervalMs,
            TimeoutMs = input.TimeoutMs ?? current.TimeoutMs,
            Enabled = input.Enabled ?? current.Enabled,
            Assignment = input.Assignment ?? new AssignmentInput(current.AssignmentMode, current.AssignmentHostIds, current.AssignmentLocation),
            Channels = input.Channels ?? current.Channels,
        };
        Apply(entity, effective, current);
        entity.Version++;
        entity.UpdatedAt = Now();
        var updated = ProbeTarget.From(entity);
        // Secrets are masked in the audit; a changed cipher text says a secret was sent anew (never which).
        var secretsChanged = !string.Equals(current.Config.ToJsonString(), updated.Config.ToJsonString(), StringComparison.Ordinal)
            && string.Equals(current.MaskedConfig().ToJsonString(), updated.MaskedConfig().ToJsonString(), StringComparison.Ordinal);
        db.Add(audit.Entry(AuditAction(current, updated), AuditEntityType, entity.Name, AuditView(current), AuditView(updated) with { SecretsChanged = secretsChanged ? true : null }));
        await SaveWithRevisionAsync(cancellationToken).ConfigureAwait(false);
        Log.Updated(logger, entity.Name, entity.Version, entity.Enabled);
        return ProbeTarget.From(entity);
    }

    /// <summary>Loads the key that encrypts secrets (needed before secrets are written or revealed).</summary>
    public Task EnsureSecretKeyAsync(CancellationToken cancellationToken) =>
        Db(async () => { await protector.EnsureKeyAsync(db, cancellationToken).ConfigureAwait(false); return 0; });

    public async Task DeleteAsync(string? name, CancellationToken cancellationToken)
    {
        ValidateName(name);
        var entity = await Db(() => db.Targets.FirstOrDefaultAsync(t => t.Name == name, cancellationToken)).ConfigureAwait(false)
            ?? throw NotFound(name!);
        db.Targets.Remove(entity);
        db.Add(audit.Entry("delete", AuditEntityType, entity.Name, AuditView(ProbeTarget.From(entity)), null));
        await SaveWithRevisionAsync(cancellationToken).ConfigureAwait(false);
        Log.Deleted(logger, entity.Name);
    }

    /// <summary>Validates <paramref name="input"/> and writes it into <paramref name="entity"/> (secrets encrypted).</summary>
    private void Apply(ProbeTargetEntity entity, ProbeTargetInput input, ProbeTarget? existing)
    {
        var type = input.Type;
        if (string.IsNullOrEmpty(type))
        {
            throw ManageException.Invalid("type", "is required");
        }
        if (!ProbeConfigSchema.IsKnownType(type))
        {
            throw ManageException.Invalid("type", $"must be one of {string.Join(", ", ProbeTypes.All)}");
        }
        var config = ProbeConfigSchema.Validate(type, input.Config);
        ProtectSecrets(type, config, existing);

        var interval = input.IntervalMs is null or 0 ? DefaultIntervalMs : input.IntervalMs.Value;
        if (interval < MinIntervalMs || interval > MaxIntervalMs)
        {
            throw ManageException.Invalid("intervalMs", $"must be between {MinIntervalMs} and {MaxIntervalMs}");
        }
        var timeout = input.TimeoutMs is null or 0 ? DefaultTimeoutMs : input.TimeoutMs.Value;
        if (timeout < MinTimeoutMs)
        {
            throw ManageException.Invalid("timeoutMs", $"must be at least {MinTimeoutMs}");
        }
        if (timeout >= interval)
        {
            throw ManageException.Invalid("timeoutMs", $"must be below intervalMs ({interval})");
        }

        var mode = string.IsNullOrEmpty(input.Assignment?.Mode) ? ProbeTypes.DefaultAssignment(type) : input.Assignment!.Mode!;
        if (!AssignmentModes.Every.Contains(mode))
        {
            throw ManageException.Invalid("assignment.mode", $"must be one of {string.Join(", ", AssignmentModes.Every)}");
        }
        var hosts = (input.Assignment?.HostIds ?? []).Distinct(StringComparer.Ordinal).ToList();
        var location = input.Assignment?.Location ?? "";
        if (mode == AssignmentModes.Hosts)
        {
            if (hosts.Count == 0 || hosts.Count > MaxAssignedHosts)
            {
                throw ManageException.Invalid("assignment.hostIds", $"must list 1..{MaxAssignedHosts} host ids when mode is hosts");
            }
            foreach (var host in hosts)
            {
                HostValidator.ValidateHostId(host, "assignment.hostIds");
            }
        }
        else
        {
            hosts = [];
        }
        if (mode == AssignmentModes.Location)
        {
            if (location.Length == 0)
            {
                throw ManageException.Invalid("assignment.location", "is required when mode is location");
            }
            HostValidator.ValidateLocation(location, "assignment.location");
        }
        else
        {
            location = "";
        }

        var channels = (input.Channels ?? []).Distinct(StringComparer.Ordinal).ToList();
        if (channels.Count > MaxChannels)
        {
            throw ManageException.Invalid("channels", $"must have at most {MaxChannels} entries");
        }
        foreach (var channel in channels)
        {
            if (!ChannelPattern().IsMatch(channel))
            {
                throw ManageException.Invalid("channels", "entries must be 1..128 characters of A-Z a-z 0-9 . _ : -");
            }
        }

        entity.Type = type;
        entity.ConfigJson = config.ToJsonString();
        entity.IntervalMs = interval;
        entity.TimeoutMs = timeout;
        entity.Enabled = input.Enabled ?? true;
        entity.AssignmentMode = mode;
        entity.AssignmentHostsJson = JsonSerializer.Serialize(hosts);
        entity.AssignmentLocation = location;
        entity.ChannelsJson = JsonSerializer.Serialize(channels);
    }

    /// <summary>Encrypts every secret; <c>***</c> takes the stored (already encrypted) value at the same place.</summary>
    private void ProtectSecrets(string type, JsonObject config, ProbeTarget? existing)
    {
        var stored = existing is null ? null : ProbeConfigSchema.SecretSlots(existing.Type, existing.Config).ToList();
        foreach (var (parent, key, path) in ProbeConfigSchema.SecretSlots(type, config).ToList())
        {
            var value = parent[key]!.GetValue<string>();
            if (value.Length == 0)
            {
                continue;
            }
            if (value == ProbeConfigSchema.Mask)
            {
                var previous = stored?.FirstOrDefault(s => string.Equals(s.Path, path, StringComparison.OrdinalIgnoreCase));
                var old = previous is { } p ? p.Parent[p.Key]?.GetValue<string>() : null;
                if (string.IsNullOrEmpty(old))
                {
                    throw ManageException.Invalid(path, $"is '{ProbeConfigSchema.Mask}' but no secret is stored for it");
                }
                parent[key] = old;
                continue;
            }
            parent[key] = protector.Protect(value);
        }
    }

    private async Task SaveWithRevisionAsync(CancellationToken cancellationToken)
    {
        var revision = await Db(async () =>
        {
            await using var tx = await db.Database.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
            await db.Database.ExecuteSqlRawAsync(
                "INSERT INTO probe_meta (name, value) VALUES ('revision', '1') ON DUPLICATE KEY UPDATE value = CAST(CAST(value AS UNSIGNED) + 1 AS CHAR)",
                cancellationToken).ConfigureAwait(false);
            var value = await db.Meta.AsNoTracking().Where(m => m.Name == "revision").Select(m => m.Value).FirstAsync(cancellationToken).ConfigureAwait(false);
            await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
            return long.Parse(value, System.Globalization.CultureInfo.InvariantCulture);
        }).ConfigureAwait(false);
        await notifier.ChangedAsync(revision, cancellationToken).ConfigureAwait(false);
    }

    public static void ValidateName(string? name)
    {
        if (string.IsNullOrEmpty(name) || !NamePattern().IsMatch(name))
        {
            throw ManageException.Invalid("name", $"must be 1..{ProbeDbContext.NameMaxLength} characters of A-Z a-z 0-9 . _ : -, starting with a letter or digit");
        }
    }

    private const string AuditEntityType = "probeTarget";

    private static ProbeTargetAuditView AuditView(ProbeTarget t) => new(
        t.Name, t.Type, t.MaskedConfig(), t.IntervalMs, t.TimeoutMs, t.Enabled,
        t.AssignmentMode, t.AssignmentHostIds, t.AssignmentLocation, t.Channels, t.Version, SecretsChanged: null);

    /// <summary><c>enable</c>/<c>disable</c> when only the enabled flag changed, else <c>update</c>.</summary>
    private static string AuditAction(ProbeTarget before, ProbeTarget after)
    {
        if (before.Enabled == after.Enabled)
        {
            return "update";
        }
        var same = AuditView(before) with { Enabled = after.Enabled, Version = after.Version };
        return AuditTrail.Serialize(same) == AuditTrail.Serialize(AuditView(after)) ? (after.Enabled ? "enable" : "disable") : "update";
    }

    private static ManageException NotFound(string name) => new(ManageErrorKind.NotFound, $"target '{name}' does not exist", "name");

    private DateTime Now()
    {
        var ticks = timeProvider.GetUtcNow().UtcTicks;
        return new DateTime(ticks - (ticks % 10), DateTimeKind.Utc);
    }

    private static async Task<T> Db<T>(Func<Task<T>> operation)
    {
        try
        {
            return await operation().ConfigureAwait(false);
        }
        catch (MySqlException ex)
        {
            throw new ManageException(ManageErrorKind.Unavailable, $"the manage database failed: {ex.Message}", innerException: ex);
        }
        catch (DbUpdateException ex) when (ex.InnerException is MySqlException inner && inner.ErrorCode != MySqlErrorCode.DuplicateKeyEntry)
        {
            throw new ManageException(ManageErrorKind.Unavailable, $"the manage database failed: {inner.Message}", innerException: ex);
        }
    }

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")]
    private static partial Regex NamePattern();

    [GeneratedRegex(@"^[A-Za-z0-9._:-]{1,128}$")]
    private static partial Regex ChannelPattern();

    private static partial class Log
    {
        [LoggerMessage(EventId = 6110, EventName = "ProbeTargetCreated", Level = LogLevel.Information, Message = "Created probe target {Name} ({Type}, enabled: {Enabled})")]
        public static partial void Created(ILogger logger, string name, string type, bool enabled);

        [LoggerMessage(EventId = 6111, EventName = "ProbeTargetUpdated", Level = LogLevel.Information, Message = "Updated probe target {Name} to version {Version} (enabled: {Enabled})")]
        public static partial void Updated(ILogger logger, string name, long version, bool enabled);

        [LoggerMessage(EventId = 6112, EventName = "ProbeTargetDeleted", Level = LogLevel.Information, Message = "Deleted probe target {Name}")]
        public static partial void Deleted(ILogger logger, string name);
    }
}
