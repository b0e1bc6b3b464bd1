using System.Net;
using System.Text.Json;
using Grpc.Core;
using Grpc.Net.Client;
using Monitor.Protos.V1;
using Monitor.TestUtilities;
using MySqlConnector;
using Xunit;

namespace Monitor.IntegrationTests.Access;

/// <summary>Roles, tokens, revocation, expiry and legacy endpoints on the manage, analyze and report services.</summary>
[Collection(AccessCollection.Name)]
public sealed class AccessControlTests(AccessFixture fixture)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Manage_NoToken_401_ViewerWrite_403_EditorWrite_201()
    {
        var viewer = await fixture.CreateTokenAsync(new { name = "viewer-" + Guid.NewGuid().ToString("N")[..6], role = "viewer" }, Ct);
        var editor = await fixture.CreateTokenAsync(new { name = "editor-" + Guid.NewGuid().ToString("N")[..6], role = "editor" }, Ct);
        var hosts = fixture.ManageHttp + "/api/v1/manage/hosts";
        var host = new { hostId = "access-" + Guid.NewGuid().ToString("N")[..8], location = "lab" };

        using (var none = await AccessFixture.SendAsync(HttpMethod.Get, hosts, null, null, Ct))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
            Assert.Equal("application/problem+json", none.Content.Headers.ContentType?.MediaType);
        }
        using (var garbage = await AccessFixture.SendAsync(HttpMethod.Get, hosts, "mon_not-a-real-token", null, Ct))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, garbage.StatusCode);
        }
        using (var read = await AccessFixture.SendAsync(HttpMethod.Get, hosts, viewer, null, Ct))
        {
            Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        }
        using (var write = await AccessFixture.SendAsync(HttpMethod.Post, hosts, viewer, host, Ct))
        {
            Assert.Equal(HttpStatusCode.Forbidden, write.StatusCode);
        }
        using (var write = await AccessFixture.SendAsync(HttpMethod.Post, hosts, editor, host, Ct))
        {
            Assert.Equal(HttpStatusCode.Created, write.StatusCode);
        }
    }

    [Fact]
    public async Task Manage_EditorManagingUsersOrTokens_403_AdminCreatesUser_201()
    {
        var editor = await fixture.CreateTokenAsync(new { name = "editor-u-" + Guid.NewGuid().ToString("N")[..6], role = "editor" }, Ct);
        var password = "user-pw-" + Guid.NewGuid().ToString("N");
        fixture.Secrets.Add(password);
        var user = new { name = "alice-" + Guid.NewGuid().ToString("N")[..6], password, role = "viewer" };
        var users = fixture.ManageHttp + "/api/v1/manage/users";

        using (var r = await AccessFixture.SendAsync(HttpMethod.Post, users, editor, user, Ct))
        {
            Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
        }
        using (var r = await AccessFixture.SendAsync(HttpMethod.Get, fixture.ManageHttp + "/api/v1/manage/tokens", editor, null, Ct))
        {
            Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
        }
        using (var r = await AccessFixture.SendAsync(HttpMethod.Get, fixture.ManageHttp + "/api/v1/manage/audit", editor, null, Ct))
        {
            Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
        }
        using (var r = await AccessFixture.SendAsync(HttpMethod.Post, users, fixture.AdminToken, user, Ct))
        {
            Assert.Equal(HttpStatusCode.Created, r.StatusCode);
            var body = JsonDocument.Parse(await r.Content.ReadAsStringAsync(Ct)).RootElement;
            Assert.Equal("viewer", body.GetProperty("role").GetString());
            Assert.False(body.TryGetProperty("password", out _));
            Assert.False(body.TryGetProperty("passwordHash", out _));
        }
    }

    [Fact]
    public async Task Manage_Grpc_NoToken_Unauthenticated_Viewer_Reads_ViewerWrite_PermissionDenied()
    {
        var viewer = await fixture.CreateTokenAsync(new { name = "grpc-viewer-" + Guid.NewGuid().ToString("N")[..6], role = "viewer" }, Ct);
        using var channel = GrpcChannel.ForAddress(fixture.ManageGrpc);
        var client = new ManageService.ManageServiceClient(channel);
        var anonymous = await Assert.ThrowsAsync<RpcException>(async () => await client.ListHostsAsync(new ListHostsRequest(), cancellationToken: Ct));
        Assert.Equal(StatusCode.Unauthenticated, anonymous.StatusCode);

        var headers = new Metadata { { "authorization", "Bearer " + viewer } };
        await client.ListHostsAsync(new ListHostsRequest(), headers, cancellationToken: Ct);
        var write = await Assert.ThrowsAsync<RpcException>(async () => await client.CreateHostAsync(
            new CreateHostRequest { HostId = "grpc-" + Guid.NewGuid().ToString("N")[..8] }, headers, cancellationToken: Ct));
        Assert.Equal(StatusCode.PermissionDenied, write.StatusCode);
    }

    [Fact]
    public async Task Analyze_NoToken_401_Viewer_200_ThroughManageValidation()
    {
        var viewer = await fixture.CreateTokenAsync(new { name = "an-viewer-" + Guid.NewGuid().ToString("N")[..6], role = "viewer" }, Ct);
        var url = fixture.AnalyzeHttp + "/api/v1/analyze/hosts/some-host/metrics";
        using (var none = await AccessFixture.SendAsync(HttpMethod.Get, url, null, null, Ct))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        }
        using (var ok = await AccessFixture.SendAsync(HttpMethod.Get, url, viewer, null, Ct))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }
        // The analyze service calls the manage service's gRPC API with its own service token (Auth:ServiceToken).
        // A location query needs the location's hosts from the manage service: 503 if that call were refused.
        using (var write = new StringContent($"cpu_rate,host_id=access-h value=1 {TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds()}"))
        {
            using var http = new HttpClient();
            using var written = await http.PostAsync($"{StackEnvironment.Influx}/write?db={fixture.Influx.Name}&precision=ms", write, Ct);
            Assert.True(written.IsSuccessStatusCode);
        }
        var locationUrl = fixture.AnalyzeHttp + "/api/v1/analyze/locations/lab/metrics/cpu_rate/series";
        await Poll.UntilAsync(async () =>
        {
            using var location = await AccessFixture.SendAsync(HttpMethod.Get, locationUrl, viewer, null, Ct);
            Assert.True(location.StatusCode != HttpStatusCode.ServiceUnavailable, await location.Content.ReadAsStringAsync(Ct));
            return location.StatusCode is HttpStatusCode.OK or HttpStatusCode.NotFound;
        }, TimeSpan.FromSeconds(15), "a location query through the manage service", Ct);
    }

    [Fact]
    public async Task RevokedToken_RejectedByManageAndAnalyze_BeforeTheCacheExpires()
    {
        var (id, token) = await fixture.CreateTokenWithIdAsync(new { name = "revoke-me-" + Guid.NewGuid().ToString("N")[..6], role = "viewer" }, Ct);
        var analyzeUrl = fixture.AnalyzeHttp + "/api/v1/analyze/hosts/some-host/metrics";
        var manageUrl = fixture.ManageHttp + "/api/v1/manage/hosts";
        using (var before = await AccessFixture.SendAsync(HttpMethod.Get, analyzeUrl, token, null, Ct))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode); // now cached by analyze for 30 s
        }
        using (var before = await AccessFixture.SendAsync(HttpMethod.Get, manageUrl, token, null, Ct))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }
        using (var revoke = await AccessFixture.SendAsync(HttpMethod.Delete, $"{fixture.ManageHttp}/api/v1/manage/tokens/{id}", fixture.AdminToken, null, Ct))
        {
            Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
        }
        using (var after = await AccessFixture.SendAsync(HttpMethod.Get, manageUrl, token, null, Ct))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
        }
        // The etcd announcement empties analyze's cache: well within the 30 s the cache would otherwise keep it.
        await Poll.UntilAsync(async () =>
        {
            using var r = await AccessFixture.SendAsync(HttpMethod.Get, analyzeUrl, token, null, Ct);
            return r.StatusCode == HttpStatusCode.Unauthorized;
        }, TimeSpan.FromSeconds(10), "analyze to reject the revoked token", Ct);
    }

    [Fact]
    public async Task ExpiredToken_Rejected()
    {
        var (id, token) = await fixture.CreateTokenWithIdAsync(new
        {
            name = "expiring-" + Guid.NewGuid().ToString("N")[..6],
            role = "admin",
            expiresAt = TimeProvider.System.GetUtcNow().AddDays(1),
        }, Ct);
        // Move the expiry into the past directly in the database (the API refuses past expiries), before first use.
        await using (var connection = new MySqlConnection(fixture.ConnectionString))
        {
            await connection.OpenAsync(Ct);
            await using var command = connection.CreateCommand();
            command.CommandText = "UPDATE access_tokens SET expires_at = UTC_TIMESTAMP(6) - INTERVAL 1 MINUTE WHERE id = @id";
            command.Parameters.AddWithValue("@id", id);
            Assert.Equal(1, await command.ExecuteNonQueryAsync(Ct));
        }
        using var response = await AccessFixture.SendAsync(HttpMethod.Get, fixture.ManageHttp + "/api/v1/manage/hosts", token, null, Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        using var onAnalyze = await AccessFixture.SendAsync(HttpMethod.Get, fixture.AnalyzeHttp + "/api/v1/analyze/hosts/h/metrics", token, null, Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, onAnalyze.StatusCode);
    }

    [Fact]
    public async Task LegacyEndpoints_WithoutCredentials_401_WhenNotAllowed()
    {
        using var legacy = await AccessFixture.SendAsync(HttpMethod.Get, fixture.ManageHttp + "/host", null, null, Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, legacy.StatusCode);
        using var channel = GrpcChannel.ForAddress(fixture.ReportGrpc);
        var client = new Monitor.Protos.Legacy.Report.ReportClient(channel);
        var ex = await Assert.ThrowsAsync<RpcException>(async () => await client.ReportAsync(
            new Monitor.Protos.Legacy.reportReq { HostID = "legacy-host", TimeStamp = 1 }, cancellationToken: Ct));
        Assert.Equal(StatusCode.Unauthenticated, ex.StatusCode);
    }

    [Fact]
    public async Task Health_And_Metrics_StayAnonymous()
    {
        using var live = await AccessFixture.SendAsync(HttpMethod.Get, fixture.ManageHttp + "/health/live", null, null, Ct);
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        using var metrics = await AccessFixture.SendAsync(HttpMethod.Get, fixture.ReportHttp + "/metrics", null, null, Ct);
        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
    }
}
