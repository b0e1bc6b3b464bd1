using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Grpc.Net.Client;
using Monitor.ServiceDefaults.Discovery;

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
    private Upstream? _pending;
    private string? _lastContent;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                // One round: the current keys, then a watch from the revision after them (EtcdPrefixWatch), until
                // etcd ends the stream or goes away, or a write or reload fails. Changes are coalesced by the writer.
                using var channel = GrpcChannel.ForAddress(options.Etcd);
                using var roundCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                Console.WriteLine($"nginx-sync: watching {options.Prefix} on {options.Etcd}");
                var ended = await Task.WhenAny(
                    EtcdPrefixWatch.RunAsync(channel, options.Prefix, OnChange, roundCts.Token),
                    WriteOnChangeAsync(roundCts.Token));
                await roundCts.CancelAsync();
                await ended; // its exception says why the round ended
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // etcd away, or the file or the reload failed: keep the last good upstream file and retry.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Console.Error.WriteLine($"nginx-sync: {ex.GetType().Name}: {ex.Message} (etcd {options.Etcd}); keeping {options.Out}, retrying in 2 s");
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

    private ValueTask OnChange(IReadOnlyDictionary<string, string> instances)
    {
        var servers = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var record in instances.Values)
        {
            if (TryGetGrpcEndpoint(record) is { } endpoint)
            {
                servers.Add(endpoint);
            }
        }
        Volatile.Write(ref _pending, new Upstream(servers, Render(options.Upstream, servers, options.Extra)));
        _changed.Release();
        return ValueTask.CompletedTask;
    }

    private async Task WriteOnChangeAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            await _changed.WaitAsync(cancellationToken);
            await Task.Delay(100, cancellationToken); // coalesce bursts (a whole pool restarting)
            while (_changed.CurrentCount > 0)
            {
                await _changed.WaitAsync(cancellationToken);
            }
            await WriteAsync(Volatile.Read(ref _pending)!, cancellationToken);
        }
    }

    private async Task WriteAsync(Upstream upstream, CancellationToken cancellationToken)
    {
        var (servers, content) = upstream;
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

    /// <summary>The servers of the latest change and the upstream block rendered from them.</summary>
    private sealed record Upstream(SortedSet<string> Servers, string Content);

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
