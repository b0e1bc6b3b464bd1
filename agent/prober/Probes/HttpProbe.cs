using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.RegularExpressions;

namespace Monitor.Prober.Probes;

/// <summary>
/// HTTP(S) check. Every run uses a fresh connection so DNS, connect and TLS are measured: the
/// handler's ConnectCallback resolves and connects itself (timestamps around each step), the
/// certificate callback marks the end of the server's TLS flight and reads the certificate's
/// expiry, response headers mark the first byte. Redirects are followed by hand, so they are
/// counted; the phase times are those of the first connection.
/// </summary>
internal sealed class HttpProbe(HttpProbeConfig config, TimeProvider timeProvider) : IProbe
{
    private sealed class Phases
    {
        public long Start;
        public double? DnsMs;
        public double? ConnectMs;
        public long ConnectedAt;
        public double? TlsMs;
        public double? CertDaysLeft;
        public SslPolicyErrors? TlsErrors;
    }

    public async Task<ProbeResult> RunAsync(CancellationToken cancellationToken)
    {
        var phases = new Phases { Start = timeProvider.GetTimestamp() };
        using var handler = CreateHandler(phases);
        using var client = new HttpClient(handler, disposeHandler: false) { Timeout = Timeout.InfiniteTimeSpan };
        var metrics = new List<ProbeMetric>();
        var uri = new Uri(config.Url!);
        var redirects = 0;
        try
        {
            while (true)
            {
                using var request = CreateRequest(uri);
                using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
                var status = (int)response.StatusCode;
                if (config.FollowRedirects && status is >= 300 and < 400 && response.Headers.Location is { } location)
                {
                    if (redirects >= config.MaxRedirects)
                    {
                        AddPhaseMetrics(metrics, phases, null, redirects);
                        return ProbeResult.Fail(ProbeFailure.Status, $"more than {config.MaxRedirects} redirects", metrics);
                    }
                    redirects++;
                    uri = location.IsAbsoluteUri ? location : new Uri(uri, location);
                    continue;
                }
                var firstByteMs = Ms(phases.Start);
                var body = await ReadBodyAsync(response, cancellationToken).ConfigureAwait(false);
                AddPhaseMetrics(metrics, phases, firstByteMs, redirects);
                metrics.Add(new("probe_http_status_code", status));
                metrics.Add(new("probe_http_content_bytes", Encoding.UTF8.GetByteCount(body)));
                return Check(status, body, metrics);
            }
        }
        catch (HttpRequestException ex) when (phases.TlsErrors is { } errors && errors != SslPolicyErrors.None && config.TlsVerify)
        {
            AddPhaseMetrics(metrics, phases, null, redirects);
            return ProbeResult.Fail(ProbeFailure.Tls, $"certificate not trusted ({errors}): {ex.Message}", metrics);
        }
        catch (HttpRequestException ex)
        {
            AddPhaseMetrics(metrics, phases, null, redirects);
            return ProbeErrors.ToResult(ex, metrics);
        }
    }

    private ProbeResult Check(int status, string body, List<ProbeMetric> metrics)
    {
        var accepted = config.AcceptedStatusCodes.Count == 0 ? status is >= 200 and < 300 : config.AcceptedStatusCodes.Contains(status);
        if (!accepted)
        {
            return ProbeResult.Fail(ProbeFailure.Status, $"HTTP {status} not accepted", metrics);
        }
        try
        {
            if (config.BodyMustMatch is { Length: > 0 } must && !Regex.IsMatch(body, must, RegexOptions.None, TimeSpan.FromSeconds(1)))
            {
                return ProbeResult.Fail(ProbeFailure.Body, $"body does not match /{must}/", metrics);
            }
            if (config.BodyMustNotMatch is { Length: > 0 } mustNot && Regex.IsMatch(body, mustNot, RegexOptions.None, TimeSpan.FromSeconds(1)))
            {
                return ProbeResult.Fail(ProbeFailure.Body, $"body matches /{mustNot}/", metrics);
            }
        }
        catch (RegexMatchTimeoutException)
        {
            return ProbeResult.Fail(ProbeFailure.Body, "body regular expression took longer than 1 s", metrics);
        }
        var warnings = new List<string>();
        if (metrics.FirstOrDefault(m => m.Name == "probe_tls_cert_days_left") is { Value: < 14 } days)
        {
            warnings.Add($"certificate expires in {days.Value:0.#} days");
        }
        return ProbeResult.Ok(metrics, warnings);
    }

    private HttpRequestMessage CreateRequest(Uri uri)
    {
        var request = new HttpRequestMessage(new HttpMethod(config.Method.ToUpperInvariant()), uri);
        if (config.Body.Length > 0)
        {
            request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(config.Body));
        }
        foreach (var (name, value) in config.Headers)
        {
            if (!request.Headers.TryAddWithoutValidation(name, value))
            {
                request.Content ??= new ByteArrayContent([]);
                request.Content.Headers.TryAddWithoutValidation(name, value);
            }
        }
        return request;
    }

    private static async Task<string> ReadBodyAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var stream = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            var buffer = new byte[Math.Min(HttpProbeConfig.MaxBodyBytes, 64 * 1024) + 1];
            using var collected = new MemoryStream();
            while (collected.Length < HttpProbeConfig.MaxBodyBytes)
            {
                var read = await stream.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, HttpProbeConfig.MaxBodyBytes - collected.Length)), ct).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }
                collected.Write(buffer, 0, read);
            }
            return Encoding.UTF8.GetString(collected.GetBuffer(), 0, (int)collected.Length);
        }
    }

    private static void AddPhaseMetrics(List<ProbeMetric> metrics, Phases phases, double? firstByteMs, int redirects)
    {
        Add(metrics, "probe_http_dns_ms", phases.DnsMs);
        Add(metrics, "probe_http_connect_ms", phases.ConnectMs);
        Add(metrics, "probe_http_tls_ms", phases.TlsMs);
        Add(metrics, "probe_http_first_byte_ms", firstByteMs);
        Add(metrics, "probe_tls_cert_days_left", phases.CertDaysLeft);
        metrics.Add(new("probe_http_redirects", redirects));
    }

    private static void Add(List<ProbeMetric> metrics, string name, double? value)
    {
        if (value is { } v)
        {
            metrics.Add(new(name, v));
        }
    }

    private double Ms(long since) => timeProvider.GetElapsedTime(since).TotalMilliseconds;

    private SocketsHttpHandler CreateHandler(Phases phases) => new()
    {
        AllowAutoRedirect = false,
        UseCookies = false,
        AutomaticDecompression = DecompressionMethods.All,
        PooledConnectionLifetime = TimeSpan.Zero,
        UseProxy = false,
        ConnectCallback = async (context, ct) =>
        {
            var host = context.DnsEndPoint.Host;
            var dnsStart = timeProvider.GetTimestamp();
            var addresses = IPAddress.TryParse(host, out var literal)
                ? [literal]
                : await Dns.GetHostAddressesAsync(host, ct).ConfigureAwait(false);
            phases.DnsMs ??= Ms(dnsStart);
            var connectStart = timeProvider.GetTimestamp();
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(addresses, context.DnsEndPoint.Port, ct).ConfigureAwait(false);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
            phases.ConnectMs ??= Ms(connectStart);
            phases.ConnectedAt = timeProvider.GetTimestamp();
            return new NetworkStream(socket, ownsSocket: true);
        },
        SslOptions = new SslClientAuthenticationOptions
        {
            RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
            {
                if (phases.TlsMs is null && phases.ConnectedAt != 0)
                {
                    phases.TlsMs = Ms(phases.ConnectedAt);
                }
                if (phases.CertDaysLeft is null && certificate is X509Certificate2 cert)
                {
                    phases.CertDaysLeft = Math.Round((cert.NotAfter.ToUniversalTime() - timeProvider.GetUtcNow().UtcDateTime).TotalDays, 2);
                }
                phases.TlsErrors = errors;
                return !config.TlsVerify || errors == SslPolicyErrors.None;
            },
        },
    };
}
