using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace Monitor.Prober.Probes;

/// <summary>
/// ICMP echo: <see cref="IcmpProbeConfig.Count"/> echos one after another, each allowed an equal
/// share of the target's timeout; reports min/avg/max round-trip time and packet loss. As root .NET
/// sends raw ICMP itself; otherwise it runs the system's <c>ping</c> (Debian package iputils-ping).
/// </summary>
internal sealed class IcmpProbe(IcmpProbeConfig config, TimeSpan timeout) : IProbe
{
    public async Task<ProbeResult> RunAsync(CancellationToken cancellationToken)
    {
        var perEcho = TimeSpan.FromMilliseconds(Math.Max(50, timeout.TotalMilliseconds * 0.9 / config.Count));
        var rtts = new List<double>();
        string? lastStatus = null;
        using var ping = new Ping();
        for (int i = 0; i < config.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                var reply = await ping.SendPingAsync(config.Host!, perEcho, cancellationToken: cancellationToken).ConfigureAwait(false);
                if (reply.Status == IPStatus.Success)
                {
                    rtts.Add(reply.RoundtripTime);
                }
                else
                {
                    lastStatus = reply.Status.ToString();
                }
            }
            catch (PingException ex) when (ex.InnerException is SocketException se)
            {
                return ProbeErrors.ToResult(se);
            }
        }
        var loss = 100.0 * (config.Count - rtts.Count) / config.Count;
        var metrics = new List<ProbeMetric>
        {
            new("probe_icmp_sent", config.Count),
            new("probe_icmp_loss_rate", loss),
        };
        if (rtts.Count > 0)
        {
            metrics.Add(new("probe_icmp_rtt_ms", rtts.Average()));
            metrics.Add(new("probe_icmp_rtt_min_ms", rtts.Min()));
            metrics.Add(new("probe_icmp_rtt_max_ms", rtts.Max()));
        }
        if (rtts.Count == 0)
        {
            return ProbeResult.Fail(lastStatus == nameof(IPStatus.TimedOut) ? ProbeFailure.Timeout : ProbeFailure.Status,
                $"{loss:0.#}% packet loss over {config.Count} echo(s){(lastStatus is null ? "" : $", last status {lastStatus}")}", metrics);
        }
        return ProbeResult.Ok(metrics, loss > 0 ? [$"{loss:0.#}% packet loss"] : null);
    }
}
