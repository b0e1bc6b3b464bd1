using Grpc.Core;
using Grpc.Net.Client;
using Monitor.Protos.V1;
using Xunit;

namespace Monitor.IntegrationTests.Access;

/// <summary>Agent tokens on the report stream: fleet and per-host tokens, unknown and revoked tokens, non-agent tokens.</summary>
[Collection(AccessCollection.Name)]
public sealed class AgentTokenTests(AccessFixture fixture)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task PerHostToken_ReportsForItsHost_AnotherHostIsPermissionDenied()
    {
        var host = "agent-host-" + Guid.NewGuid().ToString("N")[..6];
        var token = await fixture.CreateTokenAsync(new { name = "agent-" + host, kind = "agent", hostId = host }, Ct);

        var ack = await ReportOnceAsync(token, host);
        Assert.Equal(1UL, ack.Sequence);

        var ex = await Assert.ThrowsAsync<RpcException>(() => ReportOnceAsync(token, "someone-else"));
        Assert.Equal(StatusCode.PermissionDenied, ex.StatusCode);
    }

    [Fact]
    public async Task FleetToken_ReportsForAnyHost()
    {
        var token = await fixture.CreateTokenAsync(new { name = "fleet-" + Guid.NewGuid().ToString("N")[..6], kind = "agent" }, Ct);
        Assert.Equal(1UL, (await ReportOnceAsync(token, "fleet-a")).Sequence);
        Assert.Equal(1UL, (await ReportOnceAsync(token, "fleet-b")).Sequence);
    }

    [Fact]
    public async Task NoToken_UnknownToken_RevokedToken_Unauthenticated_ViewerToken_PermissionDenied()
    {
        var none = await Assert.ThrowsAsync<RpcException>(() => ReportOnceAsync(null, "h"));
        Assert.Equal(StatusCode.Unauthenticated, none.StatusCode);
        var unknown = await Assert.ThrowsAsync<RpcException>(() => ReportOnceAsync("mona_unknown", "h"));
        Assert.Equal(StatusCode.Unauthenticated, unknown.StatusCode);

        var viewer = await fixture.CreateTokenAsync(new { name = "not-an-agent-" + Guid.NewGuid().ToString("N")[..6], role = "viewer" }, Ct);
        var wrongKind = await Assert.ThrowsAsync<RpcException>(() => ReportOnceAsync(viewer, "h"));
        Assert.Equal(StatusCode.PermissionDenied, wrongKind.StatusCode);

        var (id, agent) = await fixture.CreateTokenWithIdAsync(new { name = "revoked-agent-" + Guid.NewGuid().ToString("N")[..6], kind = "agent" }, Ct);
        await ReportOnceAsync(agent, "h"); // cached by the report service from here on
        using (var revoke = await AccessFixture.SendAsync(HttpMethod.Delete, $"{fixture.ManageHttp}/api/v1/manage/tokens/{id}", fixture.AdminToken, null, Ct))
        {
            Assert.True(revoke.IsSuccessStatusCode);
        }
        await Monitor.TestUtilities.Poll.UntilAsync(async () =>
        {
            try
            {
                await ReportOnceAsync(agent, "h");
                return false;
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.Unauthenticated)
            {
                return true;
            }
        }, TimeSpan.FromSeconds(10), "the report service to reject the revoked agent token", Ct);
    }

    private async Task<ReportAck> ReportOnceAsync(string? token, string hostId)
    {
        using var channel = GrpcChannel.ForAddress(fixture.ReportGrpc);
        var client = new ReportService.ReportServiceClient(channel);
        var headers = token is null ? null : new Metadata { { "authorization", "Bearer " + token } };
        using var call = client.Report(headers, cancellationToken: Ct);
        var now = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds();
        await call.RequestStream.WriteAsync(new SampleBatch
        {
            HostId = hostId,
            Sequence = 1,
            SentAtUnixMs = now,
            Samples = { new Sample { Metric = "cpu_rate", Value = 1.5, TimestampUnixMs = now } },
        }, Ct);
        if (!await call.ResponseStream.MoveNext(Ct))
        {
            await call.RequestStream.CompleteAsync();
            throw new InvalidOperationException("the stream ended without an ack");
        }
        var ack = call.ResponseStream.Current;
        await call.RequestStream.CompleteAsync();
        while (await call.ResponseStream.MoveNext(Ct))
        {
        }
        return ack;
    }
}
