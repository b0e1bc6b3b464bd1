using Grpc.Core;
using Grpc.Net.Client;
using Monitor.Protos.V1;
using Xunit;

namespace Monitor.IntegrationTests.Warning;

/// <summary>The gRPC contract (protos/monitor/v1/warning.proto) against the real service.</summary>
public sealed class WarningGrpcTests
{
    [Fact]
    public async Task Rules_CreateUpdateGetAndInvalid_OverGrpc()
    {
        // Arrange
        await using var h = await WarningHarness.StartAsync();
        var ct = TestContext.Current.CancellationToken;
        using var channel = GrpcChannel.ForAddress(h.GrpcUrls[0]);
        var client = new WarningService.WarningServiceClient(channel);
        var spec = new RuleSpec
        {
            Name = "grpc cpu",
            Metric = "cpu_rate",
            ScopeKind = "all",
            Comparator = "gt",
            ConsecutiveBreaches = 2,
            Enabled = true,
            RecoveryThreshold = 60,
            Bands = { new SeverityBand { Severity = "warning", Threshold = 80 }, new SeverityBand { Severity = "critical", Threshold = 95 } },
        };

        // Act
        var created = await client.CreateRuleAsync(new CreateRuleRequest { Spec = spec }, cancellationToken: ct);
        spec.ConsecutiveBreaches = 4;
        var updated = await client.UpdateRuleAsync(new UpdateRuleRequest { Id = created.Rule.Id, Spec = spec }, cancellationToken: ct);
        var got = await client.GetRuleAsync(new GetRuleRequest { Id = created.Rule.Id }, cancellationToken: ct);
        spec.Metric = "nope";
        var invalid = await Assert.ThrowsAsync<RpcException>(async () => await client.CreateRuleAsync(new CreateRuleRequest { Spec = spec }, cancellationToken: ct));
        var missing = await Assert.ThrowsAsync<RpcException>(async () => await client.GetRuleAsync(new GetRuleRequest { Id = 999_999 }, cancellationToken: ct));

        // Assert
        Assert.Equal(1, created.Rule.Version);
        Assert.Equal(2, updated.Rule.Version);
        Assert.Equal(4, got.Rule.Spec.ConsecutiveBreaches);
        Assert.Equal(60, got.Rule.Spec.RecoveryThreshold);
        Assert.Equal(2, got.Rule.Spec.Bands.Count);
        Assert.Equal(StatusCode.InvalidArgument, invalid.StatusCode);
        Assert.Contains("metric", invalid.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(StatusCode.NotFound, missing.StatusCode);
    }
}
