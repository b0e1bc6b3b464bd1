using System.Diagnostics;
using System.Text.Json;
using Monitor.Protos.V1;
using Monitor.TestUtilities;
using Xunit;

namespace Monitor.IntegrationTests.Manage;

/// <summary>The watch-driven registry view against real etcd and real processes.</summary>
[Collection(ManageCollection.Name)]
public sealed class RegistryTests(ManageFixture manage)
{
    private async Task<JsonElement?> InstanceAsync(string instanceId, CancellationToken ct)
    {
        var body = await manage.GetJsonAsync("/api/v1/manage/services?kind=manage", ct);
        Assert.True(body.GetProperty("synced").GetBoolean());
        foreach (var i in body.GetProperty("instances").EnumerateArray())
        {
            if (i.GetProperty("instanceId").GetString() == instanceId)
            {
                return i;
            }
        }
        return null;
    }

    [Fact]
    public async Task ListsItself_WithEndpointsVersionAndStartTime()
    {
        // Act
        var ct = TestContext.Current.CancellationToken;
        JsonElement? self = null;
        await Poll.UntilAsync(async () => (self = await InstanceAsync(manage.InstanceId, ct)) is not null, TimeSpan.FromSeconds(20), "the fixture's own registration", ct);

        // Assert
        var s = self!.Value;
        Assert.Equal("manage", s.GetProperty("kind").GetString());
        Assert.Equal(manage.HttpUrl, s.GetProperty("httpUrl").GetString());
        Assert.Equal(manage.GrpcUrl, s.GetProperty("grpcUrl").GetString());
        Assert.False(string.IsNullOrEmpty(s.GetProperty("version").GetString()));
        Assert.EndsWith("Z", s.GetProperty("startedAt").GetString(), StringComparison.Ordinal);
        Assert.True(s.GetProperty("leaseAlive").GetBoolean());
        Assert.Equal($"/monitor/services/manage/{manage.InstanceId}", s.GetProperty("key").GetString());
    }

    [Fact]
    public async Task InstanceKilledWithSigkill_ShowsLeaseGone_AfterItsTtl()
    {
        // Arrange: a throwaway instance with a 3 s lease.
        var ct = TestContext.Current.CancellationToken;
        var instanceId = "test-doomed-" + Guid.NewGuid().ToString("N")[..8];
        var http = $"http://127.0.0.1:{Ports.Free()}";
        var doomed = manage.StartManage("manage-doomed", instanceId, $"http://127.0.0.1:{Ports.Free()}", http, new()
        {
            ["Etcd__LeaseTtl"] = "00:00:03",
            ["Manage__ApplyMigrationsOnStartup"] = "false",
        });
        await doomed.WaitHealthyAsync(http + "/health/live", TimeSpan.FromSeconds(60), ct);
        await Poll.UntilAsync(async () => (await InstanceAsync(instanceId, ct))?.GetProperty("leaseAlive").GetBoolean() == true,
            TimeSpan.FromSeconds(20), $"{instanceId} registered and alive", ct);

        // Act: SIGKILL, so the lease is never revoked and must expire.
        doomed.Kill();
        var clock = Stopwatch.StartNew();
        JsonElement? gone = null;
        await Poll.UntilAsync(async () => (gone = await InstanceAsync(instanceId, ct))?.GetProperty("leaseAlive").GetBoolean() == false,
            TimeSpan.FromSeconds(3 + 12), $"{instanceId} to lose its lease", ct);

        // Assert: gone within TTL plus a few seconds, still listed with the time it went away.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3 + 12), $"took {clock.Elapsed}");
        Assert.NotEqual(JsonValueKind.Null, gone!.Value.GetProperty("goneAt").ValueKind);
        var grpc = await manage.Grpc.ListServiceInstancesAsync(new ListServiceInstancesRequest { Kind = "manage" }, cancellationToken: ct);
        Assert.True(grpc.Synced);
        Assert.Contains(grpc.Instances, i => i.InstanceId == instanceId && !i.LeaseAlive && i.GoneAt is not null);
        Assert.Contains(grpc.Instances, i => i.InstanceId == manage.InstanceId && i.LeaseAlive);
    }
}
