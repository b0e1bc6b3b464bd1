using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Xunit;

namespace Monitor.IntegrationTests.Manage;

/// <summary>The original system's API: exact JSON shapes (member names, order and types), real HTTP status on errors.</summary>
[Collection(ManageCollection.Name)]
public sealed partial class LegacyApiTests(ManageFixture manage)
{
    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?\+08:00$")]
    private static partial Regex ShanghaiRfc3339();

    private async Task<(HttpStatusCode Status, JsonElement Body, string Raw)> SendAsync(HttpMethod method, string path, string? json = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }
        using var response = await manage.Http.SendAsync(request, TestContext.Current.CancellationToken);
        var raw = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        return (response.StatusCode, JsonDocument.Parse(raw).RootElement.Clone(), raw);
    }

    private static List<string> Names(JsonElement e) => e.EnumerateObject().Select(p => p.Name).ToList();

    [Fact]
    public async Task PostGetPutManage_HaveTheOriginalShapes()
    {
        // Arrange
        var id = "legacy-" + Guid.NewGuid().ToString("N")[..10];

        // Act + Assert: POST /host
        var (status, body, raw) = await SendAsync(HttpMethod.Post, "/host", $$"""{"HostID":"{{id}}","Location":"beijing"}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("""{"CODE":200,"MSG":"Insert success!","DATA":{"num":1}}""", raw);

        // GET /host
        (status, body, _) = await SendAsync(HttpMethod.Get, "/host");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(["CODE", "MSG", "DATA"], Names(body));
        Assert.Equal(200, body.GetProperty("CODE").GetInt32());
        Assert.Equal("Find success!", body.GetProperty("MSG").GetString());
        var host = body.GetProperty("DATA").EnumerateArray().Single(h => h.GetProperty("HostID").GetString() == id);
        Assert.Equal(["ID", "CreatedAt", "UpdatedAt", "DeletedAt", "HostID", "Location"], Names(host));
        Assert.Equal(JsonValueKind.Number, host.GetProperty("ID").ValueKind);
        Assert.True(host.GetProperty("ID").GetInt64() > 0);
        Assert.Matches(ShanghaiRfc3339(), host.GetProperty("CreatedAt").GetString());
        Assert.Matches(ShanghaiRfc3339(), host.GetProperty("UpdatedAt").GetString());
        Assert.Equal(JsonValueKind.Null, host.GetProperty("DeletedAt").ValueKind);
        Assert.Equal("beijing", host.GetProperty("Location").GetString());

        // PUT /host
        (status, _, raw) = await SendAsync(HttpMethod.Put, "/host", $$"""{"HostID":"{{id}}","Location":"shanghai"}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("""{"code":200,"data":"ok","msg":"更新成功"}""", raw);
        var updated = (await SendAsync(HttpMethod.Get, "/host")).Body.GetProperty("DATA").EnumerateArray().Single(h => h.GetProperty("HostID").GetString() == id);
        Assert.Equal("shanghai", updated.GetProperty("Location").GetString());

        // GET /host/manage
        (status, body, _) = await SendAsync(HttpMethod.Get, "/host/manage");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(["CODE", "MSG", "DATA"], Names(body));
        Assert.Equal("Find success!", body.GetProperty("MSG").GetString());
        Assert.Equal(JsonValueKind.Array, body.GetProperty("DATA").ValueKind);
        Assert.All(body.GetProperty("DATA").EnumerateArray(), e => Assert.Equal(JsonValueKind.String, e.ValueKind));
    }

    [Fact]
    public async Task Errors_UseTheEnvelopeWithTheRealStatus()
    {
        // Arrange
        var id = "legacy-dup-" + Guid.NewGuid().ToString("N")[..8];
        await SendAsync(HttpMethod.Post, "/host", $$"""{"HostID":"{{id}}","Location":"a"}""");

        // Act
        var duplicate = await SendAsync(HttpMethod.Post, "/host", $$"""{"HostID":"{{id}}","Location":"b"}""");
        var invalid = await SendAsync(HttpMethod.Post, "/host", """{"HostID":"","Location":"b"}""");
        var malformed = await SendAsync(HttpMethod.Post, "/host", "{not json");
        var unknown = await SendAsync(HttpMethod.Put, "/host", """{"HostID":"legacy-unknown-host","Location":"b"}""");

        // Assert
        Assert.Equal(HttpStatusCode.Conflict, duplicate.Status);
        Assert.Equal(["CODE", "MSG", "DATA"], Names(duplicate.Body));
        Assert.Equal(409, duplicate.Body.GetProperty("CODE").GetInt32());
        Assert.Equal(JsonValueKind.Null, duplicate.Body.GetProperty("DATA").ValueKind);
        Assert.Equal(HttpStatusCode.BadRequest, invalid.Status);
        Assert.Equal(400, invalid.Body.GetProperty("CODE").GetInt32());
        Assert.Equal(HttpStatusCode.BadRequest, malformed.Status);
        Assert.Equal(HttpStatusCode.NotFound, unknown.Status);
        Assert.Equal(["code", "data", "msg"], Names(unknown.Body));
        Assert.Equal(404, unknown.Body.GetProperty("code").GetInt32());
    }
}
