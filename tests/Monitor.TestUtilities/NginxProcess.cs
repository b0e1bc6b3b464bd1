using System.Diagnostics;

namespace Monitor.TestUtilities;

/// <summary>
/// A private nginx (Debian's 1.22) on free loopback ports: gRPC h2c for the report pool (an include
/// file that monitor-nginx-sync rewrites) and HTTP for the APIs, shaped like deploy/stack.sh's.
/// </summary>
public sealed class NginxProcess : IAsyncDisposable
{
    private readonly string _dir;
    private Process? _process;

    private NginxProcess(string dir, int httpPort, int grpcPort)
    {
        _dir = dir;
        HttpPort = httpPort;
        GrpcPort = grpcPort;
    }

    public int HttpPort { get; }
    public int GrpcPort { get; }
    public string HttpUrl => $"http://127.0.0.1:{HttpPort}";
    public string GrpcUrl => $"http://127.0.0.1:{GrpcPort}";
    public string PoolFile => Path.Combine(_dir, "report_pool.conf");
    public string ReloadCommand => $"nginx -t -q -p {_dir}/ -c nginx.conf && kill -HUP {_process?.Id}";

    /// <summary>Starts nginx; <paramref name="analyzeHttp"/> etc. are host:port of the HTTP backends.</summary>
    public static Task<NginxProcess> StartAsync(string analyzeHttp, string manageHttp, string warningHttp, CancellationToken cancellationToken = default) =>
        StartAsync(analyzeHttp, manageHttp, warningHttp, manageGrpc: null, cancellationToken);

    /// <summary>
    /// Starts nginx; <paramref name="analyzeHttp"/> etc. are host:port of the HTTP backends. With <paramref name="manageGrpc"/>
    /// (host:port of the manage service's gRPC endpoint) the gRPC port also routes the agents' and probers' configuration
    /// services to it, as deploy/stack.sh's nginx does.
    /// </summary>
    public static async Task<NginxProcess> StartAsync(string analyzeHttp, string manageHttp, string warningHttp, string? manageGrpc, CancellationToken cancellationToken = default)
    {
        var dir = Path.Combine(Repo.Root, ".state", "test-nginx", Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Path.Combine(dir, "logs"));
        Directory.CreateDirectory(Path.Combine(dir, "tmp"));
        var nginx = new NginxProcess(dir, Ports.Free(), Ports.Free());
        File.WriteAllText(nginx.PoolFile, "upstream report_pool { server 127.0.0.1:1 down; }\n");
        var manageGrpcRoutes = manageGrpc is null ? "" : $$"""
                    location /monitor.v1.ManageService/ {
                        grpc_pass grpc://{{manageGrpc}};
                        grpc_connect_timeout 2s;
                    }
                    location /monitor.v1.ProbeConfigService/ {
                        grpc_pass grpc://{{manageGrpc}};
                        grpc_connect_timeout 2s;
                        grpc_read_timeout 1h;
                        grpc_send_timeout 1h;
                    }
            """;
        File.WriteAllText(Path.Combine(dir, "nginx.conf"), $$"""
            daemon off;
            worker_processes 1;
            worker_shutdown_timeout 2s;
            pid logs/nginx.pid;
            error_log logs/error.log warn;
            events { worker_connections 1024; }
            http {
                access_log logs/access.log;
                client_body_temp_path tmp/client_body;
                proxy_temp_path tmp/proxy;
                fastcgi_temp_path tmp/fastcgi;
                uwsgi_temp_path tmp/uwsgi;
                scgi_temp_path tmp/scgi;
                include report_pool.conf;
                upstream analyze_http { server {{analyzeHttp}}; }
                upstream manage_http { server {{manageHttp}}; }
                upstream warning_http { server {{warningHttp}}; }
                server {
                    listen 127.0.0.1:{{nginx.HttpPort}};
                    proxy_http_version 1.1;
                    proxy_set_header Connection "";
                    location = /nginx-health { return 200 "ok\n"; }
                    location /api/v1/analyze/ { proxy_pass http://analyze_http; }
                    location /api/v1/manage/ { proxy_pass http://manage_http; }
                    location /api/v1/warning/ { proxy_pass http://warning_http; }
                    location /analysis/ { proxy_pass http://analyze_http/; }
                    location = /setting/rule { proxy_pass http://warning_http/rule; }
                    location /setting/ { proxy_pass http://manage_http/; }
                }
                server {
                    listen 127.0.0.1:{{nginx.GrpcPort}} http2;
                    client_max_body_size 0;
                    client_body_timeout 1h;
                    location = /nginx-health { return 200 "ok\n"; }
                    location /monitor.v1.ReportService/ {
                        grpc_pass grpc://report_pool;
                        grpc_next_upstream error timeout http_502 http_503 http_504;
                        grpc_connect_timeout 2s;
                        grpc_read_timeout 1h;
                        grpc_send_timeout 1h;
                    }
                    location /proto.Report/ {
                        grpc_pass grpc://report_pool;
                        grpc_next_upstream error timeout http_502 http_503 http_504;
                        grpc_connect_timeout 2s;
                    }
            {{manageGrpcRoutes}}
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
            using var response = await http.GetAsync($"{nginx.HttpUrl}/nginx-health", cancellationToken);
            return response.IsSuccessStatusCode;
        }, TimeSpan.FromSeconds(20), "private nginx", cancellationToken);
        return nginx;
    }

    public string AccessLog() => File.Exists(Path.Combine(_dir, "logs", "access.log")) ? File.ReadAllText(Path.Combine(_dir, "logs", "access.log")) : "";

    public async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process?.Dispose();
        // nginx workers are children of the master in their own process group? They exit with the master.
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
