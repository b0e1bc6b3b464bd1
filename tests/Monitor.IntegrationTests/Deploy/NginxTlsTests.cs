using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.RegularExpressions;
using Grpc.Core;
using Grpc.Net.Client;
using Monitor.IntegrationTests.Access;
using Monitor.Protos.V1;
using Monitor.TestUtilities;
using Xunit;

namespace Monitor.IntegrationTests.Deploy;

/// <summary>
/// The shipped TLS termination config (<c>deploy/nginx/monitor-tls.conf</c>) really serving: a private nginx runs it
/// (ports, upstreams and certificate paths rewritten only) with a server certificate from a CA made in the test, in
/// front of the access fixture's report and manage services. The real agent, given the CA and an agent token, reports
/// through nginx over TLS (gRPC over h2 by ALPN); the REST API answers over HTTPS with HSTS and a Secure session
/// cookie; plaintext to the TLS ports fails, and the plaintext port only redirects to HTTPS.
/// </summary>
[Collection(AccessCollection.Name)]
public sealed partial class NginxTlsTests(AccessFixture fixture) : IAsyncDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("monitor-nginx-tls-run-").FullName;
    private Process? _nginx;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ShippedTlsConfig_AgentReportsThroughNginxOverTls_ApiOverHttps_PlaintextRefused()
    {
        // Arrange: the shipped config on free loopback ports, in front of the fixture's services.
        var (caPath, certPath, keyPath) = TlsTests.WriteTestPki(_dir);
        int plainPort = Ports.Free(), webPort = Ports.Free(), grpcPort = Ports.Free();
        var config = await File.ReadAllTextAsync(Path.Combine(Repo.Root, "deploy", "nginx", "monitor-tls.conf"), Ct);
        config = Replace(config, "worker_processes auto;", "worker_processes 1;");
        config = Replace(config, "pid /run/nginx-monitor.pid;", $"pid {_dir}/nginx.pid;");
        config = Replace(config, "/etc/monitor/tls/server.pem", certPath);
        config = Replace(config, "/etc/monitor/tls/server.key", keyPath);
        config = Replace(config, "listen 80;", $"listen 127.0.0.1:{plainPort};");
        config = Replace(config, "listen 443 ssl http2;", $"listen 127.0.0.1:{webPort} ssl http2;");
        config = Replace(config, "listen 8443 ssl http2;", $"listen 127.0.0.1:{grpcPort} ssl http2;");
        config = Replace(config, "http {\n", $$"""
            http {
                access_log {{_dir}}/access.log;
                client_body_temp_path {{_dir}}/tmp/body;
                proxy_temp_path {{_dir}}/tmp/proxy;
                fastcgi_temp_path {{_dir}}/tmp/fastcgi;
                uwsgi_temp_path {{_dir}}/tmp/uwsgi;
                scgi_temp_path {{_dir}}/tmp/scgi;

            """);
        var pool = ReportPoolServers().Match(config);
        Assert.True(pool.Success, "the shipped config has no report_pool upstream with servers");
        config = config.Remove(pool.Index, pool.Length).Insert(pool.Index, $"server {HostPort(fixture.ReportGrpc)} max_fails=1 fail_timeout=3s;\n");
        config = Replace(config, "server 127.0.0.1:8050;", $"server {HostPort(fixture.ManageGrpc)};");
        config = Replace(config, "server 127.0.0.1:8020;", $"server {HostPort(fixture.AnalyzeHttp)};");
        config = Replace(config, "server 127.0.0.1:8040;", $"server {HostPort(fixture.WarningHttp)};");
        config = Replace(config, "server 127.0.0.1:8060;", $"server {HostPort(fixture.ManageHttp)};");
        Directory.CreateDirectory(Path.Combine(_dir, "tmp"));
        var configPath = Path.Combine(_dir, "nginx.conf");
        await File.WriteAllTextAsync(configPath, config, Ct);
        StartNginx(configPath);

        using var https = new HttpClient(TrustingHandler(caPath)) { Timeout = TimeSpan.FromSeconds(30) };
        var web = $"https://127.0.0.1:{webPort}";
        await Poll.UntilAsync(async () =>
        {
            Assert.False(_nginx!.HasExited, "nginx exited: " + ErrorLog());
            using var r = await https.GetAsync(web + "/nginx-health", Ct);
            return r.StatusCode == HttpStatusCode.OK;
        }, TimeSpan.FromSeconds(20), "nginx to answer over TLS", Ct);

        // Act + Assert 1: the REST API over HTTPS, with HSTS; the session cookie is Secure behind TLS termination.
        using (var request = new HttpRequestMessage(HttpMethod.Get, web + "/api/v1/manage/auth/me"))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", fixture.AdminToken);
            using var me = await https.SendAsync(request, Ct);
            var text = await me.Content.ReadAsStringAsync(Ct);
            Assert.True(me.StatusCode == HttpStatusCode.OK, $"{(int)me.StatusCode}: {text}");
            Assert.Equal("token:fixture-admin", JsonDocument.Parse(text).RootElement.GetProperty("name").GetString());
            Assert.Contains("max-age=", string.Join(",", me.Headers.GetValues("Strict-Transport-Security")), StringComparison.Ordinal);
        }
        using (var login = await https.PostAsJsonAsync(web + "/api/v1/manage/auth/login", new { username = AccessFixture.AdminName, password = fixture.AdminPassword }, Ct))
        {
            Assert.Equal(HttpStatusCode.NoContent, login.StatusCode);
            var cookie = login.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("monitor_session=", StringComparison.Ordinal));
            fixture.Secrets.Add(cookie["monitor_session=".Length..cookie.IndexOf(';', StringComparison.Ordinal)]);
            Assert.Contains("; secure", cookie, StringComparison.OrdinalIgnoreCase);
        }

        // Act + Assert 2: the real agent reports through nginx's gRPC TLS port with the test CA and a per-host agent token.
        var host = "nginx-tls-agent-" + Guid.NewGuid().ToString("N")[..6];
        var token = await fixture.CreateTokenAsync(new { name = host, kind = "agent", hostId = host }, Ct);
        var tokenFile = Path.Combine(_dir, "agent.token");
        await File.WriteAllTextAsync(tokenFile, token + "\n", Ct);
        var ledger = Path.Combine(_dir, "acked.jsonl");
        var agent = fixture.Start("nginx-tls-agent", Repo.Assembly("agent", "monitor-agent"), new()
        {
            ["Agent__HostId"] = host,
            ["Agent__Interval"] = "00:00:01",
            ["Agent__SpoolDirectory"] = Path.Combine(_dir, "spool"),
            ["Agent__LedgerPath"] = ledger,
            ["Agent__ReportAddresses__0"] = $"https://127.0.0.1:{grpcPort}",
            ["Agent__CaCertificatePath"] = caPath,
            ["Agent__TokenFile"] = tokenFile,
            ["Agent__ReconnectInitialDelay"] = "00:00:00.200",
            ["Agent__ReconnectMaxDelay"] = "00:00:01",
        });
        await Poll.UntilAsync(() =>
        {
            Assert.False(agent.HasExited, "the agent exited: " + agent.Tail());
            return File.Exists(ledger) && CountLines(ledger, host) >= 2;
        }, TimeSpan.FromSeconds(60), "the agent's batches to be acknowledged through nginx over TLS", Ct);
        Assert.DoesNotContain(token, ReadShared(agent.LogPath), StringComparison.Ordinal);

        // Act + Assert 3: plaintext to the TLS ports fails; the plaintext port serves nothing but a redirect.
        using (var plain = GrpcChannel.ForAddress($"http://127.0.0.1:{grpcPort}"))
        {
            var ex = await Assert.ThrowsAnyAsync<Exception>(() => ReportOnceAsync(plain, host));
            Assert.True(ex is RpcException { StatusCode: not StatusCode.OK } or IOException or HttpRequestException, ex.ToString());
        }
        using var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(30) };
        using (var request = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{webPort}/api/v1/manage/auth/me"))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", fixture.AdminToken);
            using var plainToTls = await http.SendAsync(request, Ct);
            Assert.Equal(HttpStatusCode.BadRequest, plainToTls.StatusCode);
            Assert.DoesNotContain("fixture-admin", await plainToTls.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        }
        using (var redirected = await http.GetAsync($"http://127.0.0.1:{plainPort}/api/v1/manage/auth/me", Ct))
        {
            Assert.Equal(HttpStatusCode.MovedPermanently, redirected.StatusCode);
            Assert.Equal("https", redirected.Headers.Location?.Scheme);
        }
    }

    /// <summary>Replaces a fragment the test relies on; fails loudly when the shipped config no longer has it.</summary>
    private static string Replace(string config, string fragment, string replacement)
    {
        Assert.True(config.Contains(fragment, StringComparison.Ordinal), $"deploy/nginx/monitor-tls.conf no longer contains '{fragment}'");
        return config.Replace(fragment, replacement, StringComparison.Ordinal);
    }

    private static string HostPort(string url) => new Uri(url).Authority;

    [GeneratedRegex(@"(?<=upstream report_pool \{\s*)(server [^;]+;\s*)+")]
    private static partial Regex ReportPoolServers();

    private void StartNginx(string configPath)
    {
        var psi = new ProcessStartInfo("nginx") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "-p", _dir + "/", "-c", configPath, "-e", Path.Combine(_dir, "error.log"), "-g", "daemon off;" })
        {
            psi.ArgumentList.Add(a);
        }
        _nginx = Process.Start(psi)!;
        _nginx.OutputDataReceived += (_, _) => { };
        _nginx.ErrorDataReceived += (_, _) => { };
        _nginx.BeginOutputReadLine();
        _nginx.BeginErrorReadLine();
    }

    private string ErrorLog() => File.Exists(Path.Combine(_dir, "error.log")) ? ReadShared(Path.Combine(_dir, "error.log")) : "";

    private static SocketsHttpHandler TrustingHandler(string caPath)
    {
        var authorities = new X509Certificate2Collection();
        authorities.ImportFromPemFile(caPath);
        var handler = new SocketsHttpHandler { UseCookies = false };
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
        {
            if (certificate is null || (errors & System.Net.Security.SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
            {
                return false;
            }
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            chain.ChainPolicy.CustomTrustStore.AddRange(authorities);
            return chain.Build(new X509Certificate2(certificate));
        };
        return handler;
    }

    private static async Task ReportOnceAsync(GrpcChannel channel, string hostId)
    {
        var client = new ReportService.ReportServiceClient(channel);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cts.CancelAfter(TimeSpan.FromSeconds(20));
        using var call = client.Report(cancellationToken: cts.Token);
        await call.RequestStream.WriteAsync(new SampleBatch { HostId = hostId, Sequence = 1 }, cts.Token);
        if (!await call.ResponseStream.MoveNext(cts.Token))
        {
            throw new IOException("the stream ended without an answer");
        }
    }

    private static int CountLines(string path, string needle) =>
        ReadShared(path).Split('\n').Count(l => l.Contains(needle, StringComparison.Ordinal));

    private static string ReadShared(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    public async ValueTask DisposeAsync()
    {
        if (_nginx is { HasExited: false })
        {
            _nginx.Kill(entireProcessTree: true);
            await _nginx.WaitForExitAsync();
        }
        _nginx?.Dispose();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
            // Best effort.
        }
    }
}
