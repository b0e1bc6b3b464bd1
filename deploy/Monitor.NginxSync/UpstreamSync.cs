using System.Diagnostics;
using System.Text;
using System.Text.Json;
using dotnet_etcd;

namespace Monitor.NginxSync;

/// <summary>
/// Watches the etcd registry prefix and rewrites the upstream block whenever the set of live
/// instances changes (an instance registers, deregisters, or its lease expires), then runs the
/// reload command. When etcd is away the last good file stays in place.
/// </summary>
internal sealed class UpstreamSync(SyncOptions options) : IDisposable
{
    private readonly SemaphoreSlim _changed = new(0);
    private string? _lastContent;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                using var etcd = new EtcdClient(options.Etcd);
                using var watchCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                var watch = etcd.WatchRangeAsync(options.Prefix, _ => _changed.Release(), cancellationToken: watchCts.Token);
                await SyncOnceAsync(etcd, cancellationToken);
                while (!cancellationToken.IsCancellationRequested && !watch.IsCompleted)
                {
                    // Wake on a watch event, or resync periodically in case an event was missed.
                    await _changed.WaitAsync(options.Resync, cancellationToken);
                    await Task.Delay(100, cancellationToken); // coalesce bursts (a whole pool restarting)
                    while (_changed.CurrentCount > 0)
                    {
                        await _changed.WaitAsync(cancellationToken);
                    }
                    await SyncOnceAsync(etcd, cancellationToken);
                }
                await watchCts.CancelAsync();
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // etcd away: keep the last good upstream file and retry.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Console.Error.WriteLine($"nginx-sync: etcd {options.Etcd} unavailable ({ex.GetType().Name}: {ex.Message}); keeping {options.Out}, retrying in 2 s");
                try
                {
                    await Task.Delay(2000, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private async Task SyncOnceAsync(EtcdClient etcd, CancellationToken cancellationToken)
    {
        var response = await etcd.GetRangeAsync(options.Prefix, cancellationToken: cancellationToken);
        var servers = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var kv in response.Kvs)
        {
            if (TryGetGrpcEndpoint(kv.Value.ToStringUtf8()) is { } endpoint)
            {
                servers.Add(endpoint);
            }
        }
        var content = Render(options.Upstream, servers, options.Extra);
        if (content == _lastContent)
        {
            return;
        }
        var temp = options.Out + ".tmp";
        await File.WriteAllTextAsync(temp, content, cancellationToken);
        File.Move(temp, options.Out, overwrite: true);
        _lastContent = content;
        Console.WriteLine($"nginx-sync: {options.Upstream} -> [{string.Join(' ', servers)}]");
        if (!string.IsNullOrEmpty(options.Reload))
        {
            using var reload = Process.Start(new ProcessStartInfo("/bin/sh") { ArgumentList = { "-c", options.Reload }, UseShellExecute = false })!;
            await reload.WaitForExitAsync(cancellationToken);
            if (reload.ExitCode != 0)
            {
                Console.Error.WriteLine($"nginx-sync: reload command exited with {reload.ExitCode}");
            }
        }
    }

    /// <summary>host:port of the record's gRPC URL, or null when the record has none or is not valid JSON.</summary>
    internal static string? TryGetGrpcEndpoint(string json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            if (doc.RootElement.TryGetProperty("grpc", out var grpc) && grpc.GetString() is { Length: > 0 } url
                && Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Port > 0)
            {
                // Only plain host:port characters may reach the nginx configuration.
                var endpoint = $"{uri.Host}:{uri.Port}";
                return endpoint.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or ':' or '-' or '[' or ']') ? endpoint : null;
            }
        }
        catch (JsonException)
        {
        }
        return null;
    }

    public void Dispose() => _changed.Dispose();

    internal static string Render(string upstream, IEnumerable<string> servers, string extra)
    {
        var sb = new StringBuilder();
        sb.Append("# Written by monitor-nginx-sync from etcd; do not edit.\n");
        sb.Append("upstream ").Append(upstream).Append(" {\n");
        var any = false;
        foreach (var s in servers)
        {
            sb.Append("    server ").Append(s).Append(" max_fails=1 fail_timeout=3s;\n");
            any = true;
        }
        if (!any)
        {
            // nginx needs at least one server: with none registered, answer 502 quickly.
            sb.Append("    server 127.0.0.1:1 down;\n");
        }
        sb.Append("    ").Append(extra).Append('\n');
        sb.Append("}\n");
        return sb.ToString();
    }
}
