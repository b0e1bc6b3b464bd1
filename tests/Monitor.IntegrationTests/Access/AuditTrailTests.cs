using System.Net;
using System.Text.Json;
using Monitor.TestUtilities;
using MySqlConnector;
using Xunit;

namespace Monitor.IntegrationTests.Access;

/// <summary>
/// The audit trail of hosts and probe targets (manage, <c>/api/v1/manage/audit</c>) and of rules, channels and silences
/// (warning, <c>/api/v1/warning/audit</c>): actor from the credential, before/after, secrets masked (docs/access.md).
/// </summary>
[Collection(AccessCollection.Name)]
public sealed class AuditTrailTests(AccessFixture fixture)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Host_CreateUpdateDelete_AuditedWithActorBeforeAfter()
    {
        // Arrange
        var (editorName, editor) = await TokenAsync("editor");
        var hostId = "audit-host-" + Suffix();
        var hosts = fixture.ManageHttp + "/api/v1/manage/hosts";

        // Act
        await ExpectAsync(HttpMethod.Post, hosts, editor, new { hostId, location = "rack-1", labels = new { team = "a" } }, HttpStatusCode.Created);
        await ExpectAsync(HttpMethod.Patch, $"{hosts}/{hostId}", editor, new { location = "rack-2" }, HttpStatusCode.OK);
        await ExpectAsync(HttpMethod.Delete, $"{hosts}/{hostId}", editor, null, HttpStatusCode.OK, HttpStatusCode.NoContent);

        // Assert: newest first, the editor's token named as actor.
        var (entries, _) = await ManageAuditAsync("host", hostId);
        Assert.Equal(new[] { "delete", "update", "create" }, entries.Select(e => e.GetProperty("action").GetString()!));
        Assert.All(entries, e => Assert.Equal("token:" + editorName, e.GetProperty("actor").GetString()));
        Assert.All(entries, e => Assert.Equal(hostId, e.GetProperty("entityId").GetString()));
        var (delete, update, create) = (entries[0], entries[1], entries[2]);
        Assert.False(create.TryGetProperty("before", out var b) && b.ValueKind != JsonValueKind.Null);
        Assert.Equal("rack-1", create.GetProperty("after").GetProperty("location").GetString());
        Assert.Equal("a", create.GetProperty("after").GetProperty("labels").GetProperty("team").GetString());
        Assert.Equal("rack-1", update.GetProperty("before").GetProperty("location").GetString());
        Assert.Equal("rack-2", update.GetProperty("after").GetProperty("location").GetString());
        Assert.Equal("rack-2", delete.GetProperty("before").GetProperty("location").GetString());
        Assert.False(delete.TryGetProperty("after", out var a) && a.ValueKind != JsonValueKind.Null);
        Assert.True(create.GetProperty("at").GetDateTime() <= delete.GetProperty("at").GetDateTime());
    }

    [Fact]
    public async Task Host_CreateRefused_NoAuditRow()
    {
        // Arrange: a host that exists, so a second create fails on the unique index.
        var (_, editor) = await TokenAsync("editor");
        var hostId = "audit-dup-" + Suffix();
        var hosts = fixture.ManageHttp + "/api/v1/manage/hosts";
        await ExpectAsync(HttpMethod.Post, hosts, editor, new { hostId, location = "x" }, HttpStatusCode.Created);

        // Act
        await ExpectAsync(HttpMethod.Post, hosts, editor, new { hostId, location = "y" }, HttpStatusCode.Conflict);

        // Assert: the refused change left no audit row (it shared the change's transaction).
        var (entries, _) = await ManageAuditAsync("host", hostId);
        var only = Assert.Single(entries);
        Assert.Equal("create", only.GetProperty("action").GetString());
        Assert.Equal("x", only.GetProperty("after").GetProperty("location").GetString());
    }

    [Fact]
    public async Task LegacyHostApi_AnonymousAllowed_AuditActorIsAnonymousLegacy()
    {
        // Arrange: a second manage instance on the same database that accepts the original system's anonymous calls.
        var http = $"http://127.0.0.1:{Ports.Free()}";
        var manage = fixture.Start("audit-legacy-manage-" + Suffix(), Repo.Assembly("manage-service", "Monitor.ManageService"), new()
        {
            ["Service__GrpcUrl"] = $"http://127.0.0.1:{Ports.Free()}",
            ["Service__HttpUrl"] = http,
            ["ConnectionStrings__Manage"] = fixture.ConnectionString,
            ["Influx__Url"] = StackEnvironment.Influx,
            ["Influx__Database"] = fixture.Influx.Name,
            ["Manage__HostDeletedEventPrefix"] = $"/monitor-test/audit-legacy-{Suffix()}/host-deleted",
            ["Auth__AllowAnonymousLegacy"] = "true",
        });
        await manage.WaitHealthyAsync(http + "/health/ready", TimeSpan.FromSeconds(60), Ct);
        var hostId = "audit-legacy-" + Suffix();

        // Act: the original agent's registration, without credentials.
        using (var response = await AccessFixture.SendAsync(HttpMethod.Post, http + "/host", null, new Dictionary<string, string> { ["HostID"] = hostId, ["Location"] = "old-dc" }, Ct))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        await manage.StopAsync(TimeSpan.FromSeconds(15));

        // Assert
        var (entries, _) = await ManageAuditAsync("host", hostId);
        var created = Assert.Single(entries);
        Assert.Equal("create", created.GetProperty("action").GetString());
        Assert.Equal("anonymous-legacy", created.GetProperty("actor").GetString());
        Assert.Equal("old-dc", created.GetProperty("after").GetProperty("location").GetString());
    }

    [Fact]
    public async Task ProbeTarget_WithSecret_AuditMasksSecret_SecretNeverInAuditAnswerOrRows()
    {
        // Arrange
        var (editorName, editor) = await TokenAsync("editor");
        var name = "audit-redis-" + Suffix();
        var first = "redis-pw-" + Suffix() + Suffix();
        var second = "redis-pw-" + Suffix() + Suffix();
        fixture.Secrets.Add(first);
        fixture.Secrets.Add(second);
        var targets = fixture.ManageHttp + "/api/v1/manage/probes/targets";

        // Act: create with a secret, change the secret, disable, delete.
        await ExpectAsync(HttpMethod.Post, targets, editor,
            new { name, type = "redis", config = new { host = "127.0.0.1", port = 6399, password = first }, intervalMs = 60_000 }, HttpStatusCode.Created);
        await ExpectAsync(HttpMethod.Patch, $"{targets}/{name}", editor,
            new { config = new { host = "127.0.0.1", port = 6399, password = second } }, HttpStatusCode.OK);
        await ExpectAsync(HttpMethod.Patch, $"{targets}/{name}", editor, new { enabled = false }, HttpStatusCode.OK);
        await ExpectAsync(HttpMethod.Delete, $"{targets}/{name}", editor, null, HttpStatusCode.OK, HttpStatusCode.NoContent);

        // Assert
        var (entries, text) = await ManageAuditAsync("probeTarget", name);
        Assert.Equal(new[] { "delete", "disable", "update", "create" }, entries.Select(e => e.GetProperty("action").GetString()!));
        Assert.All(entries, e => Assert.Equal("token:" + editorName, e.GetProperty("actor").GetString()));
        Assert.Equal("***", entries[3].GetProperty("after").GetProperty("config").GetProperty("password").GetString());
        Assert.Equal("***", entries[2].GetProperty("before").GetProperty("config").GetProperty("password").GetString());
        Assert.Equal("***", entries[2].GetProperty("after").GetProperty("config").GetProperty("password").GetString());
        Assert.True(entries[2].GetProperty("after").GetProperty("secretsChanged").GetBoolean());
        Assert.True(entries[1].GetProperty("before").GetProperty("enabled").GetBoolean());
        Assert.False(entries[1].GetProperty("after").GetProperty("enabled").GetBoolean());
        Assert.Equal(6399, entries[0].GetProperty("before").GetProperty("config").GetProperty("port").GetInt32());
        foreach (var secret in new[] { first, second, "enc:" })
        {
            Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
        }

        // Neither the clear text nor the cipher text is in the stored rows.
        var stored = await ReadColumnsAsync(fixture.ConnectionString,
            "SELECT CONCAT(COALESCE(before_json, ''), COALESCE(after_json, '')) FROM access_audit WHERE entity_type = 'probeTarget' AND entity_id = @id", name);
        Assert.Equal(4, stored.Count);
        Assert.All(stored, row =>
        {
            Assert.DoesNotContain(first, row, StringComparison.Ordinal);
            Assert.DoesNotContain(second, row, StringComparison.Ordinal);
            Assert.DoesNotContain("enc:", row, StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task Channel_WebhookUrlAndSecretMasked_CreateUpdateDeleteAudited()
    {
        // Arrange
        var (editorName, editor) = await TokenAsync("editor");
        var name = "audit-hook-" + Suffix();
        var urlSecret = "hook-key-" + Suffix() + Suffix();
        var signing = "sign-" + Suffix() + Suffix();
        var newUrlSecret = "hook-key-" + Suffix() + Suffix();
        fixture.Secrets.AddRange([urlSecret, signing, newUrlSecret]);
        var channels = fixture.WarningHttp + "/api/v1/warning/channels";

        // Act
        await ExpectAsync(HttpMethod.Post, channels, editor,
            new { name, type = "webhook", url = $"https://hooks.example.test:8443/send?key={urlSecret}", secret = signing }, HttpStatusCode.Created);
        await ExpectAsync(HttpMethod.Put, $"{channels}/{name}", editor,
            new { name, type = "webhook", url = $"https://hooks.example.test:8443/v2/{newUrlSecret}", enabled = false }, HttpStatusCode.OK);
        await ExpectAsync(HttpMethod.Delete, $"{channels}/{name}", editor, null, HttpStatusCode.NoContent);

        // Assert
        var (entries, text) = await WarningAuditAsync(fixture.AdminToken, "channel", name);
        Assert.Equal(new[] { "delete", "update", "create" }, entries.Select(e => e.GetProperty("action").GetString()!));
        Assert.All(entries, e => Assert.Equal("token:" + editorName, e.GetProperty("actor").GetString()));
        var created = entries[2].GetProperty("after");
        Assert.Equal("https://hooks.example.test:8443/***", created.GetProperty("url").GetString());
        Assert.Equal("***", created.GetProperty("secret").GetString());
        var updated = entries[1];
        Assert.True(updated.GetProperty("before").GetProperty("enabled").GetBoolean());
        Assert.False(updated.GetProperty("after").GetProperty("enabled").GetBoolean());
        Assert.True(updated.GetProperty("after").GetProperty("secretsChanged").GetBoolean());
        Assert.Equal("webhook", entries[0].GetProperty("before").GetProperty("type").GetString());
        foreach (var secret in new[] { urlSecret, signing, newUrlSecret, "send?key" })
        {
            Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Silence_CreateDelete_Audited_WarningAuditAdminOnly()
    {
        // Arrange
        var (editorName, editor) = await TokenAsync("editor");
        var (_, viewer) = await TokenAsync("viewer");
        var hostId = "audit-silenced-" + Suffix();
        var now = TimeProvider.System.GetUtcNow();

        // Act
        long id;
        using (var created = await AccessFixture.SendAsync(HttpMethod.Post, fixture.WarningHttp + "/api/v1/warning/silences", editor,
            new { hostId, endsAt = now.AddHours(1), comment = "maintenance window" }, Ct))
        {
            var body = await created.Content.ReadAsStringAsync(Ct);
            Assert.True(created.StatusCode == HttpStatusCode.Created, $"{(int)created.StatusCode}: {body}");
            id = JsonDocument.Parse(body).RootElement.GetProperty("id").GetInt64();
        }
        await ExpectAsync(HttpMethod.Delete, $"{fixture.WarningHttp}/api/v1/warning/silences/{id}", editor, null, HttpStatusCode.NoContent);

        // Assert: the audit needs an admin.
        var url = $"{fixture.WarningHttp}/api/v1/warning/audit?entityType=silence&entityId={id}";
        using (var none = await AccessFixture.SendAsync(HttpMethod.Get, url, null, null, Ct))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        }
        using (var denied = await AccessFixture.SendAsync(HttpMethod.Get, url, viewer, null, Ct))
        {
            Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
        }
        using (var editorDenied = await AccessFixture.SendAsync(HttpMethod.Get, url, editor, null, Ct))
        {
            Assert.Equal(HttpStatusCode.Forbidden, editorDenied.StatusCode);
        }
        var (entries, _) = await WarningAuditAsync(fixture.AdminToken, "silence", id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(new[] { "delete", "create" }, entries.Select(e => e.GetProperty("action").GetString()!));
        Assert.All(entries, e => Assert.Equal("token:" + editorName, e.GetProperty("actor").GetString()));
        Assert.Equal(hostId, entries[1].GetProperty("after").GetProperty("hostId").GetString());
        Assert.Equal("maintenance window", entries[0].GetProperty("before").GetProperty("comment").GetString());
        Assert.Equal("silence", entries[0].GetProperty("entityType").GetString());
    }

    [Fact]
    public async Task Rule_CreateUpdateDisableDelete_AuditedWithSpecBeforeAfter()
    {
        // Arrange
        var (editorName, editor) = await TokenAsync("editor");
        var rules = fixture.WarningHttp + "/api/v1/warning/rules";
        var ruleName = "audited rule " + editorName;
        object Rule(double warning, bool enabled) => new
        {
            name = ruleName,
            metric = "cpu_rate",
            scope = new { kind = "all" },
            comparator = "gt",
            bands = new { warning },
            consecutiveBreaches = 1,
            enabled,
        };

        // Act
        long id;
        using (var created = await AccessFixture.SendAsync(HttpMethod.Post, rules, editor, Rule(70, true), Ct))
        {
            var body = await created.Content.ReadAsStringAsync(Ct);
            Assert.True(created.StatusCode == HttpStatusCode.Created, $"{(int)created.StatusCode}: {body}");
            id = JsonDocument.Parse(body).RootElement.GetProperty("id").GetInt64();
        }
        await ExpectAsync(HttpMethod.Put, $"{rules}/{id}", editor, Rule(85, true), HttpStatusCode.OK);
        await ExpectAsync(HttpMethod.Put, $"{rules}/{id}", editor, Rule(85, false), HttpStatusCode.OK);
        await ExpectAsync(HttpMethod.Delete, $"{rules}/{id}", editor, null, HttpStatusCode.NoContent);

        // Assert
        var (entries, _) = await WarningAuditAsync(fixture.AdminToken, "rule", id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(new[] { "delete", "disable", "update", "create" }, entries.Select(e => e.GetProperty("action").GetString()!));
        Assert.All(entries, e => Assert.Equal("token:" + editorName, e.GetProperty("actor").GetString()));
        static double Warning(JsonElement spec) => spec.GetProperty("bands").GetProperty("warning").GetDouble();
        Assert.Equal(70, Warning(entries[3].GetProperty("after")));
        Assert.Equal(70, Warning(entries[2].GetProperty("before")));
        Assert.Equal(85, Warning(entries[2].GetProperty("after")));
        Assert.True(entries[1].GetProperty("before").GetProperty("enabled").GetBoolean());
        Assert.False(entries[1].GetProperty("after").GetProperty("enabled").GetBoolean());
        Assert.Equal(ruleName, entries[0].GetProperty("before").GetProperty("name").GetString());
    }

    private static string Suffix() => Guid.NewGuid().ToString("N")[..8];

    private async Task<(string Name, string Secret)> TokenAsync(string role)
    {
        var name = $"audit-{role}-{Suffix()}";
        return (name, await fixture.CreateTokenAsync(new { name, role }, Ct));
    }

    private static async Task ExpectAsync(HttpMethod method, string url, string token, object? body, params HttpStatusCode[] expected)
    {
        using var response = await AccessFixture.SendAsync(method, url, token, body, Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(expected.Contains(response.StatusCode), $"{method} {url} answered {(int)response.StatusCode}: {text}");
    }

    private Task<(List<JsonElement> Entries, string Text)> ManageAuditAsync(string entityType, string entityId) =>
        AuditAsync($"{fixture.ManageHttp}/api/v1/manage/audit?entityType={entityType}&entityId={Uri.EscapeDataString(entityId)}", fixture.AdminToken);

    private Task<(List<JsonElement> Entries, string Text)> WarningAuditAsync(string token, string entityType, string entityId) =>
        AuditAsync($"{fixture.WarningHttp}/api/v1/warning/audit?entityType={entityType}&entityId={Uri.EscapeDataString(entityId)}", token);

    private static async Task<(List<JsonElement> Entries, string Text)> AuditAsync(string url, string token)
    {
        using var response = await AccessFixture.SendAsync(HttpMethod.Get, url, token, null, Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {url} answered {(int)response.StatusCode}: {text}");
        return (JsonDocument.Parse(text).RootElement.EnumerateArray().ToList(), text);
    }

    private static async Task<List<string>> ReadColumnsAsync(string connectionString, string sql, string id)
    {
        await using var connection = new MySqlConnection(connectionString);
        await connection.OpenAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Parameters.AddWithValue("@id", id);
        var rows = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(Ct);
        while (await reader.ReadAsync(Ct))
        {
            rows.Add(reader.GetString(0));
        }
        return rows;
    }
}
