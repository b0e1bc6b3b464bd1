using System.Text.Json;
using Microsoft.Extensions.Options;
using Monitor.ManageService.Http;
using Monitor.ServiceDefaults.Auth;

namespace Monitor.ManageService.Access;

/// <summary>Login/session, users, tokens and the audit log under <c>/api/v1/manage</c> (see docs/access.md).</summary>
internal static class AccessApi
{
    public static IEndpointRouteBuilder MapAccessApi(this IEndpointRouteBuilder app)
    {
        var anonymous = new RequireRoleAttribute(MonitorRole.Anonymous);
        var admin = new RequireRoleAttribute(MonitorRole.Admin);
        var auth = app.MapGroup(ManageApi.Prefix + "/auth").WithTags("access").AddEndpointFilter(TranslateErrors).WithMetadata(anonymous);

        auth.MapPost("/login", async (HttpContext http, AccessStore store, LoginThrottle throttle, IOptions<AccessOptions> options, CancellationToken ct) =>
        {
            var body = await ReadBodyAsync<LoginRequest>(http.Request, ct).ConfigureAwait(false);
            if (string.IsNullOrEmpty(body.Username) || string.IsNullOrEmpty(body.Password))
            {
                throw new AccessException(400, "username and password are required", "username");
            }
            var address = http.Connection.RemoteIpAddress?.ToString() ?? "unknown";
            if (throttle.IsThrottled(body.Username, address))
            {
                http.Response.Headers.RetryAfter = ((int)options.Value.LoginWindow.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
                return Results.Problem("Too many failed logins; try again later.", statusCode: 429, title: "Throttled");
            }
            var result = await store.LoginAsync(body.Username, body.Password, ct).ConfigureAwait(false);
            if (result is not { } ok)
            {
                throttle.Failed(body.Username, address);
                return Results.Problem("Unknown user name or wrong password.", statusCode: 401, title: "Login failed");
            }
            throttle.Succeeded(body.Username);
            http.Response.Cookies.Append(AuthOptions.SessionCookieName, ok.Session, new CookieOptions
            {
                HttpOnly = true,
                SameSite = SameSiteMode.Strict,
                Secure = http.Request.IsHttps || string.Equals(http.Request.Headers["X-Forwarded-Proto"], "https", StringComparison.OrdinalIgnoreCase),
                Path = "/",
                MaxAge = options.Value.SessionLifetime,
            });
            return Results.NoContent();
        }).WithName("Login").WithSummary("Username + password → session cookie monitor_session (204), 401, or 429 when throttled.");

        auth.MapPost("/logout", async (HttpContext http, AccessStore store, CancellationToken ct) =>
        {
            if (http.Request.Cookies.TryGetValue(AuthOptions.SessionCookieName, out var session) && !string.IsNullOrEmpty(session))
            {
                await store.LogoutAsync(session, ct).ConfigureAwait(false);
            }
            http.Response.Cookies.Delete(AuthOptions.SessionCookieName, new CookieOptions { Path = "/", HttpOnly = true, SameSite = SameSiteMode.Strict });
            return Results.NoContent();
        }).WithName("Logout").WithSummary("Ends the session (204).");

        auth.MapGet("/me", async (HttpContext http, IMonitorAuthenticator authenticator, CancellationToken ct) =>
        {
            var principal = await authenticator.AuthenticateAsync(MonitorCredentials.FromRequest(http.Request), ct).ConfigureAwait(false);
            return principal is null
                ? Results.Problem("No valid session or token.", statusCode: 401, title: "Authentication required")
                : Results.Ok(IdentityResponse.From(principal));
        }).WithName("Me").WithSummary("Who the caller is: {name, role, kind, hostId}; 401 without a valid credential. Also used by the other services to validate credentials.");

        var api = app.MapGroup(ManageApi.Prefix).WithTags("access").AddEndpointFilter(TranslateErrors).WithMetadata(admin);

        api.MapGet("/users", async (AccessStore store, CancellationToken ct) =>
            TypedResults.Ok((await store.ListUsersAsync(ct).ConfigureAwait(false)).Select(UserDto.From).ToList()))
            .WithName("ListUsers").WithSummary("Lists users (admin).");

        api.MapPost("/users", async (HttpContext http, AccessStore store, CancellationToken ct) =>
        {
            var body = await ReadBodyAsync<CreateUserRequest>(http.Request, ct).ConfigureAwait(false);
            var user = await store.CreateUserAsync(Actor(http), body.Name, body.Password, body.Role, ct).ConfigureAwait(false);
            return TypedResults.Created($"{ManageApi.Prefix}/users/{Uri.EscapeDataString(user.Name)}", UserDto.From(user));
        }).WithName("CreateUser").WithSummary("Creates a user {name, password, role} (admin).");

        api.MapPatch("/users/{name}", async (HttpContext http, AccessStore store, string name, CancellationToken ct) =>
        {
            var body = await ReadBodyAsync<UpdateUserRequest>(http.Request, ct).ConfigureAwait(false);
            var user = await store.UpdateUserAsync(Actor(http), name, body.Role, body.Enabled, body.Password, ct).ConfigureAwait(false);
            return TypedResults.Ok(UserDto.From(user));
        }).WithName("UpdateUser").WithSummary("Changes a user's role, enabled flag or password; ends their sessions (admin).");

        api.MapDelete("/users/{name}", async (HttpContext http, AccessStore store, string name, CancellationToken ct) =>
        {
            await store.DeleteUserAsync(Actor(http), name, ct).ConfigureAwait(false);
            return TypedResults.NoContent();
        }).WithName("DeleteUser").WithSummary("Deletes a user and ends their sessions (admin).");

        api.MapGet("/tokens", async (AccessStore store, CancellationToken ct) =>
            TypedResults.Ok((await store.ListTokensAsync(ct).ConfigureAwait(false)).Select(TokenDto.From).ToList()))
            .WithName("ListTokens").WithSummary("Lists API and agent tokens, without secrets (admin).");

        api.MapPost("/tokens", async (HttpContext http, AccessStore store, CancellationToken ct) =>
        {
            var body = await ReadBodyAsync<CreateTokenRequest>(http.Request, ct).ConfigureAwait(false);
            var (token, secret) = await store.CreateTokenAsync(Actor(http), body.Name, body.Kind, body.Role, body.HostId, body.ExpiresAt, ct).ConfigureAwait(false);
            return TypedResults.Created($"{ManageApi.Prefix}/tokens/{token.Id}", new CreatedTokenDto(TokenDto.From(token), secret));
        }).WithName("CreateToken").WithSummary("Creates an API token {name, role, expiresAt} or agent token {name, kind: agent, hostId}; the secret is in this answer only (admin).");

        api.MapDelete("/tokens/{id:long}", async (HttpContext http, AccessStore store, long id, CancellationToken ct) =>
            TypedResults.Ok(TokenDto.From(await store.RevokeTokenAsync(Actor(http), id, ct).ConfigureAwait(false))))
            .WithName("RevokeToken").WithSummary("Revokes a token; every service drops it at once through etcd (admin).");

        api.MapGet("/audit", async (AccessStore store, string? entityType, string? entityId, int? limit, CancellationToken ct) =>
        {
            var rows = await store.QueryAuditAsync(entityType, entityId, Math.Clamp(limit ?? 100, 1, 1000), ct).ConfigureAwait(false);
            return TypedResults.Ok(rows.Select(AuditDto.From).ToList());
        }).WithName("QueryAudit").WithSummary("Audit log, newest first, optionally of one entity type/id (admin).");
        return app;
    }

    internal static string Actor(HttpContext http) => MonitorPrincipal.Of(http)?.Name ?? "anonymous";

    private static async Task<T> ReadBodyAsync<T>(HttpRequest request, CancellationToken ct) where T : class
    {
        try
        {
            return await request.ReadFromJsonAsync<T>(ct).ConfigureAwait(false) ?? throw new AccessException(400, "a JSON body is required", "body");
        }
        catch (JsonException)
        {
            throw new AccessException(400, "the body is not valid JSON of the expected shape", "body");
        }
    }

    private static async ValueTask<object?> TranslateErrors(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await next(context).ConfigureAwait(false);
        }
        catch (AccessException ex)
        {
            return ex.Status == 400
                ? TypedResults.ValidationProblem(new Dictionary<string, string[]> { [ex.Field ?? "body"] = [ex.Message] }, detail: ex.Message, title: "Invalid request")
                : TypedResults.Problem(ex.Message, statusCode: ex.Status);
        }
    }
}

internal sealed record LoginRequest(string? Username, string? Password);
internal sealed record CreateUserRequest(string? Name, string? Password, string? Role);
internal sealed record UpdateUserRequest(string? Role, bool? Enabled, string? Password);
internal sealed record CreateTokenRequest(string? Name, string? Kind, string? Role, string? HostId, DateTime? ExpiresAt);

internal sealed record UserDto(string Name, string Role, bool Enabled, DateTime CreatedAt, DateTime? LastLoginAt)
{
    public static UserDto From(UserEntity u) => new(u.Name, u.Role, u.Enabled, u.CreatedAt, u.LastLoginAt);
}

internal sealed record TokenDto(long Id, string Name, string Kind, string Role, string? HostId, string Prefix, string CreatedBy,
    DateTime CreatedAt, DateTime? ExpiresAt, DateTime? RevokedAt, DateTime? LastUsedAt)
{
    public static TokenDto From(TokenEntity t) => new(t.Id, t.Name, t.Kind, t.Role, t.HostId, t.Prefix, t.CreatedBy, t.CreatedAt, t.ExpiresAt, t.RevokedAt, t.LastUsedAt);
}

internal sealed record CreatedTokenDto(TokenDto Token, string Secret);

internal sealed record AuditDto(long Id, DateTime At, string Actor, string Action, string EntityType, string EntityId, JsonElement? Before, JsonElement? After)
{
    public static AuditDto From(AuditEntity a) => new(a.Id, a.At, a.Actor, a.Action, a.EntityType, a.EntityId, Parse(a.Before), Parse(a.After));

    private static JsonElement? Parse(string? json) => json is null ? null : JsonDocument.Parse(json).RootElement.Clone();
}
