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

/// <summary>An authenticated caller.</summary>
/// <param name="Name">User, token or agent name (never the secret itself).</param>
/// <param name="Role">The caller's role.</param>
public sealed record MonitorPrincipal(string Name, MonitorRole Role);

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

/// <summary>The one decision both the HTTP middleware and the gRPC interceptor use.</summary>
public sealed class MonitorAuthorizer(IMonitorAuthenticator authenticator)
{
    /// <summary>The role an endpoint needs when it declares none.</summary>
    public const MonitorRole DefaultRole = MonitorRole.Viewer;

    /// <summary>Decides whether a caller with <paramref name="authorization"/> may call an endpoint needing <paramref name="required"/>.</summary>
    public async ValueTask<(AuthDecision Decision, MonitorPrincipal? Principal)> AuthorizeAsync(
        string? authorization, MonitorRole required, CancellationToken cancellationToken)
    {
        if (required == MonitorRole.Anonymous)
        {
            return (AuthDecision.Allowed, null);
        }
        var principal = await authenticator.AuthenticateAsync(authorization, cancellationToken).ConfigureAwait(false);
        if (principal is null)
        {
            return (AuthDecision.Unauthenticated, null);
        }
        return principal.Role >= required ? (AuthDecision.Allowed, principal) : (AuthDecision.Forbidden, principal);
    }
}
