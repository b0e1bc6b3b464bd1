using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Monitor.Agent.Options;

namespace Monitor.Agent.Discovery;

/// <summary>
/// Watches <c>Agent:Discovery:Prefix</c> in etcd and feeds <see cref="ReportEndpoints"/>. Speaks etcd's
/// JSON gateway (<c>POST /v3/kv/range</c>, <c>POST /v3/watch</c>, base64 keys) with a plain
/// <see cref="HttpClient"/>, which keeps the agent NativeAOT-clean (no gRPC etcd client, no reflection).
/// Each round lists the prefix and then watches from the next revision until
/// <c>Agent:Discovery:RefreshInterval</c> has passed (a safety net against a silently dead watch);
/// when etcd is away it keeps the last known instances and retries the next endpoint with back-off.
/// </summary>
internal sealed partial class EtcdDiscovery(
    ReportEndpoints endpoints,
    IOptions<AgentOptions> options,
    TimeProvider timeProvider,
    ILogger<EtcdDiscovery> logger) : BackgroundService
{
    private readonly DiscoveryOptions _options = options.Value.Discovery;
    private readonly TimeSpan _maxDelay = options.Value.ReconnectMaxDelay;
    private readonly Dictionary<string, string> _instances = new(StringComparer.Ordinal);
    private string? _lastPublished;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_options.EtcdEndpoints.Count == 0)
        {
            return;
        }
        using var http = new HttpClient(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(3) }) { Timeout = Timeout.InfiniteTimeSpan };
        var key = Convert.ToBase64String(Encoding.UTF8.GetBytes(_options.Prefix));
        var rangeEnd = Convert.ToBase64String(PrefixEnd(Encoding.UTF8.GetBytes(_options.Prefix)));
        var endpointIndex = 0;
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            var etcd = _options.EtcdEndpoints[endpointIndex % _options.EtcdEndpoints.Count].TrimEnd('/');
            try
            {
                var revision = await ListAsync(http, etcd, key, rangeEnd, stoppingToken).ConfigureAwait(false);
                failures = 0;
                using var round = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                round.CancelAfter(_options.RefreshInterval);
                try
                {
                    await WatchAsync(http, etcd, key, rangeEnd, revision + 1, round.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
                {
                    // Refresh interval over: list again.
                    continue;
                }
                throw new IOException("the watch stream ended");
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException or JsonException or FormatException or KeyNotFoundException or InvalidOperationException)
            {
                failures++;
                endpointIndex++;
                Log.EtcdFailed(logger, etcd, _instances.Count, ex.Message);
            }
            var delay = TimeSpan.FromMilliseconds(Math.Min(_maxDelay.TotalMilliseconds, 250 * Math.Pow(2, Math.Min(failures, 10))));
            try
            {
                await Task.Delay(delay * (0.5 + (Random.Shared.NextDouble() * 0.5)), timeProvider, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    private async Task<long> ListAsync(HttpClient http, string etcd, string key, string rangeEnd, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        using var content = Json($$"""{"key":"{{key}}","range_end":"{{rangeEnd}}"}""");
        using var response = await http.PostAsync(etcd + "/v3/kv/range", content, timeout.Token).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
        using var doc = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false), cancellationToken: timeout.Token).ConfigureAwait(false);
        var root = doc.RootElement;
        _instances.Clear();
        if (root.TryGetProperty("kvs", out var kvs))
        {
            foreach (var kv in kvs.EnumerateArray())
            {
                Apply(kv, delete: false);
            }
        }
        Publish();
        return long.Parse(root.GetProperty("header").GetProperty("revision").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
    }

    private async Task WatchAsync(HttpClient http, string etcd, string key, string rangeEnd, long fromRevision, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, etcd + "/v3/watch")
        {
            Content = Json($$$"""{"create_request":{"key":"{{{key}}}","range_end":"{{{rangeEnd}}}","start_revision":"{{{fromRevision}}}"}}"""),
        };
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false));
        while (await reader.ReadLineAsync(ct).ConfigureAwait(false) is { } line)
        {
            if (line.Length == 0)
            {
                continue;
            }
            using var doc = JsonDocument.Parse(line);
            if (!doc.RootElement.TryGetProperty("result", out var result))
            {
                throw new IOException("etcd watch error: " + line);
            }
            if (result.TryGetProperty("canceled", out var canceled) && canceled.GetBoolean())
            {
                // E.g. the revision was compacted: list again.
                throw new IOException("etcd cancelled the watch: " + line);
            }
            if (!result.TryGetProperty("events", out var events))
            {
                continue;
            }
            foreach (var ev in events.EnumerateArray())
            {
                var delete = ev.TryGetProperty("type", out var type) && type.GetString() == "DELETE";
                Apply(ev.GetProperty("kv"), delete);
            }
            Publish();
        }
    }

    private void Apply(JsonElement kv, bool delete)
    {
        var key = Encoding.UTF8.GetString(Convert.FromBase64String(kv.GetProperty("key").GetString()!));
        if (delete)
        {
            _instances.Remove(key);
            return;
        }
        var grpc = ParseGrpcAddress(kv.TryGetProperty("value", out var v) ? v.GetString() : null);
        if (grpc is null)
        {
            _instances.Remove(key);
            Log.BadRecord(logger, key);
            return;
        }
        _instances[key] = grpc;
    }

    private void Publish()
    {
        endpoints.SetDiscovered(_instances.Select(kv => new ReportEndpoint(kv.Key, kv.Value)));
        var signature = string.Join(' ', _instances.Values.Order(StringComparer.Ordinal));
        if (signature != _lastPublished)
        {
            _lastPublished = signature;
            Log.Instances(logger, _instances.Count, _instances.Values);
        }
    }

    /// <summary>The <c>grpc</c> URL of a service record (JSON <c>{grpc, http, admin, version, startedAt}</c>, base64 in the gateway's answer).</summary>
    internal static string? ParseGrpcAddress(string? base64Value)
    {
        if (string.IsNullOrEmpty(base64Value))
        {
            return null;
        }
        try
        {
            using var doc = JsonDocument.Parse(Convert.FromBase64String(base64Value));
            return doc.RootElement.ValueKind == JsonValueKind.Object &&
                doc.RootElement.TryGetProperty("grpc", out var grpc) && grpc.ValueKind == JsonValueKind.String &&
                Uri.TryCreate(grpc.GetString(), UriKind.Absolute, out var uri) && (uri.Scheme == "http" || uri.Scheme == "https")
                ? grpc.GetString()
                : null;
        }
        catch (Exception ex) when (ex is FormatException or JsonException)
        {
            return null;
        }
    }

    /// <summary>The etcd range end that covers every key with this prefix: the prefix with its last byte incremented.</summary>
    internal static byte[] PrefixEnd(byte[] prefix)
    {
        var end = (byte[])prefix.Clone();
        for (int i = end.Length - 1; i >= 0; i--)
        {
            if (end[i] < 0xff)
            {
                end[i]++;
                return end[..(i + 1)];
            }
        }
        return [0];
    }

    private static StringContent Json(string body)
    {
        var content = new StringContent(body, Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4401, EventName = "DiscoveryInstances", Level = LogLevel.Information,
            Message = "etcd lists {Count} report instance(s): {Addresses}")]
        public static partial void Instances(ILogger logger, int count, IEnumerable<string> addresses);

        [LoggerMessage(EventId = 4402, EventName = "DiscoveryFailed", Level = LogLevel.Warning,
            Message = "etcd {Endpoint} unreachable or watch broken ({Known} instance(s) still known): {Error}")]
        public static partial void EtcdFailed(ILogger logger, string endpoint, int known, string error);

        [LoggerMessage(EventId = 4403, EventName = "DiscoveryBadRecord", Level = LogLevel.Warning,
            Message = "etcd key {Key} holds no usable grpc address; ignored")]
        public static partial void BadRecord(ILogger logger, string key);
    }
}
