using System.Globalization;
using System.Net.Sockets;
using StackExchange.Redis;

namespace Monitor.Prober.Probes;

/// <summary>
/// Redis check: connect, PING (timed); in cluster mode also CLUSTER INFO (state, slots covered,
/// known nodes) and CLUSTER NODES (failed nodes). A fresh connection per run, disposed after it:
/// StackExchange.Redis can keep waiting for seconds on a server that stopped answering, which the
/// runner's deadline cuts off, and a connection left behind must not outlive the run.
/// </summary>
internal sealed class RedisProbe(RedisProbeConfig config, TimeSpan timeout) : IProbe
{
    public const int TotalSlots = 16384;

    public async Task<ProbeResult> RunAsync(CancellationToken cancellationToken)
    {
        // The client library's own timeouts sit a second past the target's, so that the runner's deadline decides a
        // silent server (reason 'timeout'): equal ones raced it, and under load the library's connect failure
        // ('error') sometimes came first.
        var ms = Math.Max(100, (int)timeout.TotalMilliseconds) + 1_000;
        var options = new ConfigurationOptions
        {
            AbortOnConnectFail = true,
            ConnectTimeout = ms,
            SyncTimeout = ms,
            AsyncTimeout = ms,
            ConnectRetry = 0,
            Password = config.Password.Length > 0 ? config.Password : null,
            ClientName = "monitor-prober",
            AllowAdmin = false,
        };
        options.EndPoints.Add(config.Host!, config.Port);
        var metrics = new List<ProbeMetric>();
        ConnectionMultiplexer? mux = null;
        try
        {
            // A plain TCP connect first: refused and unresolvable are reported as such at once
            // (the client library would retry them until its connect timeout).
            using (var socket = new Socket(SocketType.Stream, ProtocolType.Tcp))
            {
                await socket.ConnectAsync(config.Host!, config.Port, cancellationToken).ConfigureAwait(false);
            }
            var connect = ConnectionMultiplexer.ConnectAsync(options);
            AbandonOnCancel(connect, cancellationToken);
            mux = await connect.WaitAsync(cancellationToken).ConfigureAwait(false);
            var latency = await mux.GetDatabase().PingAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
            metrics.Add(new("probe_redis_ping_ms", latency.TotalMilliseconds));
            if (!config.Cluster)
            {
                return ProbeResult.Ok(metrics);
            }
            var server = mux.GetServers().FirstOrDefault(s => s.IsConnected) ?? mux.GetServer(config.Host!, config.Port);
            var info = (string?)await server.ExecuteAsync("CLUSTER", "INFO").WaitAsync(cancellationToken).ConfigureAwait(false) ?? "";
            var nodes = (string?)await server.ExecuteAsync("CLUSTER", "NODES").WaitAsync(cancellationToken).ConfigureAwait(false) ?? "";
            var fields = ParseInfo(info);
            var state = fields.GetValueOrDefault("cluster_state", "unknown");
            var slotsOk = ParseLong(fields, "cluster_slots_ok");
            var slotsAssigned = ParseLong(fields, "cluster_slots_assigned");
            var known = ParseLong(fields, "cluster_known_nodes");
            var failed = CountFailedNodes(nodes);
            metrics.Add(new("probe_redis_cluster_state_ok", state == "ok" ? 1 : 0));
            metrics.Add(new("probe_redis_cluster_known_nodes", known));
            metrics.Add(new("probe_redis_cluster_failed_nodes", failed));
            metrics.Add(new("probe_redis_cluster_slots_ok", slotsOk));
            metrics.Add(new("probe_redis_cluster_slots_assigned", slotsAssigned));
            if (state != "ok" || slotsOk < TotalSlots)
            {
                return ProbeResult.Fail(ProbeFailure.Status,
                    $"cluster_state {state}, {slotsOk}/{TotalSlots} slots covered, {failed} of {known} nodes failed", metrics);
            }
            return ProbeResult.Ok(metrics, failed > 0 ? [$"{failed} of {known} cluster nodes failed"] : null);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or SocketException)
        {
            return ProbeErrors.ToResult(ex, metrics);
        }
        finally
        {
            if (mux is not null)
            {
                // Close without waiting on a server that may be frozen.
                _ = mux.CloseAsync(allowCommandsToComplete: false).ContinueWith(static (t, m) => ((ConnectionMultiplexer)m!).Dispose(), mux, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
            }
        }
    }

    internal static Dictionary<string, string> ParseInfo(string info)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in info.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0)
            {
                result[line[..colon]] = line[(colon + 1)..];
            }
        }
        return result;
    }

    /// <summary>Nodes flagged <c>fail</c> (agreed) or <c>fail?</c> (suspected) in CLUSTER NODES output.</summary>
    internal static int CountFailedNodes(string nodes) =>
        nodes.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => line.Split(' '))
            .Count(parts => parts.Length > 2 && parts[2].Split(',').Any(f => f is "fail" or "fail?"));

    private static long ParseLong(Dictionary<string, string> fields, string key) =>
        fields.TryGetValue(key, out var v) && long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : 0;

    /// <summary>A connection that completes after the run gave up is closed, not leaked.</summary>
    private static void AbandonOnCancel(Task<ConnectionMultiplexer> connect, CancellationToken cancellationToken) =>
        _ = connect.ContinueWith(static (t, ct) =>
        {
            if (t.IsCompletedSuccessfully && ((CancellationToken)ct!).IsCancellationRequested)
            {
                t.Result.Dispose();
            }
            _ = t.Exception;
        }, cancellationToken, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
}
