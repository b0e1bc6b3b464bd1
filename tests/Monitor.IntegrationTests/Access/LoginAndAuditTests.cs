using System.Net;
using System.Text.Json;
using Xunit;

namespace Monitor.IntegrationTests.Access;

/// <summary>Console login (session cookie, throttling, logout), the audit log, and secrets kept out of logs and answers.</summary>
[Collection(AccessCollection.Name)]
public sealed class LoginAndAuditTests(AccessFixture fixture)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Login_SetsHttpOnlyStrictCookie_AcceptedByOtherServices_LogoutEndsIt()
    {
        var (name, password) = await CreateUserAsync("editor");
        using (var bad = await fixture.PostLoginAsync(name, password + "x", Ct))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, bad.StatusCode);
            Assert.Equal("application/problem+json", bad.Content.Headers.ContentType?.MediaType);
        }
        using (var response = await fixture.PostLoginAsync(name, password, Ct))
        {
            Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
            var cookie = response.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("monitor_session=", StringComparison.Ordinal));
            Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
            fixture.Secrets.Add(cookie["monitor_session=".Length..cookie.IndexOf(';', StringComparison.Ordinal)]);
        }
        var session = await fixture.LoginAsync(name, password, Ct);

        using (var me = await AccessFixture.SendAsync(HttpMethod.Get, fixture.ManageHttp + "/api/v1/manage/auth/me", null, null, Ct, session))
        {
            Assert.Equal(HttpStatusCode.OK, me.StatusCode);
            var body = JsonDocument.Parse(await me.Content.ReadAsStringAsync(Ct)).RootElement;
            Assert.Equal(name, body.GetProperty("name").GetString());
            Assert.Equal("editor", body.GetProperty("role").GetString());
        }
        using (var onAnalyze = await AccessFixture.SendAsync(HttpMethod.Get, fixture.AnalyzeHttp + "/api/v1/analyze/hosts/h/metrics", null, null, Ct, session))
        {
            Assert.Equal(HttpStatusCode.OK, onAnalyze.StatusCode);
        }
        using (var logout = await AccessFixture.SendAsync(HttpMethod.Post, fixture.ManageHttp + "/api/v1/manage/auth/logout", null, null, Ct, session))
        {
            Assert.Equal(HttpStatusCode.NoContent, logout.StatusCode);
        }
        using (var me = await AccessFixture.SendAsync(HttpMethod.Get, fixture.ManageHttp + "/api/v1/manage/auth/me", null, null, Ct, session))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, me.StatusCode);
        }
    }

    [Fact]
    public async Task Login_RepeatedFailures_Throttled_EvenWithTheRightPassword()
    {
        var (name, password) = await CreateUserAsync("viewer");
        for (var i = 0; i < 3; i++) // Auth:MaxFailedLoginsPerUser = 3 in the fixture
        {
            using var bad = await fixture.PostLoginAsync(name, "wrong-password-" + i, Ct);
            Assert.Equal(HttpStatusCode.Unauthorized, bad.StatusCode);
        }
        using var throttled = await fixture.PostLoginAsync(name, password, Ct);
        Assert.Equal(HttpStatusCode.TooManyRequests, throttled.StatusCode);
    }

    [Fact]
    public async Task Audit_RecordsActorBeforeAfter_WithoutSecrets()
    {
        var (name, _) = await CreateUserAsync("viewer");
        using (var patch = await AccessFixture.SendAsync(HttpMethod.Patch, $"{fixture.ManageHttp}/api/v1/manage/users/{name}", fixture.AdminToken,
            new { role = "editor", password = "changed-password-" + Guid.NewGuid().ToString("N") }, Ct))
        {
            Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
        }
        using var audit = await AccessFixture.SendAsync(HttpMethod.Get, $"{fixture.ManageHttp}/api/v1/manage/audit?entityType=user&entityId={name}", fixture.AdminToken, null, Ct);
        Assert.Equal(HttpStatusCode.OK, audit.StatusCode);
        var entries = JsonDocument.Parse(await audit.Content.ReadAsStringAsync(Ct)).RootElement;
        var update = entries.EnumerateArray().First(e => e.GetProperty("action").GetString() == "update");
        Assert.Equal("token:fixture-admin", update.GetProperty("actor").GetString());
        Assert.Equal("viewer", update.GetProperty("before").GetProperty("role").GetString());
        Assert.Equal("editor", update.GetProperty("after").GetProperty("role").GetString());
        Assert.True(update.GetProperty("after").GetProperty("passwordChanged").GetBoolean());
        Assert.Contains(entries.EnumerateArray(), e => e.GetProperty("action").GetString() == "create");
    }

    [Fact]
    public async Task Secrets_NeverInLogsOrListings()
    {
        // Exercise a few paths that handle secrets first (failed login with a real token as password, bad bearer).
        var token = await fixture.CreateTokenAsync(new { name = "scan-" + Guid.NewGuid().ToString("N")[..6], role = "viewer" }, Ct);
        using (var r = await fixture.PostLoginAsync(AccessFixture.AdminName + "-nobody", token, Ct))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
        }
        using (var r = await AccessFixture.SendAsync(HttpMethod.Get, fixture.AnalyzeHttp + "/api/v1/analyze/hosts/h/metrics", token + "x", null, Ct))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
        }
        var listings = new List<string>();
        foreach (var path in new[] { "/api/v1/manage/tokens", "/api/v1/manage/users", "/api/v1/manage/audit?limit=1000" })
        {
            using var r = await AccessFixture.SendAsync(HttpMethod.Get, fixture.ManageHttp + path, fixture.AdminToken, null, Ct);
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            listings.Add(await r.Content.ReadAsStringAsync(Ct));
        }
        var secrets = fixture.Secrets.ToList();
        Assert.True(secrets.Count >= 4, "the fixture handed out secrets to look for");
        foreach (var process in fixture.Processes)
        {
            var log = await ReadSharedAsync(process.LogPath);
            Assert.False(string.IsNullOrWhiteSpace(log), $"{process.Name} wrote a log");
            foreach (var secret in secrets)
            {
                Assert.False(log.Contains(secret, StringComparison.Ordinal), $"a secret appears in the log of {process.Name}");
            }
        }
        foreach (var listing in listings)
        {
            foreach (var secret in secrets)
            {
                Assert.False(listing.Contains(secret, StringComparison.Ordinal), "a secret appears in an API answer");
            }
            Assert.DoesNotContain("pbkdf2", listing, StringComparison.Ordinal);
        }
    }

    private async Task<(string Name, string Password)> CreateUserAsync(string role)
    {
        var name = "user-" + Guid.NewGuid().ToString("N")[..8];
        var password = "password-" + Guid.NewGuid().ToString("N");
        fixture.Secrets.Add(password);
        using var r = await AccessFixture.SendAsync(HttpMethod.Post, fixture.ManageHttp + "/api/v1/manage/users", fixture.AdminToken, new { name, password, role }, Ct);
        Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        return (name, password);
    }

    private static async Task<string> ReadSharedAsync(string path)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        return await reader.ReadToEndAsync();
    }
}
