using System.Net;
using System.Text.Json;
using Monitor.TestUtilities;
using MySqlConnector;
using Xunit;

namespace Monitor.IntegrationTests.Access;

/// <summary>The warning service under access control: viewers cannot write rules; a rule edit records its actor with the before and after versions.</summary>
[Collection(AccessCollection.Name)]
public sealed class RuleAuditTests(AccessFixture fixture)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Warning_NoToken_401_ViewerWrite_403_RuleEditRecordsActorBeforeAfter()
    {
        var viewer = await fixture.CreateTokenAsync(new { name = "w-viewer-" + Guid.NewGuid().ToString("N")[..6], role = "viewer" }, Ct);
        var editorName = "w-editor-" + Guid.NewGuid().ToString("N")[..6];
        var editor = await fixture.CreateTokenAsync(new { name = editorName, role = "editor" }, Ct);
        var rules = fixture.WarningHttp + "/api/v1/warning/rules";
        object Rule(double warning) => new
        {
            name = "audited cpu " + editorName,
            metric = "cpu_rate",
            scope = new { kind = "all" },
            comparator = "gt",
            bands = new { warning },
            consecutiveBreaches = 1,
        };

        using (var none = await AccessFixture.SendAsync(HttpMethod.Get, rules, null, null, Ct))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        }
        using (var denied = await AccessFixture.SendAsync(HttpMethod.Post, rules, viewer, Rule(70), Ct))
        {
            Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
        }
        long id;
        using (var created = await AccessFixture.SendAsync(HttpMethod.Post, rules, editor, Rule(70), Ct))
        {
            var text = await created.Content.ReadAsStringAsync(Ct);
            Assert.True(created.StatusCode == HttpStatusCode.Created, $"{(int)created.StatusCode}: {text}");
            id = JsonDocument.Parse(text).RootElement.GetProperty("id").GetInt64();
        }
        using (var updated = await AccessFixture.SendAsync(HttpMethod.Put, $"{rules}/{id}", editor, Rule(85), Ct))
        {
            Assert.Equal(HttpStatusCode.OK, updated.StatusCode);
        }

        // Before and after: the rule's versions, readable by a viewer.
        using var versions = await AccessFixture.SendAsync(HttpMethod.Get, $"{rules}/{id}/versions", viewer, null, Ct);
        Assert.Equal(HttpStatusCode.OK, versions.StatusCode);
        var list = JsonDocument.Parse(await versions.Content.ReadAsStringAsync(Ct)).RootElement.EnumerateArray()
            .ToDictionary(v => v.GetProperty("version").GetInt32(), v => v.GetProperty("spec").GetProperty("bands").GetProperty("warning").GetDouble());
        Assert.Equal(70, list[1]);
        Assert.Equal(85, list[2]);

        // Who: each version records the authenticated caller.
        await using var connection = new MySqlConnection(fixture.WarningConnectionString);
        await connection.OpenAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT Version, ChangedBy FROM rule_versions WHERE RuleId = @id ORDER BY Version";
        command.Parameters.AddWithValue("@id", id);
        var actors = new Dictionary<int, string>();
        await using (var reader = await command.ExecuteReaderAsync(Ct))
        {
            while (await reader.ReadAsync(Ct))
            {
                actors[reader.GetInt32(0)] = reader.GetString(1);
            }
        }
        Assert.Equal("token:" + editorName, actors[1]);
        Assert.Equal("token:" + editorName, actors[2]);
    }
}
