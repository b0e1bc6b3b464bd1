using System.Net;
using System.Net.Sockets;
using System.Text;
using Monitor.Prober.Probes;
using Xunit;

namespace Monitor.IntegrationTests.Probes;

/// <summary>The TCP probe against a closed port and a tiny line server, and ICMP ping of 127.0.0.1.</summary>
public sealed class TcpAndIcmpProbeTests
{
    [Fact]
    public async Task Tcp_ClosedPort_FailsWithReasonRefused()
    {
        // Act
        var result = await ProbeHarness.RunAsync("tcp", $$"""{"host":"127.0.0.1","port":{{NativeProcess.FreePort()}}}""");

        // Assert
        Assert.False(result.Success);
        Assert.Equal(ProbeFailure.Refused, result.Failure);
    }

    [Fact]
    public async Task Tcp_SendExpect_SucceedsWithConnectTime_AndMismatchFailsWithReasonBody()
    {
        // Arrange: answers "+PONG" to anything it receives.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var serve = Task.Run(async () =>
        {
            while (!cts.IsCancellationRequested)
            {
                using var client = await listener.AcceptTcpClientAsync(cts.Token);
                var stream = client.GetStream();
                var buffer = new byte[64];
                if (await stream.ReadAsync(buffer, cts.Token) > 0)
                {
                    await stream.WriteAsync(Encoding.ASCII.GetBytes("+PONG\r\n"), cts.Token);
                }
            }
        }, cts.Token);

        // Act
        var ok = await ProbeHarness.RunAsync("tcp", $$"""{"host":"127.0.0.1","port":{{port}},"send":"PING\r\n","expect":"PONG"}""");
        var mismatch = await ProbeHarness.RunAsync("tcp", $$"""{"host":"127.0.0.1","port":{{port}},"send":"PING\r\n","expect":"HELLO"}""", timeoutSeconds: 1);
        await cts.CancelAsync();

        // Assert
        Assert.True(ok.Success, ok.Describe());
        Assert.True(ok.Metric("probe_tcp_connect_ms") >= 0);
        Assert.False(mismatch.Success);
        Assert.Contains(mismatch.Failure, new ProbeFailure?[] { ProbeFailure.Body, ProbeFailure.Timeout });
    }

    [Fact]
    public async Task Tcp_ConnectOnly_Succeeds()
    {
        // Arrange
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();

        // Act
        var result = await ProbeHarness.RunAsync("tcp", $$"""{"host":"127.0.0.1","port":{{((IPEndPoint)listener.LocalEndpoint).Port}}}""");

        // Assert
        Assert.True(result.Success, result.Describe());
        Assert.True(result.Has("probe_tcp_connect_ms"));
    }

    [Fact]
    public async Task Icmp_Loopback_SucceedsWithRttAndNoLoss()
    {
        // Act
        var result = await ProbeHarness.RunAsync("icmp", """{"host":"127.0.0.1","count":3}""");

        // Assert
        Assert.True(result.Success, result.Describe());
        Assert.Equal(3, result.Metric("probe_icmp_sent"));
        Assert.Equal(0, result.Metric("probe_icmp_loss_rate"));
        Assert.True(result.Metric("probe_icmp_rtt_ms") >= 0);
        Assert.True(result.Metric("probe_icmp_rtt_max_ms") >= result.Metric("probe_icmp_rtt_min_ms"));
    }

    [Fact]
    public async Task Icmp_UnknownHost_FailsWithReasonDns()
    {
        // Act
        var result = await ProbeHarness.RunAsync("icmp", """{"host":"no-such-host.invalid","count":1}""");

        // Assert
        Assert.Equal(ProbeFailure.Dns, result.Failure);
    }
}
