using System.Text;
using Microsoft.Extensions.Time.Testing;
using Monitor.Agent.Discovery;
using Monitor.Agent.Options;
using Xunit;

namespace Monitor.Agent.UnitTests;

public sealed class DiscoveryTests
{
    private static ReportEndpoints Endpoints(FakeTimeProvider time, string host = "host-a", params string[] fixedAddresses) =>
        new(Microsoft.Extensions.Options.Options.Create(new AgentOptions
        {
            HostId = host,
            ReportAddresses = [.. fixedAddresses],
            ReconnectMaxDelay = TimeSpan.FromSeconds(10),
        }), time);

    private static ReportEndpoint[] Pool(int n) =>
        Enumerable.Range(0, n).Select(i => new ReportEndpoint($"/monitor/services/report/r{i}", $"http://127.0.0.1:{8000 + i}")).ToArray();

    [Fact]
    public void Next_ManyHosts_SpreadsOverTheDiscoveredInstances()
    {
        // Arrange
        var time = new FakeTimeProvider();
        var counts = new Dictionary<string, int>();

        // Act
        for (int h = 0; h < 300; h++)
        {
            using var endpoints = Endpoints(time, $"host-{h}");
            endpoints.SetDiscovered(Pool(3));
            var address = endpoints.Next()!.Value.Endpoint.Address;
            counts[address] = counts.GetValueOrDefault(address) + 1;
        }

        // Assert: every instance gets a fair share (rendezvous hashing).
        Assert.Equal(3, counts.Count);
        Assert.All(counts.Values, c => Assert.InRange(c, 60, 140));
    }

    [Fact]
    public void Next_AfterFailure_MovesToAnotherInstanceAndBackAfterCoolDown()
    {
        // Arrange
        var time = new FakeTimeProvider();
        using var endpoints = Endpoints(time);
        endpoints.SetDiscovered(Pool(2));
        var first = endpoints.Next()!.Value.Endpoint;

        // Act
        endpoints.MarkFailed(first);
        var second = endpoints.Next()!.Value.Endpoint;
        endpoints.MarkFailed(second);
        var noneFresh = endpoints.HasFreshCandidate;
        time.Advance(TimeSpan.FromSeconds(11));
        var third = endpoints.Next()!.Value.Endpoint;

        // Assert
        Assert.NotEqual(first, second);
        Assert.False(noneFresh);
        Assert.Equal(first, third);
    }

    [Fact]
    public void SetDiscovered_CurrentInstanceLeaves_CancelsItsToken()
    {
        // Arrange
        var time = new FakeTimeProvider();
        using var endpoints = Endpoints(time);
        var pool = Pool(2);
        endpoints.SetDiscovered(pool);
        var (current, gone) = endpoints.Next()!.Value;

        // Act
        endpoints.SetDiscovered(pool.Where(p => p != current));

        // Assert
        Assert.True(gone.IsCancellationRequested);
        Assert.NotEqual(current, endpoints.Next()!.Value.Endpoint);
    }

    [Fact]
    public void Next_NothingDiscovered_UsesFixedAddressesInOrder()
    {
        // Arrange
        var time = new FakeTimeProvider();
        using var endpoints = Endpoints(time, "h", "http://a:1", "http://b:2");

        // Act
        var first = endpoints.Next()!.Value.Endpoint;
        endpoints.MarkFailed(first);
        var second = endpoints.Next()!.Value.Endpoint;

        // Assert
        Assert.Equal("http://a:1", first.Address);
        Assert.Equal("http://b:2", second.Address);
    }

    [Fact]
    public void Next_NoCandidateAtAll_ReturnsNull()
    {
        // Act + Assert
        using var endpoints = Endpoints(new FakeTimeProvider());
        Assert.Null(endpoints.Next());
    }

    [Fact]
    public void ParseGrpcAddress_ServiceRecord_ReturnsGrpcUrl()
    {
        // Arrange
        var value = Convert.ToBase64String(Encoding.UTF8.GetBytes("""{"grpc":"http://127.0.0.1:8000","http":"http://127.0.0.1:8100","version":"1.0","startedAt":"2026-11-23T13:52:09Z"}"""));

        // Act + Assert
        Assert.Equal("http://127.0.0.1:8000", EtcdDiscovery.ParseGrpcAddress(value));
    }

    [Theory]
    [InlineData("""{"http":"http://127.0.0.1:8100"}""")]
    [InlineData("""{"grpc":"not a url"}""")]
    [InlineData("not json")]
    [InlineData("[1]")]
    public void ParseGrpcAddress_UnusableRecord_ReturnsNull(string json)
    {
        // Act + Assert
        Assert.Null(EtcdDiscovery.ParseGrpcAddress(Convert.ToBase64String(Encoding.UTF8.GetBytes(json))));
    }

    [Fact]
    public void PrefixEnd_Prefix_IncrementsLastByte()
    {
        // Act + Assert
        Assert.Equal("/monitor/services/report0", Encoding.UTF8.GetString(EtcdDiscovery.PrefixEnd(Encoding.UTF8.GetBytes("/monitor/services/report/"))));
    }
}
