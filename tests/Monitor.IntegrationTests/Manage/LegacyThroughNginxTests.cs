using System.Net;
using System.Text;
using System.Text.Json;
using Monitor.TestUtilities;
using Xunit;

namespace Monitor.IntegrationTests.Manage;

/// <summary>
/// The original system's API as its clients reach it: under <c>/setting/</c> behind nginx (a private nginx with the
/// stack's routes, proxying to the fixture's manage process), with the exact envelopes and real HTTP statuses.
/// </summary>
[Collection(ManageCollection.Name)]
public sealed class LegacyThroughNginxTests(ManageFixture manage)
{
    private static async Task<(HttpStatusCode Status, JsonElement Body, string Raw)> SendAsync(HttpClient http, HttpMethod method, string path, string? json = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }
        using var response = await http.SendAsync(request, TestContext.Current.CancellationToken);
        var raw = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        return (response.StatusCode, JsonDocument.Parse(raw).RootElement.Clone(), raw);
    }

    [Fact]
    public async Task SettingHost_ThroughNginx_HasTheOriginalEnvelopes()
    {
        // Arrange: nginx in front of the fixture's manage service; a host reporting data but not registered.
        var ct = TestContext.Current.CancellationToken;
        await using var nginx = await NginxProcess.StartAsync("127.0.0.1:1", new Uri(manage.HttpUrl).Authority, "127.0.0.1:1", ct);
        using var http = new HttpClient { BaseAddress = new Uri(nginx.HttpUrl), Timeout = TimeSpan.FromSeconds(30) };
        var id = "ngx-" + Guid.NewGuid().ToString("N")[..10];
        var unregistered = "ngx-unreg-" + Guid.NewGuid().ToString("N")[..8];
        await manage.WriteSamplesAsync([unregistered], TimeProvider.System.GetUtcNow(), ct);

        // Act + Assert: POST /setting/host
        var (status, body, raw) = await SendAsync(http, HttpMethod.Post, "/setting/host", $$"""{"HostID":"{{id}}","Location":"beijing"}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("""{"CODE":200,"MSG":"Insert success!","DATA":{"num":1}}""", raw);

        // GET /setting/host
        (status, body, _) = await SendAsync(http, HttpMethod.Get, "/setting/host");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(["CODE", "MSG", "DATA"], body.EnumerateObject().Select(p => p.Name));
        Assert.Equal(200, body.GetProperty("CODE").GetInt32());
        Assert.Equal("Find success!", body.GetProperty("MSG").GetString());
        var host = body.GetProperty("DATA").EnumerateArray().Single(h => h.GetProperty("HostID").GetString() == id);
        Assert.Equal(["ID", "CreatedAt", "UpdatedAt", "DeletedAt", "HostID", "Location"], host.EnumerateObject().Select(p => p.Name));
        Assert.Equal("beijing", host.GetProperty("Location").GetString());

        // GET /setting/host/manage: the unregistered host found from the data, not the registered one.
        await Poll.UntilAsync(async () =>
        {
            (status, body, _) = await SendAsync(http, HttpMethod.Get, "/setting/host/manage");
            return status == HttpStatusCode.OK && body.GetProperty("DATA").EnumerateArray().Any(e => e.GetString() == unregistered);
        }, TimeSpan.FromSeconds(30), $"{unregistered} in /setting/host/manage", ct);
        Assert.Equal(["CODE", "MSG", "DATA"], body.EnumerateObject().Select(p => p.Name));
        Assert.Equal(200, body.GetProperty("CODE").GetInt32());
        Assert.Equal("Find success!", body.GetProperty("MSG").GetString());
        Assert.DoesNotContain(id, body.GetProperty("DATA").EnumerateArray().Select(e => e.GetString()));

        // A duplicate: the envelope with a non-200 CODE and the same real HTTP status.
        var duplicate = await SendAsync(http, HttpMethod.Post, "/setting/host", $$"""{"HostID":"{{id}}","Location":"shanghai"}""");
        Assert.Equal(HttpStatusCode.Conflict, duplicate.Status);
        Assert.Equal(["CODE", "MSG", "DATA"], duplicate.Body.EnumerateObject().Select(p => p.Name));
        Assert.Equal(409, duplicate.Body.GetProperty("CODE").GetInt32());
        Assert.Equal(JsonValueKind.Null, duplicate.Body.GetProperty("DATA").ValueKind);

        // The requests really went through nginx.
        Assert.Contains("POST /setting/host ", nginx.AccessLog(), StringComparison.Ordinal);
        Assert.Contains("GET /setting/host/manage ", nginx.AccessLog(), StringComparison.Ordinal);
    }
}
