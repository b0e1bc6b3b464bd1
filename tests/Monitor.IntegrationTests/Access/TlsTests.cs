using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Grpc.Net.Client;
using Monitor.Protos.V1;
using Monitor.TestUtilities;
using Xunit;

namespace Monitor.IntegrationTests.Access;

/// <summary>
/// A report service serving gRPC over TLS with a certificate from a CA made up in the test: the real agent, given the
/// CA and an agent token, reports through it; a plaintext client and a client that does not trust the CA are refused.
/// </summary>
[Collection(AccessCollection.Name)]
public sealed class TlsTests(AccessFixture fixture) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("monitor-tls-").FullName;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Agent_ReportsOverTls_WithCustomCa_PlaintextAndUntrustedClientsRefused()
    {
        var (caPath, certPath, keyPath) = WriteTestPki(_dir);
        var grpcUrl = $"https://127.0.0.1:{Ports.Free()}";
        var httpUrl = $"https://127.0.0.1:{Ports.Free()}";
        var report = fixture.Start("tls-report", Repo.Assembly("report-service", "Monitor.ReportService"), new()
        {
            ["Service__GrpcUrl"] = grpcUrl,
            ["Service__HttpUrl"] = httpUrl,
            ["Service__TlsCertificatePath"] = certPath,
            ["Service__TlsKeyPath"] = keyPath,
        });
        using (var trusting = TrustingHandler(caPath))
        {
            using var http = new HttpClient(trusting);
            await Poll.UntilAsync(async () =>
            {
                Assert.False(report.HasExited, "the TLS report service exited");
                try
                {
                    using var r = await http.GetAsync(httpUrl + "/health/live", Ct);
                    return r.StatusCode == HttpStatusCode.OK;
                }
                catch (HttpRequestException)
                {
                    return false;
                }
            }, TimeSpan.FromSeconds(60), "the TLS report service to answer", Ct);
        }

        // Plaintext HTTP/2 to the TLS port is refused.
        using (var plain = GrpcChannel.ForAddress(grpcUrl.Replace("https://", "http://", StringComparison.Ordinal)))
        {
            await AssertRefusedAsync(() => ReportOnceAsync(plain, "x"));
        }
        // A client that does not trust the test CA is refused by its own TLS check.
        using (var untrusted = GrpcChannel.ForAddress(grpcUrl))
        {
            var ex = await AssertRefusedAsync(() => ReportOnceAsync(untrusted, "x"));
            Assert.Contains("SSL", ex.ToString(), StringComparison.OrdinalIgnoreCase);
        }

        // The real agent with Agent:CaCertificatePath and Agent:TokenFile.
        var host = "tls-agent-" + Guid.NewGuid().ToString("N")[..6];
        var token = await fixture.CreateTokenAsync(new { name = host, kind = "agent", hostId = host }, Ct);
        var tokenFile = Path.Combine(_dir, "agent.token");
        await File.WriteAllTextAsync(tokenFile, token + "\n", Ct);
        var ledger = Path.Combine(_dir, "acked.jsonl");
        var agent = fixture.Start("tls-agent", Repo.Assembly("agent", "monitor-agent"), new()
        {
            ["Agent__HostId"] = host,
            ["Agent__Interval"] = "00:00:01",
            ["Agent__SpoolDirectory"] = Path.Combine(_dir, "spool"),
            ["Agent__LedgerPath"] = ledger,
            ["Agent__ReportAddresses__0"] = grpcUrl,
            ["Agent__CaCertificatePath"] = caPath,
            ["Agent__TokenFile"] = tokenFile,
            ["Agent__ReconnectInitialDelay"] = "00:00:00.200",
            ["Agent__ReconnectMaxDelay"] = "00:00:01",
        });
        await Poll.UntilAsync(() =>
        {
            Assert.False(agent.HasExited, "the agent exited");
            return File.Exists(ledger) && ReadShared(ledger).Contains(host, StringComparison.Ordinal);
        }, TimeSpan.FromSeconds(60), "the agent's batches to be acknowledged over TLS", Ct);
        Assert.DoesNotContain(token, ReadShared(agent.LogPath), StringComparison.Ordinal);
    }

    /// <summary>The call fails at the connection (gRPC status Unavailable/Internal, or the HTTP/2 handshake itself).</summary>
    private static async Task<Exception> AssertRefusedAsync(Func<Task> call)
    {
        var ex = await Assert.ThrowsAnyAsync<Exception>(call);
        Assert.True(ex is RpcException { StatusCode: not StatusCode.OK } or IOException or HttpRequestException, ex.ToString());
        return ex;
    }

    private static SocketsHttpHandler TrustingHandler(string caPath)
    {
        var authorities = new X509Certificate2Collection();
        authorities.ImportFromPemFile(caPath);
        var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
        {
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            chain.ChainPolicy.CustomTrustStore.AddRange(authorities);
            return certificate is not null && chain.Build(new X509Certificate2(certificate));
        };
        return handler;
    }

    /// <summary>A self-signed CA and a server certificate for 127.0.0.1/localhost signed by it, as PEM files.</summary>
    internal static (string Ca, string Cert, string Key) WriteTestPki(string dir)
    {
        var now = TimeProvider.System.GetUtcNow();
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=Monitor Test CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        using var ca = caRequest.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));

        using var serverKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=127.0.0.1", serverKey, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        san.AddDnsName("localhost");
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var server = request.Create(ca, now.AddMinutes(-5), now.AddDays(1), RandomNumberGenerator.GetBytes(8));

        var caPath = Path.Combine(dir, "ca.pem");
        var certPath = Path.Combine(dir, "server.pem");
        var keyPath = Path.Combine(dir, "server.key");
        File.WriteAllText(caPath, ca.ExportCertificatePem());
        File.WriteAllText(certPath, server.ExportCertificatePem());
        File.WriteAllText(keyPath, serverKey.ExportPkcs8PrivateKeyPem());
        return (caPath, certPath, keyPath);
    }

    private static async Task ReportOnceAsync(GrpcChannel channel, string hostId)
    {
        var client = new ReportService.ReportServiceClient(channel);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cts.CancelAfter(TimeSpan.FromSeconds(20));
        using var call = client.Report(cancellationToken: cts.Token);
        await call.RequestStream.WriteAsync(new SampleBatch { HostId = hostId, Sequence = 1 }, cts.Token);
        await call.ResponseStream.MoveNext(cts.Token);
    }

    private static string ReadShared(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    public void Dispose()
    {
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
