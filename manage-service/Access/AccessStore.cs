using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Monitor.ManageService.Data;
using Monitor.ServiceDefaults.Auth;

namespace Monitor.ManageService.Access;

/// <summary>A refused access operation, with the HTTP status it maps to.</summary>
internal sealed class AccessException(int status, string message, string? field = null) : Exception(message)
{
    public int Status { get; } = status;
    public string? Field { get; } = field;
}

/// <summary>Users, tokens, sessions and the audit log (scoped: one <see cref="AccessDbContext"/>).</summary>
internal sealed partial class AccessStore(
    AccessDbContext db,
    IOptions<AccessOptions> options,
    AuthRevocationPublisher revocations,
    AuditTrail audit,
    TimeProvider timeProvider,
    ILogger<AccessStore> logger)
{
    public const int MinPasswordLength = 10;
    public const int MaxPasswordLength = 256;

    private DateTime Now => timeProvider.GetUtcNow().UtcDateTime;

    // ---- users ----

    public Task<List<UserEntity>> ListUsersAsync(CancellationToken ct) => db.Users.AsNoTracking().OrderBy(u => u.Name).ToListAsync(ct);

    public Task<bool> AnyUserAsync(CancellationToken ct) => db.Users.AnyAsync(ct);

    public async Task<UserEntity> CreateUserAsync(string actor, string? name, string? password, string? role, CancellationToken ct)
    {
        ValidateName(name, "name");
        ValidatePassword(password);
        var parsed = ParseRole(role);
        if (await db.Users.AnyAsync(u => u.Name == name, ct).ConfigureAwait(false))
        {
            throw new AccessException(409, $"user '{name}' already exists", "name");
        }
        var user = new UserEntity
        {
            Name = name!,
            PasswordHash = Secrets.HashPassword(password!, options.Value.PasswordIterations),
            Role = IdentityResponse.RoleName(parsed),
            Enabled = true,
            CreatedAt = Now,
        };
        db.Users.Add(user);
        AddAudit(actor, "create", "user", user.Name, null, UserAudit(user));
        await db.SaveChangesAsync(ct).ConfigureAwait(false);
        Log.UserCreated(logger, user.Name, user.Role, actor);
        return user;
    }

    public async Task<UserEntity> UpdateUserAsync(string actor, string name, string? role, bool? enabled, string? password, CancellationToken ct)
    {
        var user = await db.Users.SingleOrDefaultAsync(u => u.Name == name, ct).ConfigureAwait(false)
            ?? throw new AccessException(404, $"user '{name}' does not exist", "name");
        var before = UserAudit(user);
        if (role is not null)
        {
            user.Role = IdentityResponse.RoleName(ParseRole(role));
        }
        if (enabled is not null)
        {
            user.Enabled = enabled.Value;
        }
        if (password is not null)
        {
            ValidatePassword(password);
            user.PasswordHash = Secrets.HashPassword(password, options.Value.PasswordIterations);
        }
        await EnsureAdminRemainsAsync(user, ct).ConfigureAwait(false);
        var after = UserAudit(user);
        AddAudit(actor, "update", "user", user.Name, before, after with { PasswordChanged = password is not null });
        // Any change of role, state or password ends the user's sessions.
        await db.Sessions.Where(s => s.UserId == user.Id).ExecuteDeleteAsync(ct).ConfigureAwait(false);
        await db.SaveChangesAsync(ct).ConfigureAwait(false);
        await revocations.PublishAsync(ct).ConfigureAwait(false);
        return user;
    }

    public async Task DeleteUserAsync(string actor, string name, CancellationToken ct)
    {
        var user = await db.Users.SingleOrDefaultAsync(u => u.Name == name, ct).ConfigureAwait(false)
            ?? throw new AccessException(404, $"user '{name}' does not exist", "name");
        user.Enabled = false;
        await EnsureAdminRemainsAsync(user, ct).ConfigureAwait(false);
        await db.Sessions.Where(s => s.UserId == user.Id).ExecuteDeleteAsync(ct).ConfigureAwait(false);
        db.Users.Remove(user);
        AddAudit(actor, "delete", "user", name, UserAudit(user) with { Enabled = true }, null);
        await db.SaveChangesAsync(ct).ConfigureAwait(false);
        await revocations.PublishAsync(ct).ConfigureAwait(false);
    }

    private async Task EnsureAdminRemainsAsync(UserEntity changed, CancellationToken ct)
    {
        if (changed.Role == "admin" && changed.Enabled)
        {
            return;
        }
        var others = await db.Users.AnyAsync(u => u.Id != changed.Id && u.Role == "admin" && u.Enabled, ct).ConfigureAwait(false);
        if (!others)
        {
            throw new AccessException(409, "the last enabled administrator cannot be demoted, disabled or deleted");
        }
    }

    // ---- tokens ----

    public Task<List<TokenEntity>> ListTokensAsync(CancellationToken ct) => db.Tokens.AsNoTracking().OrderBy(t => t.Id).ToListAsync(ct);

    /// <summary>Creates a token; the returned secret is shown once and never stored.</summary>
    public async Task<(TokenEntity Token, string Secret)> CreateTokenAsync(
        string actor, string? name, string? kind, string? role, string? hostId, DateTime? expiresAt, CancellationToken ct)
    {
        ValidateName(name, "name");
        kind ??= "api";
        if (kind is not ("api" or "agent"))
        {
            throw new AccessException(400, "kind must be 'api' or 'agent'", "kind");
        }
        if (kind == "api" && hostId is not null)
        {
            throw new AccessException(400, "hostId applies to agent tokens only", "hostId");
        }
        if (hostId is not null && (hostId.Length is 0 or > ManageDbContext.HostIdMaxLength))
        {
            throw new AccessException(400, $"hostId must be 1..{ManageDbContext.HostIdMaxLength} characters", "hostId");
        }
        if (expiresAt is { } e && e.ToUniversalTime() <= Now)
        {
            throw new AccessException(400, "expiresAt must be in the future", "expiresAt");
        }
        var secret = Secrets.NewToken(kind == "agent" ? Secrets.AgentTokenPrefix : Secrets.ApiTokenPrefix);
        var token = new TokenEntity
        {
            Name = name!,
            Kind = kind,
            Hash = MonitorCredentials.Hash(secret),
            Prefix = secret[..Math.Min(secret.Length, 9)],
            Role = kind == "agent" ? "none" : IdentityResponse.RoleName(ParseRole(role)),
            HostId = hostId,
            CreatedBy = actor,
            CreatedAt = Now,
            ExpiresAt = expiresAt?.ToUniversalTime(),
        };
        // The audit row names the token's id, known after the insert: one transaction keeps token and row together.
        await using var tx = await db.Database.BeginTransactionAsync(ct).ConfigureAwait(false);
        db.Tokens.Add(token);
        await db.SaveChangesAsync(ct).ConfigureAwait(false);
        AddAudit(actor, "create", "token", token.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), null, TokenAudit(token));
        await db.SaveChangesAsync(ct).ConfigureAwait(false);
        await tx.CommitAsync(ct).ConfigureAwait(false);
        Log.TokenCreated(logger, token.Id, token.Name, token.Kind, token.Role, actor);
        return (token, secret);
    }

    public async Task<TokenEntity> RevokeTokenAsync(string actor, long id, CancellationToken ct)
    {
        var token = await db.Tokens.SingleOrDefaultAsync(t => t.Id == id, ct).ConfigureAwait(false)
            ?? throw new AccessException(404, $"token {id} does not exist", "id");
        if (token.RevokedAt is null)
        {
            var before = TokenAudit(token);
            token.RevokedAt = Now;
            AddAudit(actor, "revoke", "token", id.ToString(System.Globalization.CultureInfo.InvariantCulture), before, TokenAudit(token));
            await db.SaveChangesAsync(ct).ConfigureAwait(false);
            Log.TokenRevoked(logger, token.Id, token.Name, actor);
        }
        await revocations.PublishAsync(ct).ConfigureAwait(false);
        return token;
    }

    // ---- credentials ----

    public async Task<MonitorPrincipal?> ValidateTokenAsync(string secret, CancellationToken ct)
    {
        var hash = MonitorCredentials.Hash(secret);
        var now = Now;
        var token = await db.Tokens.AsNoTracking().SingleOrDefaultAsync(t => t.Hash == hash, ct).ConfigureAwait(false);
        if (token is null || token.RevokedAt is not null || (token.ExpiresAt is { } exp && exp <= now))
        {
            return null;
        }
        await db.Tokens.Where(t => t.Id == token.Id).ExecuteUpdateAsync(s => s.SetProperty(t => t.LastUsedAt, now), ct).ConfigureAwait(false);
        return token.Kind == "agent"
            ? new MonitorPrincipal("agent:" + token.Name, MonitorRole.Anonymous) { Kind = PrincipalKind.Agent, HostId = token.HostId }
            : new MonitorPrincipal("token:" + token.Name, IdentityResponse.ParseRole(token.Role) ?? MonitorRole.Anonymous) { Kind = PrincipalKind.ApiToken };
    }

    public async Task<MonitorPrincipal?> ValidateSessionAsync(string secret, CancellationToken ct)
    {
        var hash = MonitorCredentials.Hash(secret);
        var now = Now;
        var found = await (from s in db.Sessions.AsNoTracking()
                           join u in db.Users.AsNoTracking() on s.UserId equals u.Id
                           where s.Hash == hash && s.ExpiresAt > now && u.Enabled
                           select new { u.Name, u.Role }).SingleOrDefaultAsync(ct).ConfigureAwait(false);
        return found is null ? null : new MonitorPrincipal(found.Name, IdentityResponse.ParseRole(found.Role) ?? MonitorRole.Anonymous) { Kind = PrincipalKind.User };
    }

    /// <summary>Checks a password; on success opens a session and returns its secret (the cookie value).</summary>
    public async Task<(UserEntity User, string Session)?> LoginAsync(string name, string password, CancellationToken ct)
    {
        var user = await db.Users.SingleOrDefaultAsync(u => u.Name == name, ct).ConfigureAwait(false);
        if (user is null)
        {
            Secrets.BurnTime(options.Value.PasswordIterations);
            return null;
        }
        if (!Secrets.VerifyPassword(password, user.PasswordHash) || !user.Enabled)
        {
            return null;
        }
        var secret = Secrets.NewToken("");
        var now = Now;
        user.LastLoginAt = now;
        db.Sessions.Add(new SessionEntity { Hash = MonitorCredentials.Hash(secret), UserId = user.Id, CreatedAt = now, ExpiresAt = now + options.Value.SessionLifetime });
        await db.Sessions.Where(s => s.ExpiresAt <= now).ExecuteDeleteAsync(ct).ConfigureAwait(false);
        await db.SaveChangesAsync(ct).ConfigureAwait(false);
        return (user, secret);
    }

    public async Task LogoutAsync(string secret, CancellationToken ct)
    {
        var hash = MonitorCredentials.Hash(secret);
        if (await db.Sessions.Where(s => s.Hash == hash).ExecuteDeleteAsync(ct).ConfigureAwait(false) > 0)
        {
            await revocations.PublishAsync(ct).ConfigureAwait(false);
        }
    }

    // ---- audit ----

    public Task<List<AuditEntity>> QueryAuditAsync(string? entityType, string? entityId, int limit, CancellationToken ct)
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
        return query.OrderByDescending(a => a.Id).Take(limit).ToListAsync(ct);
    }

    private void AddAudit(string actor, string action, string entityType, string entityId, object? before, object? after) =>
        db.Audit.Add(audit.Entry(actor, action, entityType, entityId, before, after));

    private static UserAuditView UserAudit(UserEntity u) => new(u.Name, u.Role, u.Enabled, PasswordChanged: null);

    private static TokenAuditView TokenAudit(TokenEntity t) => new(t.Id, t.Name, t.Kind, t.Role, t.HostId, t.Prefix + "…", t.ExpiresAt, t.RevokedAt);

    private static void ValidateName(string? name, string field)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Length > AccessDbContext.NameMaxLength || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or '@'))
        {
            throw new AccessException(400, $"{field} must be 1..{AccessDbContext.NameMaxLength} of A-Z a-z 0-9 . _ - @", field);
        }
    }

    private static void ValidatePassword(string? password)
    {
        if (password is null || password.Length is < MinPasswordLength or > MaxPasswordLength)
        {
            throw new AccessException(400, $"password must be {MinPasswordLength}..{MaxPasswordLength} characters", "password");
        }
    }

    private static MonitorRole ParseRole(string? role) =>
        IdentityResponse.ParseRole(role) ?? throw new AccessException(400, "role must be viewer, editor or admin", "role");

    private static partial class Log
    {
        [LoggerMessage(EventId = 6100, EventName = "UserCreated", Level = LogLevel.Information, Message = "User {User} created with role {Role} by {Actor}")]
        public static partial void UserCreated(ILogger logger, string user, string role, string actor);

        [LoggerMessage(EventId = 6101, EventName = "TokenCreated", Level = LogLevel.Information, Message = "Token {Id} ({Name}, {Kind}, role {Role}) created by {Actor}")]
        public static partial void TokenCreated(ILogger logger, long id, string name, string kind, string role, string actor);

        [LoggerMessage(EventId = 6102, EventName = "TokenRevoked", Level = LogLevel.Information, Message = "Token {Id} ({Name}) revoked by {Actor}")]
        public static partial void TokenRevoked(ILogger logger, long id, string name, string actor);
    }
}
