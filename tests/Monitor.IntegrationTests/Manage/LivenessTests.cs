using System.Net;
using System.Text.Json;
using Monitor.Protos.V1;
using Monitor.TestUtilities;
using Xunit;

namespace Monitor.IntegrationTests.Manage;

/// <summary>
/// Every liveness state produced by real data written to InfluxDB: the service's window is 3 × 1 s, so a host that
/// stops reporting turns silent within seconds, and a new host id shows as unregistered until it is inserted.
/// </summary>
[Collection(ManageCollection.Name)]
public sealed class LivenessTests(ManageFixture manage)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private async Task<Dictionary<string, JsonElement>> LivenessAsync(CancellationToken ct)
    {
        var body = await manage.GetJsonAsync("/api/v1/manage/liveness", ct);
        return body.GetProperty("hosts").EnumerateArray().ToDictionary(h => h.GetProperty("hostId").GetString()!, h => h);
    }

    private static string? State(Dictionary<string, JsonElement> hosts, string id) =>
        hosts.TryGetValue(id, out var h) ? h.GetProperty("state").GetString() : null;

    [Fact]
    public async Task RealData_ProducesEveryState_AndStatesFollowTheData()
    {
        // Arrange: four hosts; a writer sends samples every 300 ms for the hosts in `writing`.
        var ct = TestContext.Current.CancellationToken;
        var tag = Guid.NewGuid().ToString("N")[..8];
        var (reg, unreg, deleted, quiet) = ($"live-reg-{tag}", $"live-unreg-{tag}", $"live-del-{tag}", $"live-quiet-{tag}");
        foreach (var id in new[] { reg, deleted, quiet })
        {
            using var r = await manage.PostJsonAsync("/api/v1/manage/hosts", new { hostId = id, location = "live-" + tag }, ct);
            Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        }
        using (var d = await manage.Http.DeleteAsync($"/api/v1/manage/hosts/{deleted}", ct))
        {
            Assert.Equal(HttpStatusCode.OK, d.StatusCode);
        }
        var writing = new HashSet<string> { reg, unreg, deleted };
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var writer = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                string[] hosts;
                lock (writing)
                {
                    hosts = [.. writing];
                }
                await manage.WriteSamplesAsync(hosts, TimeProvider.System.GetUtcNow(), stop.Token);
                await Task.Delay(300, stop.Token);
            }
        }, stop.Token);

        try
        {
            // Act + Assert 1: every state appears.
            Dictionary<string, JsonElement> hosts = [];
            await Poll.UntilAsync(async () =>
            {
                hosts = await LivenessAsync(ct);
                return State(hosts, reg) == "reporting" && State(hosts, unreg) == "unregistered"
                    && State(hosts, deleted) == "deletedButReporting" && State(hosts, quiet) == "silent";
            }, Timeout, "reporting / unregistered / deletedButReporting / silent", ct);
            Assert.NotEqual(JsonValueKind.Null, hosts[reg].GetProperty("lastSeenAt").ValueKind);
            Assert.Equal(JsonValueKind.Null, hosts[quiet].GetProperty("lastSeenAt").ValueKind);
            Assert.NotEqual(JsonValueKind.Null, hosts[quiet].GetProperty("silentSince").ValueKind);
            Assert.NotEqual(JsonValueKind.Null, hosts[deleted].GetProperty("deletedAt").ValueKind);
            Assert.Equal(JsonValueKind.Null, hosts[unreg].GetProperty("location").ValueKind);

            // The unregistered host is found from the data by every API; registered and deleted hosts are not.
            var notManaged = await manage.GetJsonAsync("/api/v1/manage/not-managed-hosts", ct);
            var notManagedIds = notManaged.GetProperty("hosts").EnumerateArray().Select(h => h.GetProperty("hostId").GetString()).ToList();
            Assert.Contains(unreg, notManagedIds);
            Assert.DoesNotContain(reg, notManagedIds);
            Assert.DoesNotContain(deleted, notManagedIds);
            var legacy = await manage.GetJsonAsync("/host/manage", ct);
            Assert.Contains(unreg, legacy.GetProperty("DATA").EnumerateArray().Select(e => e.GetString()));
            var grpc = await manage.Grpc.FindNotManagedHostsAsync(new FindNotManagedHostsRequest(), cancellationToken: ct);
            Assert.Contains(grpc.Hosts, h => h.HostId == unreg && h.State == HostLivenessState.Unregistered && h.LastSeenAt is not null);
            var grpcSilent = await manage.Grpc.ListHostLivenessAsync(new ListHostLivenessRequest { State = HostLivenessState.Silent, Location = "live-" + tag }, cancellationToken: ct);
            Assert.Equal([quiet], grpcSilent.Hosts.Select(h => h.HostId));
            Assert.Equal(3000, grpcSilent.WindowMs);

            // Act + Assert 2: a host that stops reporting turns silent since its last sample.
            lock (writing)
            {
                writing.Remove(reg);
            }
            await Poll.UntilAsync(async () => State(hosts = await LivenessAsync(ct), reg) == "silent", Timeout, $"{reg} to turn silent", ct);
            Assert.Equal(hosts[reg].GetProperty("lastSeenAt").GetString(), hosts[reg].GetProperty("silentSince").GetString());
            Assert.NotEqual(JsonValueKind.Null, hosts[reg].GetProperty("lastSeenAt").ValueKind);

            // Act + Assert 3: once inserted, the unregistered host is reporting and no longer "not managed".
            using (var r = await manage.PostJsonAsync("/api/v1/manage/hosts", new { hostId = unreg, location = "live-" + tag }, ct))
            {
                Assert.Equal(HttpStatusCode.Created, r.StatusCode);
            }
            await Poll.UntilAsync(async () => State(await LivenessAsync(ct), unreg) == "reporting", Timeout, $"{unreg} to be reporting", ct);
            legacy = await manage.GetJsonAsync("/host/manage", ct);
            Assert.DoesNotContain(unreg, legacy.GetProperty("DATA").EnumerateArray().Select(e => e.GetString()));
        }
        finally
        {
            await stop.CancelAsync();
            try
            {
                await writer;
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    [Fact]
    public async Task Delete_WithPurge_DropsTheHostsSeries()
    {
        // Arrange
        var ct = TestContext.Current.CancellationToken;
        var id = "purge-" + Guid.NewGuid().ToString("N")[..10];
        var keep = "keep-" + Guid.NewGuid().ToString("N")[..10];
        using (var r = await manage.PostJsonAsync("/api/v1/manage/hosts", new { hostId = id, location = "p" }, ct))
        {
            Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        }
        await manage.WriteSamplesAsync([id, keep], TimeProvider.System.GetUtcNow(), ct);
        Assert.Equal(2, (await manage.Influx.PointsAsync(id, ["cpu_rate", "mem_rate"], ct)).Count);

        // Act
        using var response = await manage.Http.DeleteAsync($"/api/v1/manage/hosts/{id}?purgeData=true", ct);

        // Assert
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct)).RootElement;
        Assert.True(body.GetProperty("dataPurged").GetBoolean());
        Assert.Empty(await manage.Influx.PointsAsync(id, ["cpu_rate", "mem_rate"], ct));
        Assert.Equal(2, (await manage.Influx.PointsAsync(keep, ["cpu_rate", "mem_rate"], ct)).Count);
    }

    [Fact]
    public async Task Grpc_DeleteWithPurge_DropsTheHostsSeries()
    {
        // Arrange
        var ct = TestContext.Current.CancellationToken;
        var id = "gpurge-" + Guid.NewGuid().ToString("N")[..10];
        var keep = "gkeep-" + Guid.NewGuid().ToString("N")[..10];
        await manage.Grpc.CreateHostAsync(new CreateHostRequest { HostId = id, Location = "p" }, cancellationToken: ct);
        await manage.WriteSamplesAsync([id, keep], TimeProvider.System.GetUtcNow(), ct);
        Assert.Equal(2, (await manage.Influx.PointsAsync(id, ["cpu_rate", "mem_rate"], ct)).Count);

        // Act
        var response = await manage.Grpc.DeleteHostAsync(new DeleteHostRequest { HostId = id, PurgeData = true }, cancellationToken: ct);

        // Assert
        Assert.True(response.DataPurged);
        Assert.Empty(await manage.Influx.PointsAsync(id, ["cpu_rate", "mem_rate"], ct));
        Assert.Equal(2, (await manage.Influx.PointsAsync(keep, ["cpu_rate", "mem_rate"], ct)).Count);
        var gone = await Assert.ThrowsAsync<Grpc.Core.RpcException>(async () => await manage.Grpc.GetHostAsync(new GetHostRequest { HostId = id }, cancellationToken: ct));
        Assert.Equal(Grpc.Core.StatusCode.NotFound, gone.StatusCode);
    }
}
