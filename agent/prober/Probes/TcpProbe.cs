using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Monitor.Prober.Probes;

/// <summary>TCP check: resolve, connect (timed), optionally send a line and read until the expected text appears.</summary>
internal sealed class TcpProbe(TcpProbeConfig config, TimeProvider timeProvider) : IProbe
{
    public async Task<ProbeResult> RunAsync(CancellationToken cancellationToken)
    {
        var metrics = new List<ProbeMetric>();
        var host = config.Host!;
        var start = timeProvider.GetTimestamp();
        IPAddress[] addresses;
        try
        {
            addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException ex)
        {
            return ProbeResult.Fail(ProbeFailure.Dns, $"cannot resolve {host}: {ex.Message}");
        }
        metrics.Add(new("probe_tcp_dns_ms", timeProvider.GetElapsedTime(start).TotalMilliseconds));
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        var connectStart = timeProvider.GetTimestamp();
        try
        {
            await socket.ConnectAsync(addresses, config.Port, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException ex)
        {
            return ProbeErrors.ToResult(ex, metrics);
        }
        metrics.Add(new("probe_tcp_connect_ms", timeProvider.GetElapsedTime(connectStart).TotalMilliseconds));
        if (config.Send.Length == 0 && config.Expect.Length == 0)
        {
            return ProbeResult.Ok(metrics);
        }
        try
        {
            await using var stream = new NetworkStream(socket, ownsSocket: false);
            if (config.Send.Length > 0)
            {
                await stream.WriteAsync(Encoding.UTF8.GetBytes(config.Send), cancellationToken).ConfigureAwait(false);
            }
            var expect = config.Expect;
            if (expect.Length == 0)
            {
                return ProbeResult.Ok(metrics);
            }
            var received = new StringBuilder();
            var buffer = new byte[4096];
            while (received.Length < 64 * 1024)
            {
                var read = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }
                received.Append(Encoding.UTF8.GetString(buffer, 0, read));
                if (received.ToString().Contains(expect, StringComparison.Ordinal))
                {
                    metrics.Add(new("probe_tcp_answer_ms", timeProvider.GetElapsedTime(connectStart).TotalMilliseconds));
                    return ProbeResult.Ok(metrics);
                }
            }
            var got = received.ToString();
            return ProbeResult.Fail(ProbeFailure.Body, $"answer does not contain the expected text (got {got.Length} characters: '{(got.Length > 80 ? got[..80] : got)}')", metrics);
        }
        catch (IOException ex)
        {
            return ProbeErrors.ToResult(ex, metrics);
        }
    }
}
