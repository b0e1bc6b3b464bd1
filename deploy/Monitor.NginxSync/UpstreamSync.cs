using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Google.Protobuf.Collections;
using Grpc.Net.Client;
using Monitor.ServiceDefaults.Discovery;
using Mvccpb;

namespace Monitor.NginxSync;

/// <summary>
/// Watches the etcd registry prefix and rewrites the upstream block whenever the set of live
/// instances changes (an instance registers, deregisters, or its lease expires), then runs the
/// reload command. When etcd is away the last good file stays in place. One watch stream per etcd
/// connection: it is re-opened only when etcd ends it or goes away.
/// </summary>
internal sealed class UpstreamSync(SyncOptions options) : IDisposable
{
    private readonly SemaphoreSlim _changed = new(0);
    private readonly SortedDictionary<string, string> _instances = new(StringComparer.Ordinal);
    private string? _lastContent;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                // One round: the current keys, then a watch from the revision after them (EtcdPrefixWatch), until
                // etcd ends the stream or goes away. Changes are coalesced and written by the loop below.
                using var channel = GrpcChannel.ForAddress(options.Etcd);
                using var roundCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                Console.WriteLine($"nginx-sync: watching {options.Prefix} on {options.Etcd}");
                var watch = EtcdPrefixWatch.RunAsync(channel, options.Prefix, OnSnapshotAsync, OnEventsAsync, roundCts.Token);
                var writer = WriteOnChangeAsync(roundCts.Token);
                try
                {
                    await watch;
                }
                finally
                {
                    await roundCts.CancelAsync();
                    await writer.ContinueWith(static _ => { }, TaskScheduler.Default);
                }
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
            }
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

    private ValueTask OnSnapshotAsync(RepeatedField<KeyValue> kvs)
    {
        lock (_instances)
        {
            _instances.Clear();
            foreach (var kv in kvs)
            {
                _instances[kv.Key.ToStringUtf8()] = kv.Value.ToStringUtf8();
            }
        }
        _changed.Release();
        return ValueTask.CompletedTask;
    }

    private ValueTask OnEventsAsync(RepeatedField<Event> events)
    {
        lock (_instances)
        {
            foreach (var ev in events)
            {
                if (ev.Type == Event.Types.EventType.Put)
                {
                    _instances[ev.Kv.Key.ToStringUtf8()] = ev.Kv.Value.ToStringUtf8();
                }
                else
                {
                    _instances.Remove(ev.Kv.Key.ToStringUtf8());
                }
            }
        }
        _changed.Release();
        return ValueTask.CompletedTask;
    }

    private async Task WriteOnChangeAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            await _changed.WaitAsync(cancellationToken);
            await Task.Delay(100, cancellationToken); // coalesce bursts (a whole pool restarting)
            while (_changed.CurrentCount > 0)
            {
                await _changed.WaitAsync(cancellationToken);
            }
            await WriteAsync(cancellationToken);
        }
    }

    private async Task WriteAsync(CancellationToken cancellationToken)
    {
        var servers = new SortedSet<string>(StringComparer.Ordinal);
        lock (_instances)
        {
            foreach (var record in _instances.Values)
            {
                if (TryGetGrpcEndpoint(record) is { } endpoint)
                {
                    servers.Add(endpoint);
                }
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
