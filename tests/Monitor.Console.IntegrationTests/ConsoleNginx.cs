using System.Diagnostics;
using Monitor.TestUtilities;

namespace Monitor.Console.IntegrationTests;

/// <summary>
/// A private nginx shaped like deploy/stack.sh's HTTP server: the built console (console/dist) at <c>/</c> with the
/// single-page-app fallback, and <c>/api/v1/{analyze,manage,warning}/</c> proxied to this test's services.
/// </summary>
public sealed class ConsoleNginx : IAsyncDisposable
{
    private readonly string _dir;
    private Process? _process;

    private ConsoleNginx(string dir, int port)
    {
        _dir = dir;
        Port = port;
    }

    public int Port { get; }
    public string Url => $"http://127.0.0.1:{Port}";

    public static async Task<ConsoleNginx> StartAsync(string dist, string analyzeHttp, string manageHttp, string warningHttp, CancellationToken cancellationToken)
    {
        var dir = Path.Combine(Repo.Root, ".state", "test-nginx", "console-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(Path.Combine(dir, "logs"));
        Directory.CreateDirectory(Path.Combine(dir, "tmp"));
        var nginx = new ConsoleNginx(dir, Ports.Free());
        File.WriteAllText(Path.Combine(dir, "nginx.conf"), $$"""
            daemon off;
            worker_processes 1;
            pid logs/nginx.pid;
            error_log logs/error.log warn;
            events { worker_connections 256; }
            http {
                include /etc/nginx/mime.types;
                default_type application/octet-stream;
                access_log logs/access.log;
                client_body_temp_path tmp/client_body;
                proxy_temp_path tmp/proxy;
                fastcgi_temp_path tmp/fastcgi;
                uwsgi_temp_path tmp/uwsgi;
                scgi_temp_path tmp/scgi;
                gzip on;
                gzip_types application/javascript text/css application/json;
                server {
                    listen 127.0.0.1:{{nginx.Port}};
                    proxy_http_version 1.1;
                    proxy_set_header Connection "";
                    proxy_set_header Host $host;
                    location = /nginx-health { return 200 "ok\n"; }
                    location /api/v1/analyze/ { proxy_pass http://{{analyzeHttp}}; }
                    location /api/v1/manage/ { proxy_pass http://{{manageHttp}}; }
                    location /api/v1/warning/ { proxy_pass http://{{warningHttp}}; }
                    location /assets/ { root {{dist}}; expires 1y; }
                    location / { root {{dist}}; try_files $uri /index.html; add_header Cache-Control no-cache; }
                }
            }
            """);
        var psi = new ProcessStartInfo("nginx") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "-p", dir + "/", "-c", "nginx.conf" })
        {
            psi.ArgumentList.Add(a);
        }
        nginx._process = Process.Start(psi)!;
        nginx._process.OutputDataReceived += (_, _) => { };
        nginx._process.ErrorDataReceived += (_, _) => { };
        nginx._process.BeginOutputReadLine();
        nginx._process.BeginErrorReadLine();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        await Poll.UntilAsync(async () =>
        {
            if (nginx._process.HasExited)
            {
                throw new InvalidOperationException($"nginx exited with {nginx._process.ExitCode}: {File.ReadAllText(Path.Combine(dir, "logs", "error.log"))}");
            }
            using var response = await http.GetAsync($"{nginx.Url}/nginx-health", cancellationToken);
            return response.IsSuccessStatusCode;
        }, TimeSpan.FromSeconds(20), "console nginx", cancellationToken);
        return nginx;
    }

    /// <summary>Request lines nginx logged (every request the browser made to this origin).</summary>
    public string AccessLog() => File.Exists(Path.Combine(_dir, "logs", "access.log")) ? File.ReadAllText(Path.Combine(_dir, "logs", "access.log")) : "";

    public async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process?.Dispose();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
