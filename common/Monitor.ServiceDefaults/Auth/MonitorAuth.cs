namespace Monitor.ServiceDefaults.Auth;

/// <summary>Roles, ordered: a higher role may do everything a lower one may.</summary>
public enum MonitorRole
{
    /// <summary>No credential needed (health, metrics, agent ingest until access control).</summary>
    Anonymous = 0,
    /// <summary>Read-only access.</summary>
    Viewer = 1,
    /// <summary>May change rules, hosts and targets.</summary>
    Editor = 2,
    /// <summary>May manage users and tokens.</summary>
    Admin = 3,
}

/// <summary>The policy of one endpoint (HTTP endpoint metadata or gRPC service/method attribute).</summary>
/// <param name="role">The least role a caller needs.</param>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method, AllowMultiple = false)]
public sealed class RequireRoleAttribute(MonitorRole role) : Attribute
{
    /// <summary>The least role a caller needs.</summary>
    public MonitorRole Role { get; } = role;
}

/// <summary>
/// Marks an endpoint that agents call with an agent token (the report stream). Agent tokens pass only such
/// endpoints; an administrator passes them too.
/// </summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method, AllowMultiple = false)]
public sealed class RequireAgentAttribute : Attribute;

/// <summary>
/// Marks an endpoint of the original system's API (which cannot send credentials). Such endpoints accept
/// anonymous callers only when <c>Auth:AllowAnonymousLegacy</c> is true. HTTP routes outside <c>/api/</c>
/// and gRPC services outside the <c>monitor.</c> and <c>grpc.</c> packages count as legacy without it.
/// </summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method, AllowMultiple = false)]
public sealed class LegacyEndpointAttribute : Attribute;

/// <summary>What kind of credential authenticated a caller.</summary>
public enum PrincipalKind
{
    /// <summary>Nobody (access control disabled, or a legacy endpoint accepted anonymously).</summary>
    Anonymous = 0,
    /// <summary>A user, through a console session.</summary>
    User = 1,
    /// <summary>An API token.</summary>
    ApiToken = 2,
    /// <summary>An agent token (per fleet or per host).</summary>
    Agent = 3,
}

/// <summary>An authenticated caller.</summary>
/// <param name="Name">User, token or agent name (never the secret itself).</param>
/// <param name="Role">The caller's role (agents have <see cref="MonitorRole.Anonymous"/>: they read nothing).</param>
public sealed record MonitorPrincipal(string Name, MonitorRole Role)
{
    /// <summary>What kind of credential authenticated the caller. The default is <see cref="PrincipalKind.Anonymous"/>.</summary>
    public PrincipalKind Kind { get; init; }

    /// <summary>For a per-host agent token, the only host id it may report for; null for a fleet token and non-agents.</summary>
    public string? HostId { get; init; }

    /// <summary>
    /// Records the principal on the request: <c>HttpContext.Items</c> (see <see cref="Of"/>) and <c>HttpContext.User</c>
    /// (name and role claims, authentication type <c>Monitor</c>), so <c>User.Identity.Name</c> names the caller.
    /// </summary>
    public void AttachTo(Microsoft.AspNetCore.Http.HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Items[typeof(MonitorPrincipal)] = this;
        context.User = new System.Security.Claims.ClaimsPrincipal(new System.Security.Claims.ClaimsIdentity(
        [
            new System.Security.Claims.Claim(System.Security.Claims.ClaimTypes.Name, Name),
            new System.Security.Claims.Claim(System.Security.Claims.ClaimTypes.Role, Role.ToString()),
        ], "Monitor"));
    }

    /// <summary>The principal of the current HTTP or gRPC request, if any.</summary>
    public static MonitorPrincipal? Of(Microsoft.AspNetCore.Http.HttpContext context) =>
        context?.Items.TryGetValue(typeof(MonitorPrincipal), out var value) == true ? value as MonitorPrincipal : null;
}

/// <summary>Turns a credential (the <c>Authorization</c> header value) into a principal.</summary>
public interface IMonitorAuthenticator
{
    /// <summary>Authenticates; returns null when the credential is missing or invalid.</summary>
    ValueTask<MonitorPrincipal?> AuthenticateAsync(string? authorization, CancellationToken cancellationToken);
}

/// <summary>
/// The authenticator in force until the access-control issue lands: every caller, with or
/// without a credential, is an anonymous administrator. Replace it by registering another
/// <see cref="IMonitorAuthenticator"/>.
/// </summary>
public sealed class AllowAnonymousAuthenticator : IMonitorAuthenticator
{
    private static readonly MonitorPrincipal Anonymous = new("anonymous", MonitorRole.Admin);

    /// <inheritdoc />
    public ValueTask<MonitorPrincipal?> AuthenticateAsync(string? authorization, CancellationToken cancellationToken) =>
        ValueTask.FromResult<MonitorPrincipal?>(Anonymous);
}

/// <summary>Outcome of an authorization check.</summary>
public enum AuthDecision
{
    /// <summary>The call may proceed.</summary>
    Allowed,
    /// <summary>No or an invalid credential (HTTP 401, gRPC Unauthenticated).</summary>
    Unauthenticated,
    /// <summary>Valid credential, insufficient role (HTTP 403, gRPC PermissionDenied).</summary>
    Forbidden,
}

/// <summary>What an endpoint asks of its callers.</summary>
/// <param name="Role">The least role.</param>
/// <param name="Agent">Agent tokens (or an admin) only.</param>
/// <param name="Legacy">An original-system endpoint (anonymous callers allowed when configured).</param>
public readonly record struct AuthRequirement(MonitorRole Role, bool Agent, bool Legacy)
{
    /// <summary>Reads the requirement from endpoint metadata; <paramref name="route"/> is the HTTP path or gRPC method path.</summary>
    public static AuthRequirement From(Microsoft.AspNetCore.Http.EndpointMetadataCollection? metadata, string route, bool grpc)
    {
        var role = metadata?.GetMetadata<RequireRoleAttribute>()?.Role ?? MonitorAuthorizer.DefaultRole;
        var agent = metadata?.GetMetadata<RequireAgentAttribute>() is not null;
        var legacy = metadata?.GetMetadata<LegacyEndpointAttribute>() is not null || IsLegacyRoute(route, grpc);
        return new AuthRequirement(role, agent, legacy);
    }

    /// <summary>Routes of the original system: HTTP outside <c>/api/</c>, gRPC outside <c>monitor.*</c> and <c>grpc.*</c>.</summary>
    public static bool IsLegacyRoute(string route, bool grpc)
    {
        ArgumentNullException.ThrowIfNull(route);
        return grpc
            ? !route.StartsWith("/monitor.", StringComparison.Ordinal) && !route.StartsWith("/grpc.", StringComparison.Ordinal)
            : !route.StartsWith("/api/", StringComparison.Ordinal);
    }
}

/// <summary>The one decision both the HTTP middleware and the gRPC interceptor use.</summary>
/// <param name="authenticator">Turns credentials into principals.</param>
/// <param name="options">Access-control settings (<c>Auth:AllowAnonymousLegacy</c>).</param>
public sealed class MonitorAuthorizer(IMonitorAuthenticator authenticator, Microsoft.Extensions.Options.IOptions<AuthOptions> options)
{
    /// <summary>The role an endpoint needs when it declares none.</summary>
    public const MonitorRole DefaultRole = MonitorRole.Viewer;

    private static readonly MonitorPrincipal LegacyAnonymous = new("anonymous-legacy", MonitorRole.Admin);
    private readonly bool _allowAnonymousLegacy = options?.Value.AllowAnonymousLegacy ?? false;

    /// <summary>Decides whether a caller with <paramref name="credential"/> may call an endpoint needing <paramref name="required"/>.</summary>
    public ValueTask<(AuthDecision Decision, MonitorPrincipal? Principal)> AuthorizeAsync(
        string? credential, MonitorRole required, CancellationToken cancellationToken) =>
        AuthorizeAsync(credential, new AuthRequirement(required, Agent: false, Legacy: false), cancellationToken);

    /// <summary>Decides whether a caller with <paramref name="credential"/> may call an endpoint with <paramref name="requirement"/>.</summary>
    public async ValueTask<(AuthDecision Decision, MonitorPrincipal? Principal)> AuthorizeAsync(
        string? credential, AuthRequirement requirement, CancellationToken cancellationToken)
    {
        if (requirement.Role == MonitorRole.Anonymous && !requirement.Agent)
        {
            return (AuthDecision.Allowed, null);
        }
        if (string.IsNullOrWhiteSpace(credential) && requirement.Legacy && _allowAnonymousLegacy)
        {
            return (AuthDecision.Allowed, LegacyAnonymous);
        }
        var principal = await authenticator.AuthenticateAsync(credential, cancellationToken).ConfigureAwait(false);
        if (principal is null)
        {
            return (AuthDecision.Unauthenticated, null);
        }
        if (requirement.Agent)
        {
            return principal.Kind == PrincipalKind.Agent || principal.Role == MonitorRole.Admin
                ? (AuthDecision.Allowed, principal) : (AuthDecision.Forbidden, principal);
        }
        return principal.Role >= requirement.Role ? (AuthDecision.Allowed, principal) : (AuthDecision.Forbidden, principal);
    }
}
