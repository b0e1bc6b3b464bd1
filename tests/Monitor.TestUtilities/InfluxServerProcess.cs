using System.Diagnostics;

namespace Monitor.TestUtilities;

/// <summary>
/// A private influxd (Debian's InfluxDB 1.6) on free loopback ports with its own data directory,
/// so chaos tests can stop and restart "the database" without disturbing the shared stack.
/// </summary>
public sealed class InfluxServerProcess : IAsyncDisposable
{
    private readonly string _dir;
    private readonly string _config;
    private Process? _process;

    private InfluxServerProcess(string dir, int httpPort, int rpcPort)
    {
        _dir = dir;
        HttpPort = httpPort;
        _config = Path.Combine(dir, "influxdb.conf");
        File.WriteAllText(_config, $"""
            reporting-enabled = false
            bind-address = "127.0.0.1:{rpcPort}"
            [meta]
              dir = "{dir}/meta"
            [data]
              dir = "{dir}/data"
              wal-dir = "{dir}/wal"
              query-log-enabled = false
            [monitor]
              store-enabled = false
            [subscriber]
              enabled = false
            [continuous_queries]
              enabled = false
            [http]
              enabled = true
              bind-address = "127.0.0.1:{httpPort}"
              log-enabled = false
            [logging]
              level = "warn"
              suppress-logo = true
            """);
    }

    public int HttpPort { get; }
    public string Url => $"http://127.0.0.1:{HttpPort}";

    public static async Task<InfluxServerProcess> StartAsync(CancellationToken cancellationToken = default)
    {
        var dir = Path.Combine(Repo.Root, ".state", "test-influx", Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(dir);
        var server = new InfluxServerProcess(dir, Ports.Free(), Ports.Free());
        await server.StartAgainAsync(cancellationToken);
        return server;
    }

    /// <summary>Starts influxd (again, on the same ports and data) and waits for /ping.</summary>
    public async Task StartAgainAsync(CancellationToken cancellationToken = default)
    {
        var psi = new ProcessStartInfo("influxd") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add("run");
        psi.ArgumentList.Add("-config");
        psi.ArgumentList.Add(_config);
        _process = Process.Start(psi)!;
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        await Poll.UntilAsync(async () =>
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"influxd exited with code {_process.ExitCode}");
            }
            using var response = await http.GetAsync($"{Url}/ping", cancellationToken);
            return (int)response.StatusCode == 204;
        }, TimeSpan.FromSeconds(30), "private influxd to answer /ping", cancellationToken);
    }

    /// <summary>Stops influxd (SIGKILL: the database simply goes away).</summary>
    public void Stop()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill();
            _process.WaitForExit(10_000);
        }
        _process?.Dispose();
        _process = null;
    }

    public ValueTask DisposeAsync()
    {
        Stop();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
        return ValueTask.CompletedTask;
    }
}
