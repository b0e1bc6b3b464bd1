using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Monitor.ServiceDefaults.Discovery;

namespace Monitor.ServiceDefaults.Auth;

/// <summary>
/// Validates one credential (<c>Bearer &lt;token&gt;</c> or <c>Session &lt;cookie value&gt;</c>) at its source.
/// The manage service validates against its database; every other service asks the manage service.
/// </summary>
public interface ICredentialValidator
{
    /// <summary>The principal, or null when the credential is unknown, expired, revoked or disabled.</summary>
    ValueTask<MonitorPrincipal?> ValidateAsync(string credential, CancellationToken cancellationToken);
}

/// <summary>Credential helpers shared by the HTTP middleware, the manage service and the tests.</summary>
public static class MonitorCredentials
{
    /// <summary>The credential of an HTTP request: the <c>Authorization</c> header, else the session cookie as <c>Session &lt;value&gt;</c>.</summary>
    public static string? FromRequest(Microsoft.AspNetCore.Http.HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var authorization = request.Headers.Authorization.ToString();
        if (!string.IsNullOrWhiteSpace(authorization))
        {
            return authorization;
        }
        return request.Cookies.TryGetValue(AuthOptions.SessionCookieName, out var session) && !string.IsNullOrEmpty(session)
            ? "Session " + session
            : null;
    }

    /// <summary>SHA-256 of a secret, lower-case hex: what is stored and what cache keys are made of.</summary>
    public static string Hash(string secret) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret ?? "")));

    /// <summary>Splits <c>Scheme value</c>; null when malformed.</summary>
    public static (string Scheme, string Value)? Split(string? credential)
    {
        if (string.IsNullOrWhiteSpace(credential))
        {
            return null;
        }
        var space = credential.IndexOf(' ', StringComparison.Ordinal);
        if (space <= 0 || space == credential.Length - 1)
        {
            return null;
        }
        return (credential[..space], credential[(space + 1)..].Trim());
    }
}

/// <summary>
/// The authenticator when access control is on: asks the <see cref="ICredentialValidator"/> and caches the answer
/// (accepted or rejected) for <c>Auth:CacheDuration</c>, keyed by the credential's hash. <see cref="Clear"/> (called
/// by the revocation watcher) drops everything at once.
/// </summary>
public sealed class CachingAuthenticator(ICredentialValidator validator, IOptions<AuthOptions> options, TimeProvider timeProvider) : IMonitorAuthenticator
{
    private const int MaxEntries = 100_000;
    private readonly ConcurrentDictionary<string, (MonitorPrincipal? Principal, long ExpiresTicks)> _cache = new(StringComparer.Ordinal);
    private readonly TimeSpan _ttl = options.Value.CacheDuration;
    private long _generation;

    /// <inheritdoc />
    public async ValueTask<MonitorPrincipal?> AuthenticateAsync(string? authorization, CancellationToken cancellationToken)
    {
        if (MonitorCredentials.Split(authorization) is null)
        {
            return null;
        }
        var key = MonitorCredentials.Hash(authorization!);
        var now = timeProvider.GetUtcNow().UtcTicks;
        if (_cache.TryGetValue(key, out var entry) && entry.ExpiresTicks > now)
        {
            return entry.Principal;
        }
        var generation = Interlocked.Read(ref _generation);
        var principal = await validator.ValidateAsync(authorization!, cancellationToken).ConfigureAwait(false);
        // A revocation that arrived while validating must not be undone by caching a stale answer.
        if (_ttl > TimeSpan.Zero && generation == Interlocked.Read(ref _generation))
        {
            if (_cache.Count >= MaxEntries)
            {
                _cache.Clear();
            }
            _cache[key] = (principal, now + _ttl.Ticks);
        }
        return principal;
    }

    /// <summary>Drops every cached answer (a revocation was announced).</summary>
    public void Clear()
    {
        Interlocked.Increment(ref _generation);
        _cache.Clear();
    }
}

/// <summary>Asks the manage service (<c>GET {Auth:ManageUrl}/api/v1/manage/auth/me</c>) who a credential belongs to.</summary>
public sealed partial class ManageCredentialValidator(IHttpClientFactory httpClientFactory, IOptions<AuthOptions> options, ILogger<ManageCredentialValidator> logger) : ICredentialValidator
{
    /// <summary>Path of the manage service's identity endpoint.</summary>
    public const string MePath = "/api/v1/manage/auth/me";

    /// <inheritdoc />
    public async ValueTask<MonitorPrincipal?> ValidateAsync(string credential, CancellationToken cancellationToken)
    {
        var baseUrl = options.Value.ManageUrl;
        if (string.IsNullOrWhiteSpace(baseUrl) || MonitorCredentials.Split(credential) is not { } parts)
        {
            return null;
        }
        using var request = new HttpRequestMessage(HttpMethod.Get, baseUrl.TrimEnd('/') + MePath);
        if (string.Equals(parts.Scheme, "Session", StringComparison.OrdinalIgnoreCase))
        {
            request.Headers.Add("Cookie", $"{AuthOptions.SessionCookieName}={parts.Value}");
        }
        else
        {
            request.Headers.Authorization = new AuthenticationHeaderValue(parts.Scheme, parts.Value);
        }
        using var http = httpClientFactory.CreateClient(nameof(ManageCredentialValidator));
        using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
        {
            return null;
        }
        if (!response.IsSuccessStatusCode)
        {
            // An outage of the manage service must not let anyone in: deny (cached only for Auth:CacheDuration).
            Log.ManageFailed(logger, (int)response.StatusCode);
            return null;
        }
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        var me = await JsonSerializer.DeserializeAsync(stream, AuthJsonContext.Default.IdentityResponse, cancellationToken).ConfigureAwait(false);
        return me?.ToPrincipal();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 9001, EventName = "AuthManageFailed", Level = LogLevel.Warning,
            Message = "Credential check at the manage service answered {Status}; the caller is refused")]
        public static partial void ManageFailed(ILogger logger, int status);
    }
}

/// <summary>The manage service's answer to <c>GET /api/v1/manage/auth/me</c>.</summary>
/// <param name="Name">User, token or agent name.</param>
/// <param name="Role"><c>viewer</c>, <c>editor</c>, <c>admin</c> or <c>none</c> (agents).</param>
/// <param name="Kind"><c>user</c>, <c>apiToken</c>, <c>agent</c> or <c>anonymous</c>.</param>
/// <param name="HostId">For a per-host agent token, its host id.</param>
public sealed record IdentityResponse(string Name, string Role, string Kind, string? HostId)
{
    /// <summary>The answer for a principal.</summary>
    public static IdentityResponse From(MonitorPrincipal principal)
    {
        ArgumentNullException.ThrowIfNull(principal);
        return new(principal.Name, RoleName(principal.Role), principal.Kind switch
        {
            PrincipalKind.User => "user",
            PrincipalKind.ApiToken => "apiToken",
            PrincipalKind.Agent => "agent",
            _ => "anonymous",
        }, principal.HostId);
    }

    /// <summary>The principal this answer describes.</summary>
    public MonitorPrincipal ToPrincipal() => new(Name, ParseRole(Role) ?? MonitorRole.Anonymous)
    {
        Kind = Kind switch
        {
            "user" => PrincipalKind.User,
            "apiToken" => PrincipalKind.ApiToken,
            "agent" => PrincipalKind.Agent,
            _ => PrincipalKind.Anonymous,
        },
        HostId = HostId,
    };

    /// <summary>Lower-case role name used in JSON.</summary>
    public static string RoleName(MonitorRole role) => role switch
    {
        MonitorRole.Viewer => "viewer",
        MonitorRole.Editor => "editor",
        MonitorRole.Admin => "admin",
        _ => "none",
    };

    /// <summary>Parses a lower-case role name (viewer, editor, admin).</summary>
    public static MonitorRole? ParseRole(string? role) => role?.ToLowerInvariant() switch
    {
        "viewer" => MonitorRole.Viewer,
        "editor" => MonitorRole.Editor,
        "admin" => MonitorRole.Admin,
        _ => null,
    };
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(IdentityResponse))]
internal sealed partial class AuthJsonContext : JsonSerializerContext;

/// <summary>
/// Watches <c>Auth:RevocationKey</c> in etcd and empties the credential cache whenever it changes (and whenever the
/// watch is re-established, since changes may have been missed). Without etcd, cached answers live at most
/// <c>Auth:CacheDuration</c>.
/// </summary>
internal sealed partial class AuthRevocationWatcher(
    CachingAuthenticator cache,
    IOptions<AuthOptions> authOptions,
    IOptions<EtcdOptions> etcdOptions,
    TimeProvider timeProvider,
    ILogger<AuthRevocationWatcher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!authOptions.Value.Enabled)
        {
            Log.Disabled(logger);
            return;
        }
        var endpoints = etcdOptions.Value.EffectiveEndpoints;
        if (endpoints.Count == 0)
        {
            Log.NoEtcd(logger, authOptions.Value.CacheDuration);
            return;
        }
        var key = ByteString.CopyFromUtf8(authOptions.Value.RevocationKey);
        var index = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            var endpoint = endpoints[index % endpoints.Count];
            try
            {
                using var channel = GrpcChannel.ForAddress(endpoint);
                using var call = new Watch.WatchClient(channel).Watch(cancellationToken: stoppingToken);
                await call.RequestStream.WriteAsync(new WatchRequest { CreateRequest = new WatchCreateRequest { Key = key } }, stoppingToken).ConfigureAwait(false);
                await foreach (var response in call.ResponseStream.ReadAllAsync(stoppingToken).ConfigureAwait(false))
                {
                    if (response.Created)
                    {
                        cache.Clear();
                        Log.Watching(logger, authOptions.Value.RevocationKey, endpoint);
                    }
                    if (response.Canceled)
                    {
                        throw new InvalidOperationException("etcd cancelled the revocation watch");
                    }
                    if (response.Events.Count > 0)
                    {
                        cache.Clear();
                        Log.Revoked(logger);
                    }
                }
                throw new InvalidOperationException("etcd ended the revocation watch");
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex) when (ex is RpcException or InvalidOperationException or HttpRequestException or IOException)
            {
                cache.Clear();
                Log.WatchFailed(logger, endpoint, ex);
                index++;
            }
            try
            {
                await Task.Delay(etcdOptions.Value.RetryDelay, timeProvider, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 9009, EventName = "AuthDisabled", Level = LogLevel.Warning,
            Message = "ACCESS CONTROL IS DISABLED (Auth:Enabled=false): every caller is an anonymous administrator")]
        public static partial void Disabled(ILogger logger);

        [LoggerMessage(EventId = 9010, EventName = "AuthRevocationNoEtcd", Level = LogLevel.Warning,
            Message = "Etcd:Endpoints is empty: revoked credentials stay valid in this service's cache for up to {CacheDuration}")]
        public static partial void NoEtcd(ILogger logger, TimeSpan cacheDuration);

        [LoggerMessage(EventId = 9011, EventName = "AuthRevocationWatching", Level = LogLevel.Information,
            Message = "Watching revocations at {Key} on {Endpoint}")]
        public static partial void Watching(ILogger logger, string key, string endpoint);

        [LoggerMessage(EventId = 9012, EventName = "AuthRevoked", Level = LogLevel.Information,
            Message = "A revocation was announced: the credential cache was emptied")]
        public static partial void Revoked(ILogger logger);

        [LoggerMessage(EventId = 9013, EventName = "AuthRevocationWatchFailed", Level = LogLevel.Warning,
            Message = "The revocation watch on {Endpoint} failed; the credential cache was emptied, reconnecting")]
        public static partial void WatchFailed(ILogger logger, string endpoint, Exception exception);
    }
}

/// <summary>Announces a revocation: bumps <c>Auth:RevocationKey</c> so every service's watcher empties its cache.</summary>
public sealed partial class AuthRevocationPublisher(
    CachingAuthenticator cache,
    IOptions<AuthOptions> authOptions,
    IOptions<EtcdOptions> etcdOptions,
    TimeProvider timeProvider,
    ILogger<AuthRevocationPublisher> logger)
{
    /// <summary>Empties this process's cache and writes the key (best effort: failure is logged, other caches then expire on their own).</summary>
    public async Task PublishAsync(CancellationToken cancellationToken)
    {
        cache.Clear();
        foreach (var endpoint in etcdOptions.Value.EffectiveEndpoints)
        {
            try
            {
                using var channel = GrpcChannel.ForAddress(endpoint);
                await new KV.KVClient(channel).PutAsync(new PutRequest
                {
                    Key = ByteString.CopyFromUtf8(authOptions.Value.RevocationKey),
                    Value = ByteString.CopyFromUtf8(timeProvider.GetUtcNow().ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture)),
                }, cancellationToken: cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (RpcException ex)
            {
                Log.PublishFailed(logger, endpoint, authOptions.Value.CacheDuration, ex);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 9020, EventName = "AuthRevocationPublishFailed", Level = LogLevel.Warning,
            Message = "Could not announce a revocation through etcd at {Endpoint}; other services drop it within {CacheDuration}")]
        public static partial void PublishFailed(ILogger logger, string endpoint, TimeSpan cacheDuration, Exception exception);
    }
}
