using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Grpc.Core;
using Monitor.Protos.V1;
using Xunit;

namespace Monitor.IntegrationTests.Manage;

/// <summary>Host CRUD over HTTP (<c>/api/v1/manage/hosts</c>) and gRPC against real MariaDB.</summary>
[Collection(ManageCollection.Name)]
public sealed class HostApiTests(ManageFixture manage)
{
    private static string NewId(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..24];

    [Fact]
    public async Task Http_CreateGetUpdateDelete_RoundTrips()
    {
        // Arrange
        var ct = TestContext.Current.CancellationToken;
        var id = NewId("crud");

        // Act + Assert: create
        using var created = await manage.PostJsonAsync("/api/v1/manage/hosts", new { hostId = id, location = "dc-1", description = "db server", labels = new { rack = "r7" } }, ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal($"/api/v1/manage/hosts/{id}", created.Headers.Location?.OriginalString);
        var host = await created.Content.ReadFromJsonAsync<JsonElement>(ct);
        Assert.Equal(id, host.GetProperty("hostId").GetString());
        Assert.Equal("r7", host.GetProperty("labels").GetProperty("rack").GetString());
        Assert.EndsWith("Z", host.GetProperty("createdAt").GetString(), StringComparison.Ordinal);

        // get
        var got = await manage.GetJsonAsync($"/api/v1/manage/hosts/{id}", ct);
        Assert.Equal("dc-1", got.GetProperty("location").GetString());
        Assert.Equal(host.GetProperty("createdAt").GetString(), got.GetProperty("createdAt").GetString());

        // update location and description, labels untouched
        using var patch = new HttpRequestMessage(HttpMethod.Patch, $"/api/v1/manage/hosts/{id}") { Content = JsonContent.Create(new { location = "dc-2", description = "moved" }) };
        using var patched = await manage.Http.SendAsync(patch, ct);
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        got = await manage.GetJsonAsync($"/api/v1/manage/hosts/{id}", ct);
        Assert.Equal("dc-2", got.GetProperty("location").GetString());
        Assert.Equal("moved", got.GetProperty("description").GetString());
        Assert.Equal("r7", got.GetProperty("labels").GetProperty("rack").GetString());

        // delete (soft): gone from reads, announced in etcd, and the id can be registered again
        using var deleted = await manage.Http.DeleteAsync($"/api/v1/manage/hosts/{id}", ct);
        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        using var missing = await manage.Http.GetAsync($"/api/v1/manage/hosts/{id}", ct);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        using var etcd = new dotnet_etcd.EtcdClient(Monitor.TestUtilities.StackEnvironment.Etcd);
        var announced = await etcd.GetValAsync($"{manage.EventPrefix}/{id}", cancellationToken: ct);
        Assert.Contains($"\"hostId\":\"{id}\"", announced, StringComparison.Ordinal);
        using var again = await manage.PostJsonAsync("/api/v1/manage/hosts", new { hostId = id, location = "dc-3" }, ct);
        Assert.Equal(HttpStatusCode.Created, again.StatusCode);
    }

    [Fact]
    public async Task Http_DuplicateUnknownAndBadInput_AnswerProblemBodies()
    {
        // Arrange
        var ct = TestContext.Current.CancellationToken;
        var id = NewId("dup");
        using var first = await manage.PostJsonAsync("/api/v1/manage/hosts", new { hostId = id, location = "x" }, ct);
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);

        // Act
        using var duplicate = await manage.PostJsonAsync("/api/v1/manage/hosts", new { hostId = id, location = "y" }, ct);
        using var unknown = await manage.Http.GetAsync($"/api/v1/manage/hosts/{NewId("nope")}", ct);
        using var empty = await manage.PostJsonAsync("/api/v1/manage/hosts", new { hostId = "", location = "x" }, ct);
        using var longLocation = await manage.PostJsonAsync("/api/v1/manage/hosts", new { hostId = NewId("bad"), location = new string('l', 200) }, ct);
        using var badLimit = await manage.Http.GetAsync("/api/v1/manage/hosts?limit=0&cursor=%%%", ct);
        using var badLimitText = await manage.Http.GetAsync("/api/v1/manage/hosts?limit=ten", ct);
        using var badPurge = await manage.Http.DeleteAsync($"/api/v1/manage/hosts/{id}?purgeData=maybe", ct);
        using var badJson = await manage.Http.PostAsync("/api/v1/manage/hosts", new StringContent("{\"hostId\": 5}", System.Text.Encoding.UTF8, "application/json"), ct);

        // Assert
        Assert.Equal(HttpStatusCode.Conflict, duplicate.StatusCode);
        Assert.Equal("application/problem+json", duplicate.Content.Headers.ContentType?.MediaType);
        Assert.Equal("hostId", (await duplicate.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("field").GetString());
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        foreach (var (response, field) in new[] { (empty, "hostId"), (longLocation, "location"), (badLimit, "cursor"), (badLimitText, "limit"), (badPurge, "purgeData"), (badJson, "hostId") })
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            var problem = await response.Content.ReadFromJsonAsync<JsonElement>(ct);
            Assert.Equal(400, problem.GetProperty("status").GetInt32());
            Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), $"problem should name '{field}': {problem}");
        }
    }

    [Fact]
    public async Task Http_ConcurrentInsertsOfSameId_ExactlyOneWins()
    {
        // Arrange
        var ct = TestContext.Current.CancellationToken;
        var id = NewId("race");

        // Act: 16 clients insert the same id at once.
        var attempts = await Task.WhenAll(Enumerable.Range(0, 16).Select(async i =>
        {
            using var response = await manage.PostJsonAsync("/api/v1/manage/hosts", new { hostId = id, location = $"loc-{i}" }, ct);
            return response.StatusCode;
        }));

        // Assert
        Assert.Equal(1, attempts.Count(s => s == HttpStatusCode.Created));
        Assert.Equal(15, attempts.Count(s => s == HttpStatusCode.Conflict));
        var page = await manage.GetJsonAsync("/api/v1/manage/hosts?limit=5000", ct);
        Assert.Equal(1, page.GetProperty("items").EnumerateArray().Count(h => h.GetProperty("hostId").GetString() == id));
    }

    [Fact]
    public async Task Http_ListByLocation_PagesWithCursor()
    {
        // Arrange
        var ct = TestContext.Current.CancellationToken;
        var location = "page-" + Guid.NewGuid().ToString("N")[..8];
        var ids = Enumerable.Range(0, 7).Select(i => $"{location}-h{i}").ToList();
        foreach (var id in ids)
        {
            using var r = await manage.PostJsonAsync("/api/v1/manage/hosts", new { hostId = id, location }, ct);
            Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        }

        // Act: walk the pages, 3 per page.
        var seen = new List<string>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await manage.GetJsonAsync($"/api/v1/manage/hosts?location={location}&limit=3" + (cursor is null ? "" : $"&cursor={cursor}"), ct);
            seen.AddRange(page.GetProperty("items").EnumerateArray().Select(h => h.GetProperty("hostId").GetString()!));
            cursor = page.GetProperty("nextCursor").ValueKind == JsonValueKind.Null ? null : page.GetProperty("nextCursor").GetString();
            pages++;
        }
        while (cursor is not null);

        // Assert
        Assert.Equal(ids, seen);
        Assert.Equal(3, pages);
    }

    [Fact]
    public async Task Grpc_Crud_UsesStatusCodes()
    {
        // Arrange
        var ct = TestContext.Current.CancellationToken;
        var id = NewId("grpc");
        var location = "grpc-" + Guid.NewGuid().ToString("N")[..8];

        // Act + Assert
        var created = await manage.Grpc.CreateHostAsync(new CreateHostRequest { HostId = id, Location = location, Labels = { ["os"] = "linux" } }, cancellationToken: ct);
        Assert.Equal(id, created.Host.HostId);
        var duplicate = await Assert.ThrowsAsync<RpcException>(async () => await manage.Grpc.CreateHostAsync(new CreateHostRequest { HostId = id }, cancellationToken: ct));
        Assert.Equal(StatusCode.AlreadyExists, duplicate.StatusCode);
        var invalid = await Assert.ThrowsAsync<RpcException>(async () => await manage.Grpc.CreateHostAsync(new CreateHostRequest { HostId = "has space" }, cancellationToken: ct));
        Assert.Equal(StatusCode.InvalidArgument, invalid.StatusCode);
        Assert.StartsWith("hostId:", invalid.Status.Detail, StringComparison.Ordinal);

        var updated = await manage.Grpc.UpdateHostAsync(new UpdateHostRequest { HostId = id, Description = "web" }, cancellationToken: ct);
        Assert.Equal(location, updated.Host.Location);
        Assert.Equal("web", updated.Host.Description);
        Assert.Equal("linux", updated.Host.Labels["os"]);

        var listed = await manage.Grpc.ListHostsAsync(new ListHostsRequest { Location = location }, cancellationToken: ct);
        Assert.Equal([id], listed.Hosts.Select(h => h.HostId));
        Assert.Equal("", listed.NextPageToken);
        var got = await manage.Grpc.GetHostAsync(new GetHostRequest { HostId = id }, cancellationToken: ct);
        Assert.Equal(created.Host.CreatedAt, got.Host.CreatedAt);

        var deleted = await manage.Grpc.DeleteHostAsync(new DeleteHostRequest { HostId = id }, cancellationToken: ct);
        Assert.False(deleted.DataPurged);
        var notFound = await Assert.ThrowsAsync<RpcException>(async () => await manage.Grpc.GetHostAsync(new GetHostRequest { HostId = id }, cancellationToken: ct));
        Assert.Equal(StatusCode.NotFound, notFound.StatusCode);
        var notFoundDelete = await Assert.ThrowsAsync<RpcException>(async () => await manage.Grpc.DeleteHostAsync(new DeleteHostRequest { HostId = id }, cancellationToken: ct));
        Assert.Equal(StatusCode.NotFound, notFoundDelete.StatusCode);
    }

    [Fact]
    public async Task Grpc_ListByLocation_WalksNextPageTokens()
    {
        // Arrange: 7 hosts in a fresh location and one elsewhere that the filter must leave out.
        var ct = TestContext.Current.CancellationToken;
        var location = "gpage-" + Guid.NewGuid().ToString("N")[..8];
        var ids = Enumerable.Range(0, 7).Select(i => $"{location}-h{i}").ToList();
        foreach (var id in ids)
        {
            await manage.Grpc.CreateHostAsync(new CreateHostRequest { HostId = id, Location = location }, cancellationToken: ct);
        }
        await manage.Grpc.CreateHostAsync(new CreateHostRequest { HostId = $"{location}-h3x", Location = location + "-other" }, cancellationToken: ct);

        // Act: walk the pages, 3 per page.
        var pages = new List<List<string>>();
        var token = "";
        do
        {
            var page = await manage.Grpc.ListHostsAsync(new ListHostsRequest { Location = location, PageSize = 3, PageToken = token }, cancellationToken: ct);
            pages.Add(page.Hosts.Select(h => h.HostId).ToList());
            Assert.All(page.Hosts, h => Assert.Equal(location, h.Location));
            token = page.NextPageToken;
        }
        while (token != "" && pages.Count < 10);

        // Assert
        Assert.Equal([3, 3, 1], pages.Select(p => p.Count));
        Assert.Equal(ids, pages.SelectMany(p => p));
        var bad = await Assert.ThrowsAsync<RpcException>(async () =>
            await manage.Grpc.ListHostsAsync(new ListHostsRequest { Location = location, PageSize = 3, PageToken = "%%%" }, cancellationToken: ct));
        Assert.Equal(StatusCode.InvalidArgument, bad.StatusCode);
    }

    [Fact]
    public async Task OpenApiDocument_IsServed()
    {
        // Act
        var doc = await manage.GetJsonAsync("/api/v1/manage/openapi/v1.json", TestContext.Current.CancellationToken);

        // Assert
        Assert.StartsWith("3.", doc.GetProperty("openapi").GetString(), StringComparison.Ordinal);
        Assert.True(doc.GetProperty("paths").TryGetProperty("/api/v1/manage/hosts", out _));
        Assert.True(doc.GetProperty("paths").TryGetProperty("/api/v1/manage/liveness", out _));
    }
}
