using Monitor.Prober.Probes;
using Xunit;

namespace Monitor.IntegrationTests.Probes;

/// <summary>The HTTP(S) probe against a real Kestrel server: status, phases, redirects, body rules, TLS, deadline.</summary>
public sealed class HttpProbeTests(HttpTestServer server) : IClassFixture<HttpTestServer>
{
    [Fact]
    public async Task Ok_Succeeds_WithStatusAndPhaseTimes()
    {
        // Act
        var result = await ProbeHarness.RunAsync("http", $$"""{"url":"{{server.Http}}/ok"}""");

        // Assert
        Assert.True(result.Success, result.Describe());
        Assert.Equal(200, result.Metric("probe_http_status_code"));
        Assert.Equal(0, result.Metric("probe_http_redirects"));
        Assert.True(result.Metric("probe_http_dns_ms") >= 0);
        Assert.True(result.Metric("probe_http_connect_ms") >= 0);
        Assert.True(result.Metric("probe_http_first_byte_ms") >= result.Metric("probe_http_connect_ms"));
        Assert.False(result.Has("probe_http_tls_ms"));
        Assert.True(result.Duration.TotalMilliseconds >= result.Metric("probe_http_first_byte_ms"));
    }

    [Fact]
    public async Task ServerError_FailsWithReasonStatus()
    {
        // Act
        var result = await ProbeHarness.RunAsync("http", $$"""{"url":"{{server.Http}}/fail"}""");

        // Assert
        Assert.False(result.Success);
        Assert.Equal(ProbeFailure.Status, result.Failure);
        Assert.Equal(500, result.Metric("probe_http_status_code"));
        Assert.Contains("HTTP 500", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServerError_AcceptedWhenListed()
    {
        // Act
        var result = await ProbeHarness.RunAsync("http", $$"""{"url":"{{server.Http}}/fail","acceptedStatusCodes":[500]}""");

        // Assert
        Assert.True(result.Success, result.Describe());
    }

    [Fact]
    public async Task Redirects_FollowedAndCounted()
    {
        // Act
        var result = await ProbeHarness.RunAsync("http", $$"""{"url":"{{server.Http}}/redirect-twice"}""");

        // Assert
        Assert.True(result.Success, result.Describe());
        Assert.Equal(2, result.Metric("probe_http_redirects"));
        Assert.Equal(200, result.Metric("probe_http_status_code"));
    }

    [Fact]
    public async Task Redirect_NotFollowed_IsTheFinalStatus()
    {
        // Act
        var rejected = await ProbeHarness.RunAsync("http", $$"""{"url":"{{server.Http}}/redirect","followRedirects":false}""");
        var accepted = await ProbeHarness.RunAsync("http", $$"""{"url":"{{server.Http}}/redirect","followRedirects":false,"acceptedStatusCodes":[302]}""");

        // Assert
        Assert.Equal(ProbeFailure.Status, rejected.Failure);
        Assert.Equal(302, rejected.Metric("probe_http_status_code"));
        Assert.True(accepted.Success, accepted.Describe());
        Assert.Equal(0, accepted.Metric("probe_http_redirects"));
    }

    [Fact]
    public async Task RedirectLoop_FailsAfterMaxRedirects()
    {
        // Act
        var result = await ProbeHarness.RunAsync("http", $$"""{"url":"{{server.Http}}/loop","maxRedirects":3}""");

        // Assert
        Assert.Equal(ProbeFailure.Status, result.Failure);
        Assert.Equal(3, result.Metric("probe_http_redirects"));
        Assert.Contains("more than 3 redirects", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BodyRules_MustAndMustNotMatch()
    {
        // Act
        var matches = await ProbeHarness.RunAsync("http", $$"""{"url":"{{server.Http}}/ok","bodyMustMatch":"version \\d+\\.\\d+"}""");
        var missing = await ProbeHarness.RunAsync("http", $$"""{"url":"{{server.Http}}/ok","bodyMustMatch":"^healthy$"}""");
        var forbidden = await ProbeHarness.RunAsync("http", $$"""{"url":"{{server.Http}}/ok","bodyMustNotMatch":"status: ok"}""");

        // Assert
        Assert.True(matches.Success, matches.Describe());
        Assert.Equal(ProbeFailure.Body, missing.Failure);
        Assert.Equal(ProbeFailure.Body, forbidden.Failure);
    }

    [Fact]
    public async Task MethodHeadersAndBody_AreSent()
    {
        // Act
        var result = await ProbeHarness.RunAsync("http",
            $$"""{"url":"{{server.Http}}/ok","method":"POST","headers":{"Authorization":"Bearer probe-token","Content-Type":"application/json"},"body":"{\"ping\":1}"}""");

        // Assert
        Assert.True(result.Success, result.Describe());
        lock (server.Requests)
        {
            Assert.Contains(server.Requests, r => r is { Method: "POST", Path: "/ok", Authorization: "Bearer probe-token", Body: "{\"ping\":1}" });
        }
    }

    [Fact]
    public async Task SlowRoute_TimesOutWithinTheDeadline()
    {
        // Act
        var result = await ProbeHarness.RunAsync("http", $$"""{"url":"{{server.Http}}/slow"}""", timeoutSeconds: 1);

        // Assert
        Assert.Equal(ProbeFailure.Timeout, result.Failure);
        Assert.True(result.Duration < TimeSpan.FromSeconds(2), $"returned after {result.Duration}, deadline 1 s + 1 s");
    }

    [Fact]
    public async Task SelfSignedTls_VerificationOn_FailsWithReasonTls()
    {
        // Act
        var result = await ProbeHarness.RunAsync("http", $$"""{"url":"{{server.Https}}/ok"}""");

        // Assert
        Assert.Equal(ProbeFailure.Tls, result.Failure);
        Assert.Contains("certificate", result.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task SelfSignedTls_VerificationOff_SucceedsWithTlsTimeAndCertificateDaysLeft()
    {
        // Act
        var result = await ProbeHarness.RunAsync("http", $$"""{"url":"{{server.Https}}/ok","tlsVerify":false}""");

        // Assert
        Assert.True(result.Success, result.Describe());
        Assert.True(result.Metric("probe_http_tls_ms") >= 0);
        var daysLeft = result.Metric("probe_tls_cert_days_left");
        Assert.InRange(daysLeft, 29, 30);
    }

    [Fact]
    public async Task ClosedPort_FailsWithReasonRefused()
    {
        // Act
        var result = await ProbeHarness.RunAsync("http", $$"""{"url":"http://127.0.0.1:{{NativeProcess.FreePort()}}/"}""");

        // Assert
        Assert.Equal(ProbeFailure.Refused, result.Failure);
    }

    [Fact]
    public async Task UnknownHost_FailsWithReasonDns()
    {
        // Act
        var result = await ProbeHarness.RunAsync("http", """{"url":"http://no-such-host.invalid/"}""");

        // Assert
        Assert.Equal(ProbeFailure.Dns, result.Failure);
    }
}
