using Microsoft.Extensions.Time.Testing;
using Monitor.ManageService.Access;
using Monitor.ServiceDefaults.Auth;
using Xunit;

namespace Monitor.ManageService.UnitTests;

public sealed class AccessUnitTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Password_HashVerifies_WrongPasswordDoesNot_SaltDiffers()
    {
        var a = Secrets.HashPassword("correct horse battery", 100_000);
        var b = Secrets.HashPassword("correct horse battery", 100_000);
        Assert.StartsWith("pbkdf2-sha256$100000$", a, StringComparison.Ordinal);
        Assert.NotEqual(a, b);
        Assert.True(Secrets.VerifyPassword("correct horse battery", a));
        Assert.False(Secrets.VerifyPassword("correct horse batterY", a));
        Assert.False(Secrets.VerifyPassword("x", "not-a-hash"));
    }

    [Fact]
    public void Tokens_AreRandom_Prefixed_AndStoredAsSha256()
    {
        var t1 = Secrets.NewToken(Secrets.ApiTokenPrefix);
        var t2 = Secrets.NewToken(Secrets.ApiTokenPrefix);
        Assert.StartsWith("mon_", t1, StringComparison.Ordinal);
        Assert.NotEqual(t1, t2);
        Assert.Equal(4 + 43, t1.Length); // 32 bytes, base64url without padding
        Assert.Equal(64, MonitorCredentials.Hash(t1).Length);
        Assert.DoesNotContain(t1, MonitorCredentials.Hash(t1), StringComparison.Ordinal);
    }

    [Fact]
    public void LoginThrottle_PerUserAndPerAddress_ResetsAfterTheWindow()
    {
        var time = new FakeTimeProvider(T0);
        var throttle = new LoginThrottle(Microsoft.Extensions.Options.Options.Create(new AccessOptions { MaxFailedLoginsPerUser = 2, MaxFailedLoginsPerAddress = 3, LoginWindow = TimeSpan.FromMinutes(5) }), time);
        throttle.Failed("alice", "10.0.0.1");
        Assert.False(throttle.IsThrottled("alice", "10.0.0.9"));
        throttle.Failed("ALICE", "10.0.0.2");
        Assert.True(throttle.IsThrottled("alice", "10.0.0.9"));
        Assert.False(throttle.IsThrottled("bob", "10.0.0.9"));

        throttle.Failed("carol", "10.0.0.9");
        throttle.Failed("dave", "10.0.0.9");
        throttle.Failed("erin", "10.0.0.9");
        Assert.True(throttle.IsThrottled("frank", "10.0.0.9"));

        time.Advance(TimeSpan.FromMinutes(5));
        Assert.False(throttle.IsThrottled("alice", "10.0.0.9"));
    }

    [Fact]
    public void LoginThrottle_SuccessClearsTheUsersCount()
    {
        var throttle = new LoginThrottle(Microsoft.Extensions.Options.Options.Create(new AccessOptions { MaxFailedLoginsPerUser = 2 }), new FakeTimeProvider(T0));
        throttle.Failed("alice", "a");
        throttle.Succeeded("alice");
        throttle.Failed("alice", "a");
        Assert.False(throttle.IsThrottled("alice", "b"));
    }

    [Theory]
    [InlineData(null, MonitorRole.Viewer, false, false, AuthDecision.Unauthenticated)]
    [InlineData("viewer", MonitorRole.Viewer, false, false, AuthDecision.Allowed)]
    [InlineData("viewer", MonitorRole.Editor, false, false, AuthDecision.Forbidden)]
    [InlineData("editor", MonitorRole.Admin, false, false, AuthDecision.Forbidden)]
    [InlineData("admin", MonitorRole.Admin, false, false, AuthDecision.Allowed)]
    [InlineData("agent", MonitorRole.Viewer, false, false, AuthDecision.Forbidden)]
    [InlineData("agent", MonitorRole.Anonymous, true, false, AuthDecision.Allowed)]
    [InlineData("viewer", MonitorRole.Anonymous, true, false, AuthDecision.Forbidden)]
    [InlineData("admin", MonitorRole.Anonymous, true, false, AuthDecision.Allowed)]
    [InlineData(null, MonitorRole.Anonymous, true, false, AuthDecision.Unauthenticated)]
    [InlineData(null, MonitorRole.Anonymous, false, false, AuthDecision.Allowed)]
    [InlineData(null, MonitorRole.Editor, false, true, AuthDecision.Unauthenticated)]
    public async Task Authorizer_Decides(string? who, MonitorRole required, bool agent, bool legacy, AuthDecision expected)
    {
        var authorizer = new MonitorAuthorizer(new FixedAuthenticator(), Microsoft.Extensions.Options.Options.Create(new AuthOptions { AllowAnonymousLegacy = false }));
        var (decision, _) = await authorizer.AuthorizeAsync(who is null ? null : "Bearer " + who, new AuthRequirement(required, agent, legacy), TestContext.Current.CancellationToken);
        Assert.Equal(expected, decision);
    }

    [Fact]
    public async Task Authorizer_LegacyAnonymous_OnlyWhenAllowed()
    {
        var allowed = new MonitorAuthorizer(new FixedAuthenticator(), Microsoft.Extensions.Options.Options.Create(new AuthOptions { AllowAnonymousLegacy = true }));
        var ct = TestContext.Current.CancellationToken;
        Assert.Equal(AuthDecision.Allowed, (await allowed.AuthorizeAsync(null, new AuthRequirement(MonitorRole.Editor, false, Legacy: true), ct)).Decision);
        Assert.Equal(AuthDecision.Allowed, (await allowed.AuthorizeAsync(null, new AuthRequirement(MonitorRole.Anonymous, Agent: true, Legacy: true), ct)).Decision);
        Assert.Equal(AuthDecision.Unauthenticated, (await allowed.AuthorizeAsync(null, new AuthRequirement(MonitorRole.Viewer, false, Legacy: false), ct)).Decision);
        // A credential on a legacy endpoint is still checked.
        Assert.Equal(AuthDecision.Forbidden, (await allowed.AuthorizeAsync("Bearer viewer", new AuthRequirement(MonitorRole.Editor, false, Legacy: true), ct)).Decision);
    }

    [Theory]
    [InlineData("/api/v1/manage/hosts", false, false)]
    [InlineData("/host", false, true)]
    [InlineData("/analysis/data", false, true)]
    [InlineData("/monitor.v1.ReportService/Report", true, false)]
    [InlineData("/grpc.health.v1.Health/Check", true, false)]
    [InlineData("/proto.Report/Report", true, true)]
    public void LegacyRoutes(string route, bool grpc, bool legacy) => Assert.Equal(legacy, AuthRequirement.IsLegacyRoute(route, grpc));

    [Fact]
    public async Task CachingAuthenticator_CachesForTheDuration_ClearDropsAtOnce()
    {
        var time = new FakeTimeProvider(T0);
        var validator = new CountingValidator();
        var cache = new CachingAuthenticator(validator, Microsoft.Extensions.Options.Options.Create(new AuthOptions { CacheDuration = TimeSpan.FromSeconds(5) }), time);
        var ct = TestContext.Current.CancellationToken;
        Assert.NotNull(await cache.AuthenticateAsync("Bearer a", ct));
        Assert.NotNull(await cache.AuthenticateAsync("Bearer a", ct));
        Assert.Equal(1, validator.Calls);
        validator.Revoked = true;
        Assert.NotNull(await cache.AuthenticateAsync("Bearer a", ct)); // still cached
        cache.Clear();
        Assert.Null(await cache.AuthenticateAsync("Bearer a", ct));
        Assert.Equal(2, validator.Calls);
        validator.Revoked = false;
        time.Advance(TimeSpan.FromSeconds(5));
        Assert.NotNull(await cache.AuthenticateAsync("Bearer a", ct));
        Assert.Null(await cache.AuthenticateAsync("", ct));
        Assert.Null(await cache.AuthenticateAsync("garbage", ct));
        Assert.Equal(3, validator.Calls);
    }

    [Fact]
    public void Identity_RoundTrips_AgentHost()
    {
        var principal = new MonitorPrincipal("agent:a", MonitorRole.Anonymous) { Kind = PrincipalKind.Agent, HostId = "h1" };
        var back = IdentityResponse.From(principal).ToPrincipal();
        Assert.Equal(principal, back);
        Assert.Equal("viewer", IdentityResponse.RoleName(MonitorRole.Viewer));
        Assert.Null(IdentityResponse.ParseRole("root"));
    }

    private sealed class FixedAuthenticator : IMonitorAuthenticator
    {
        public ValueTask<MonitorPrincipal?> AuthenticateAsync(string? authorization, CancellationToken cancellationToken) =>
            ValueTask.FromResult<MonitorPrincipal?>(authorization switch
            {
                "Bearer viewer" => new("v", MonitorRole.Viewer) { Kind = PrincipalKind.ApiToken },
                "Bearer editor" => new("e", MonitorRole.Editor) { Kind = PrincipalKind.ApiToken },
                "Bearer admin" => new("a", MonitorRole.Admin) { Kind = PrincipalKind.User },
                "Bearer agent" => new("agent", MonitorRole.Anonymous) { Kind = PrincipalKind.Agent },
                _ => null,
            });
    }

    private sealed class CountingValidator : ICredentialValidator
    {
        public int Calls;
        public bool Revoked;

        public ValueTask<MonitorPrincipal?> ValidateAsync(string credential, CancellationToken cancellationToken)
        {
            Calls++;
            return ValueTask.FromResult(Revoked ? null : new MonitorPrincipal("x", MonitorRole.Viewer));
        }
    }
}
