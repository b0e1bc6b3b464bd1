using System.Diagnostics;
using Monitor.TestUtilities;
using Xunit;

namespace Monitor.IntegrationTests.Access;

/// <summary><c>deploy/nginx/monitor-tls.conf</c> passes <c>nginx -t</c> with a certificate from a test CA.</summary>
public sealed class NginxTlsConfigTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("monitor-nginx-tls-").FullName;

    [Fact]
    public async Task TlsTerminationConfig_PassesNginxConfigTest()
    {
        var (_, cert, key) = TlsTests.WriteTestPki(_dir);
        var config = await File.ReadAllTextAsync(Path.Combine(Repo.Root, "deploy", "nginx", "monitor-tls.conf"), TestContext.Current.CancellationToken);
        Assert.Contains("ssl_protocols             TLSv1.2 TLSv1.3;", config, StringComparison.Ordinal);
        Assert.Contains("listen 8443 ssl http2;", config, StringComparison.Ordinal);
        config = config
            .Replace("/etc/monitor/tls/server.pem", cert, StringComparison.Ordinal)
            .Replace("/etc/monitor/tls/server.key", key, StringComparison.Ordinal)
            .Replace("/run/nginx-monitor.pid", Path.Combine(_dir, "nginx.pid"), StringComparison.Ordinal);
        var path = Path.Combine(_dir, "nginx.conf");
        await File.WriteAllTextAsync(path, config, TestContext.Current.CancellationToken);
        Directory.CreateDirectory(Path.Combine(_dir, "logs"));

        var psi = new ProcessStartInfo("nginx") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in new[] { "-t", "-p", _dir + "/", "-c", path, "-e", Path.Combine(_dir, "logs", "error.log") })
        {
            psi.ArgumentList.Add(a);
        }
        using var process = Process.Start(psi)!;
        var stderr = await process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        Assert.True(process.ExitCode == 0, $"nginx -t failed: {stderr}");
        Assert.Contains("test is successful", stderr, StringComparison.Ordinal);
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
