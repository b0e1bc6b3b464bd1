using Monitor.ServiceDefaults.Auth;

namespace Monitor.ManageService.Access;

/// <summary>The manage service validates credentials against its own database (the other services ask it over HTTP).</summary>
internal sealed class AccessCredentialValidator(IServiceScopeFactory scopes) : ICredentialValidator
{
    public async ValueTask<MonitorPrincipal?> ValidateAsync(string credential, CancellationToken cancellationToken)
    {
        if (MonitorCredentials.Split(credential) is not { } parts)
        {
            return null;
        }
        await using var scope = scopes.CreateAsyncScope();
        var store = scope.ServiceProvider.GetRequiredService<AccessStore>();
        if (string.Equals(parts.Scheme, "Bearer", StringComparison.OrdinalIgnoreCase))
        {
            return await store.ValidateTokenAsync(parts.Value, cancellationToken).ConfigureAwait(false);
        }
        if (string.Equals(parts.Scheme, "Session", StringComparison.Ordinal))
        {
            return await store.ValidateSessionAsync(parts.Value, cancellationToken).ConfigureAwait(false);
        }
        return null;
    }
}
