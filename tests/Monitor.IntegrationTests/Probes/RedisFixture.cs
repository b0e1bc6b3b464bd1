using System.Diagnostics;
using Xunit;

namespace Monitor.IntegrationTests.Probes;

/// <summary>
/// Debian <c>redis-server</c> on 127.0.0.1: one standalone server and a 3-node cluster
/// (<c>redis-cli --cluster create ... --cluster-yes</c>), no persistence, under a temp dir;
/// killed and deleted afterwards. Tests may start extra standalone servers (to freeze them).
/// </summary>
public sealed class RedisFixture : IAsyncLifetime
{
    private readonly List<Process> _servers = [];

    public string Root { get; } = Path.Combine(Path.GetTempPath(), "monitor-redis-" + Guid.NewGuid().ToString("N")[..8]);
    public int StandalonePort { get; private set; }
    public int[] ClusterPorts { get; } = new int[3];

    public async ValueTask InitializeAsync()
    {
        Directory.CreateDirectory(Root);
        StandalonePort = (await StartServerAsync()).Port;
        var cluster = await CreateClusterAsync();
        cluster.Select(n => n.Port).ToArray().CopyTo(ClusterPorts, 0);
    }

    /// <summary>Starts three cluster-enabled servers, joins them into one cluster (no replicas) and waits for cluster_state:ok.</summary>
    public async Task<List<(int Port, Process Process)>> CreateClusterAsync()
    {
        var nodes = new List<(int Port, Process Process)>();
        for (int i = 0; i < 3; i++)
        {
            nodes.Add(await StartServerAsync(cluster: true));
        }
        await NativeProcess.RunAsync("redis-cli",
            ["--cluster", "create", .. nodes.Select(n => $"127.0.0.1:{n.Port}"), "--cluster-replicas", "0", "--cluster-yes"]);
        var waited = Stopwatch.StartNew();
        while (true)
        {
            var (code, info) = await NativeProcess.TryRunAsync("redis-cli", ["-p", nodes[0].Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "cluster", "info"]);
            if (code == 0 && info.Contains("cluster_state:ok", StringComparison.Ordinal)
                && info.Contains("cluster_known_nodes:3", StringComparison.Ordinal))
            {
                return nodes;
            }
            if (waited.Elapsed > TimeSpan.FromSeconds(60))
            {
                throw new TimeoutException("the Redis cluster did not reach cluster_state:ok: " + info);
            }
            await Task.Delay(200);
        }
    }

    /// <summary>Starts a redis-server on a free port and waits until it answers PING.</summary>
    public async Task<(int Port, Process Process)> StartServerAsync(bool cluster = false, string? password = null)
    {
        var port = NativeProcess.FreePort(cluster ? 10000 : 0);
        var portText = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        List<string> args = ["--port", portText, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", Root, "--protected-mode", "no", "--daemonize", "no"];
        if (cluster)
        {
            args.AddRange(["--cluster-enabled", "yes", "--cluster-config-file", $"nodes-{port}.conf", "--cluster-node-timeout", "2000"]);
        }
        if (password is not null)
        {
            args.AddRange(["--requirepass", password]);
        }
        var process = NativeProcess.Start("redis-server", args, Path.Combine(Root, $"redis-{port}.log"));
        lock (_servers)
        {
            _servers.Add(process);
        }
        var started = Stopwatch.StartNew();
        while (true)
        {
            var (code, output) = await NativeProcess.TryRunAsync("redis-cli", password is null ? ["-p", portText, "ping"] : ["-p", portText, "-a", password, "--no-auth-warning", "ping"]);
            if (code == 0 && output.Contains("PONG", StringComparison.Ordinal))
            {
                return (port, process);
            }
            if (process.HasExited || started.Elapsed > TimeSpan.FromSeconds(30))
            {
                throw new InvalidOperationException($"redis-server on {port} did not start: {output}");
            }
            await Task.Delay(100);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var p in _servers)
        {
            await NativeProcess.KillAsync(p);
            p.Dispose();
        }
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // Best effort.
        }
    }
}
