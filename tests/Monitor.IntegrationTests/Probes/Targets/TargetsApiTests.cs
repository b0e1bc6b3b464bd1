using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Grpc.Core;
using Monitor.Protos.V1;
using Xunit;

namespace Monitor.IntegrationTests.Probes.Targets;

/// <summary>Target CRUD over HTTP and gRPC against real MariaDB: validation per type, secret masking and protection.</summary>
[Collection(TargetsCollection.Name)]
public sealed class TargetsApiTests(TargetsFixture fx)
{
    private static string NewName(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..24];

    [Fact]
    public async Task Http_CreateGetPatchDelete_RoundTripsWithDefaults()
    {
        var ct = TestContext.Current.CancellationToken;
        var name = NewName("web");

        using var created = await fx.PostAsync(new { name, type = "http", config = new { url = "http://127.0.0.1:1/health", acceptedStatusCodes = new[] { 200, 204 } }, channels = new[] { "ops" } }, ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal($"/api/v1/manage/probes/targets/{name}", created.Headers.Location?.OriginalString);
        var body = await created.Content.ReadFromJsonAsync<JsonElement>(ct);
        Assert.Equal(30_000, body.GetProperty("intervalMs").GetInt64());
        Assert.Equal(5_000, body.GetProperty("timeoutMs").GetInt64());
        Assert.True(body.GetProperty("enabled").GetBoolean());
        Assert.Equal("all", body.GetProperty("assignment").GetProperty("mode").GetString());
        Assert.Equal(1, body.GetProperty("version").GetInt64());

        var got = await fx.GetAsync(name, ct);
        Assert.Equal("http://127.0.0.1:1/health", got.GetProperty("config").GetProperty("url").GetString());
        Assert.Equal("unknown", got.GetProperty("status").GetString());
        Assert.Equal("ops", got.GetProperty("channels")[0].GetString());

        using var paused = await fx.PatchAsync(name, new { enabled = false, intervalMs = 60_000 }, ct);
        Assert.Equal(HttpStatusCode.OK, paused.StatusCode);
        got = await fx.GetAsync(name, ct);
        Assert.False(got.GetProperty("enabled").GetBoolean());
        Assert.Equal("disabled", got.GetProperty("status").GetString());
        Assert.Equal(60_000, got.GetProperty("intervalMs").GetInt64());
        Assert.Equal(2, got.GetProperty("version").GetInt64());
        Assert.Equal("http://127.0.0.1:1/health", got.GetProperty("config").GetProperty("url").GetString());

        using var list = await fx.Http.GetAsync("/api/v1/manage/probes/targets", ct);
        var items = (await list.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("items");
        Assert.Contains(items.EnumerateArray(), t => t.GetProperty("name").GetString() == name);

        using var deleted = await fx.Http.DeleteAsync($"/api/v1/manage/probes/targets/{name}", ct);
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        using var missing = await fx.Http.GetAsync($"/api/v1/manage/probes/targets/{name}", ct);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Theory]
    [InlineData("""{"name":"N","type":"smtp","config":{}}""", "type")]
    [InlineData("""{"name":"N","type":"http","config":{}}""", "config.url")]
    [InlineData("""{"name":"N","type":"http","config":{"url":"ftp://x/"}}""", "config.url")]
    [InlineData("""{"name":"N","type":"http","config":{"url":"http://x/","colour":"red"}}""", "config.colour")]
    [InlineData("""{"name":"N","type":"http","config":{"url":"http://x/","bodyMustMatch":"(unclosed"}}""", "config.bodyMustMatch")]
    [InlineData("""{"name":"N","type":"http","config":{"url":"http://x/","acceptedStatusCodes":[200,999]}}""", "config.acceptedStatusCodes")]
    [InlineData("""{"name":"N","type":"tcp","config":{"host":"db1","port":70000}}""", "config.port")]
    [InlineData("""{"name":"N","type":"tcp","config":{"host":"db1","port":"5432"}}""", "config.port")]
    [InlineData("""{"name":"N","type":"icmp","config":{"host":"db1","count":0}}""", "config.count")]
    [InlineData("""{"name":"N","type":"postgres","config":{"host":"db1"}}""", "config.username")]
    [InlineData("""{"name":"N","type":"redis","config":{"host":"r1","cluster":"yes"}}""", "config.cluster")]
    [InlineData("""{"name":"N","type":"kafka","config":{"bootstrapServers":"k1:9092"}}""", "config.groupId")]
    [InlineData("""{"name":"N","type":"kafka","config":{"bootstrapServers":"k1","groupId":"g"}}""", "config.bootstrapServers")]
    [InlineData("""{"name":"N","type":"tcp","config":{"host":"db1","port":1},"intervalMs":10000,"timeoutMs":10000}""", "timeoutMs")]
    [InlineData("""{"name":"N","type":"tcp","config":{"host":"db1","port":1},"intervalMs":10}""", "intervalMs")]
    [InlineData("""{"name":"N","type":"tcp","config":{"host":"db1","port":1},"assignment":{"mode":"hosts"}}""", "assignment.hostIds")]
    [InlineData("""{"name":"N","type":"tcp","config":{"host":"db1","port":1},"assignment":{"mode":"somewhere"}}""", "assignment.mode")]
    [InlineData("""{"name":"N","type":"tcp","config":[1,2]}""", "config")]
    [InlineData("""{"name":"bad name","type":"tcp","config":{"host":"db1","port":1}}""", "name")]
    public async Task Http_InvalidTarget_Answers400NamingTheField(string json, string field)
    {
        var ct = TestContext.Current.CancellationToken;
        json = json.Replace("\"N\"", $"\"{NewName("bad")}\"", StringComparison.Ordinal);
        using var content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        using var response = await fx.Http.PostAsync("/api/v1/manage/probes/targets", content, ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode}: {text}");
        var problem = JsonDocument.Parse(text).RootElement;
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), $"the problem should name {field}: {text}");
    }

    [Fact]
    public async Task Http_DuplicateName_Answers409()
    {
        var ct = TestContext.Current.CancellationToken;
        var name = NewName("dup");
        using var first = await fx.PostAsync(new { name, type = "icmp", config = new { host = "127.0.0.1" } }, ct);
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        using var second = await fx.PostAsync(new { name, type = "icmp", config = new { host = "127.0.0.1" } }, ct);
        Assert.Equal(HttpStatusCode.Conflict, second.StatusCode);
    }

    [Fact]
    public async Task Secrets_AreMaskedEncryptedAtRestKeptOnMaskAndRevealedOnlyToProbers()
    {
        var ct = TestContext.Current.CancellationToken;
        var name = NewName("pg");
        const string Password = "s3cret-Pa55word";
        const string Token = "Bearer tok-123456";

        using var created = await fx.PostAsync(new { name, type = "postgres", config = new { host = "127.0.0.1", username = "monitor", password = Password } }, ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var createdText = await created.Content.ReadAsStringAsync(ct);
        Assert.DoesNotContain(Password, createdText, StringComparison.Ordinal);
        var got = await fx.GetAsync(name, ct);
        Assert.Equal("***", got.GetProperty("config").GetProperty("password").GetString());

        // At rest: encrypted, not the clear text.
        var stored = await fx.StoredConfigAsync(name, ct);
        Assert.DoesNotContain(Password, stored, StringComparison.Ordinal);
        Assert.Contains("enc:v1:", stored, StringComparison.Ordinal);

        // gRPC reads are masked too.
        var grpcGot = await fx.GrpcA.GetTargetAsync(new GetTargetRequest { Name = name }, cancellationToken: ct);
        Assert.DoesNotContain(Password, grpcGot.Target.Spec.ConfigJson, StringComparison.Ordinal);

        // An update that sends "***" keeps the secret; the prober receives it in clear text.
        using var patched = await fx.PatchAsync(name, new { config = new { host = "127.0.0.2", username = "monitor", password = "***" } }, ct);
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        await using (var watch = new TargetWatch(fx.GrpcA, "secret-prober-" + name))
        {
            var set = await watch.NextMatchingAsync(s => TargetWatch.Has(s, name), $"{name} is delivered", ct);
            var config = JsonDocument.Parse(set.Targets.Single(t => t.Spec.Name == name).Spec.ConfigJson).RootElement;
            Assert.Equal(Password, config.GetProperty("password").GetString());
            Assert.Equal("127.0.0.2", config.GetProperty("host").GetString());
        }

        // HTTP auth headers are secrets; other headers are not.
        var web = NewName("webauth");
        using var withHeader = await fx.PostAsync(new { name = web, type = "http", config = new { url = "https://127.0.0.1/", headers = new Dictionary<string, string> { ["Authorization"] = Token, ["Accept"] = "text/plain" } } }, ct);
        Assert.Equal(HttpStatusCode.Created, withHeader.StatusCode);
        var headers = (await fx.GetAsync(web, ct)).GetProperty("config").GetProperty("headers");
        Assert.Equal("***", headers.GetProperty("Authorization").GetString());
        Assert.Equal("text/plain", headers.GetProperty("Accept").GetString());
        Assert.DoesNotContain("tok-123456", await fx.StoredConfigAsync(web, ct), StringComparison.Ordinal);

        // "***" where nothing is stored is rejected, naming the field.
        var fresh = NewName("redis");
        using var bad = await fx.PostAsync(new { name = fresh, type = "redis", config = new { host = "127.0.0.1", password = "***" } }, ct);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("config.password", await bad.Content.ReadAsStringAsync(ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Grpc_Crud_MapsErrorsToStatusCodes()
    {
        var ct = TestContext.Current.CancellationToken;
        var name = NewName("grpc");
        var spec = new ProbeTargetSpec { Name = name, Type = "tcp", ConfigJson = """{"host":"127.0.0.1","port":9}""", Enabled = true };

        var created = await fx.GrpcA.CreateTargetAsync(new CreateTargetRequest { Spec = spec }, cancellationToken: ct);
        Assert.Equal(30_000, created.Target.Spec.IntervalMs);
        Assert.Equal(ProbeAssignmentMode.All, created.Target.Spec.Assignment.Mode);

        var duplicate = await Assert.ThrowsAsync<RpcException>(async () => await fx.GrpcA.CreateTargetAsync(new CreateTargetRequest { Spec = spec }, cancellationToken: ct));
        Assert.Equal(StatusCode.AlreadyExists, duplicate.StatusCode);

        var bad = spec.Clone();
        bad.Name = NewName("grpcbad");
        bad.ConfigJson = """{"host":"127.0.0.1"}""";
        var invalid = await Assert.ThrowsAsync<RpcException>(async () => await fx.GrpcA.CreateTargetAsync(new CreateTargetRequest { Spec = bad }, cancellationToken: ct));
        Assert.Equal(StatusCode.InvalidArgument, invalid.StatusCode);
        Assert.Contains("config.port", invalid.Status.Detail, StringComparison.Ordinal);

        var kafka = new ProbeTargetSpec { Name = NewName("lag"), Type = "kafka", ConfigJson = """{"bootstrapServers":"127.0.0.1:9092","groupId":"g1"}""", Enabled = true };
        var lag = await fx.GrpcA.CreateTargetAsync(new CreateTargetRequest { Spec = kafka }, cancellationToken: ct);
        Assert.Equal(ProbeAssignmentMode.Auto, lag.Target.Spec.Assignment.Mode);

        spec.TimeoutMs = 2_000;
        var updated = await fx.GrpcA.UpdateTargetAsync(new UpdateTargetRequest { Spec = spec }, cancellationToken: ct);
        Assert.Equal(2, updated.Target.Version);
        Assert.Equal(2_000, updated.Target.Spec.TimeoutMs);

        var listed = await fx.GrpcB.ListTargetsAsync(new ListTargetsRequest(), cancellationToken: ct);
        Assert.Contains(listed.Targets, t => t.Spec.Name == name && t.Status == "unknown");

        await fx.GrpcA.DeleteTargetAsync(new DeleteTargetRequest { Name = name }, cancellationToken: ct);
        var gone = await Assert.ThrowsAsync<RpcException>(async () => await fx.GrpcA.GetTargetAsync(new GetTargetRequest { Name = name }, cancellationToken: ct));
        Assert.Equal(StatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task Status_FollowsTheLatestResultOfEveryAgent()
    {
        var ct = TestContext.Current.CancellationToken;
        var name = NewName("st");
        using var created = await fx.PostAsync(new { name, type = "tcp", config = new { host = "127.0.0.1", port = 9 } }, ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("unknown", (await fx.GetAsync(name, ct)).GetProperty("status").GetString());

        var now = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds();
        await WriteAsync($"probe_success,host_id=agent-1,target={name},type=tcp value=1 {now - 2000}\n" +
                         $"probe_success,host_id=agent-2,target={name},type=tcp value=1 {now - 2000}", ct);
        Assert.Equal("healthy", (await fx.GetAsync(name, ct)).GetProperty("status").GetString());

        await WriteAsync($"probe_success,host_id=agent-2,reason=refused,target={name},type=tcp message=\"connect to 127.0.0.1:9 refused\",value=0 {now - 1000}", ct);
        var unhealthy = await fx.GetAsync(name, ct);
        Assert.Equal("unhealthy", unhealthy.GetProperty("status").GetString());
        Assert.Equal("connect to 127.0.0.1:9 refused", unhealthy.GetProperty("lastMessage").GetString());

        await WriteAsync($"probe_success,host_id=agent-2,target={name},type=tcp value=1 {now}", ct);
        Assert.Equal("healthy", (await fx.GetAsync(name, ct)).GetProperty("status").GetString());
    }

    private async Task WriteAsync(string lines, CancellationToken cancellationToken)
    {
        using var http = new HttpClient();
        using var content = new StringContent(lines);
        using var response = await http.PostAsync($"{Monitor.TestUtilities.StackEnvironment.Influx}/write?db={fx.Influx.Name}&precision=ms", content, cancellationToken);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync(cancellationToken));
    }
}
