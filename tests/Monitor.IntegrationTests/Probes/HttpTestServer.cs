using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Xunit;

namespace Monitor.IntegrationTests.Probes;

/// <summary>
/// In-process Kestrel on 127.0.0.1 with the routes the HTTP probe is tested against: ok, 500,
/// redirect (one hop, and an endless loop), slow (answers after 30 s unless the client leaves),
/// and the same routes over TLS with a self-signed certificate valid for 30 more days.
/// </summary>
public sealed class HttpTestServer : IAsyncLifetime
{
    private WebApplication? _app;

    public int HttpPort { get; } = NativeProcess.FreePort();
    public int HttpsPort { get; } = NativeProcess.FreePort();
    public string Http => $"http://127.0.0.1:{HttpPort}";
    public string Https => $"https://localhost:{HttpsPort}";

    /// <summary>Requests seen by the server, by path (to check method, headers and body).</summary>
    public List<(string Method, string Path, string? Authorization, string Body)> Requests { get; } = [];

    public async ValueTask InitializeAsync()
    {
        var certificate = CreateSelfSigned();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, HttpPort);
            k.Listen(IPAddress.Loopback, HttpsPort, o => o.UseHttps(certificate));
        });
        _app = builder.Build();
        _app.Use(async (context, next) =>
        {
            using var reader = new StreamReader(context.Request.Body);
            var body = await reader.ReadToEndAsync(context.RequestAborted);
            lock (Requests)
            {
                Requests.Add((context.Request.Method, context.Request.Path.Value ?? "", context.Request.Headers.Authorization.ToString(), body));
            }
            await next(context);
        });
        _app.MapMethods("/ok", ["GET", "POST", "HEAD"], () => Results.Text("status: ok, version 1.2.3"));
        _app.MapGet("/fail", () => Results.Text("boom", statusCode: 500));
        _app.MapGet("/redirect", () => Results.Redirect("/ok"));
        _app.MapGet("/redirect-twice", () => Results.Redirect("/redirect"));
        _app.MapGet("/loop", () => Results.Redirect("/loop"));
        _app.MapGet("/slow", async (HttpContext context) =>
        {
            await Task.Delay(TimeSpan.FromSeconds(30), context.RequestAborted);
            return Results.Text("late");
        });
        await _app.StartAsync(TestContext.Current.CancellationToken);
    }

    private static X509Certificate2 CreateSelfSigned()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("localhost");
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        var now = TimeProvider.System.GetUtcNow();
        using var cert = request.CreateSelfSigned(now.AddDays(-1), now.AddDays(30));
        // Kestrel needs the key in an exportable, persisted form.
        return X509CertificateLoader.LoadPkcs12(cert.Export(X509ContentType.Pfx), null);
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
