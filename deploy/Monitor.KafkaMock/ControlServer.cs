using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Monitor.KafkaMock;

/// <summary>
/// Loopback HTTP/1.1 control endpoint of the mock: a deliberately tiny, dependency-free server on a raw
/// <see cref="TcpListener"/> (one request per connection, <c>Connection: close</c>). HttpListener was avoided: it
/// matches the Host header against its prefix (so <c>localhost</c> 404s) and answers 411 to a body-less POST.
/// <list type="bullet">
/// <item><c>GET /health</c> → 200 "ok" once the cluster is ready (503 before).</item>
/// <item><c>GET /bootstrap</c> → the bootstrap string.</item>
/// <item><c>POST /topics?name=X&amp;partitions=N[&amp;replicationFactor=R]</c> (query or form body) → 200 JSON, 400 on bad input.</item>
/// </list>
/// </summary>
internal sealed class ControlServer : IDisposable
{
    private const int MaxHeadBytes = 16 * 1024;
    private const int MaxBodyBytes = 64 * 1024;
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);

    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stopping = new();
    private readonly int _maxReplicationFactor;
    private readonly int _defaultReplicationFactor;
    private volatile MockCluster? _cluster;
    private volatile string? _bootstrap;

    private ControlServer(TcpListener listener, int port, int maxReplicationFactor, int defaultReplicationFactor)
    {
        _listener = listener;
        Port = port;
        _maxReplicationFactor = maxReplicationFactor;
        _defaultReplicationFactor = defaultReplicationFactor;
    }

    public int Port { get; }

    /// <summary>Binds 127.0.0.1:<paramref name="port"/> and serves; requests get 503 until <see cref="SetReady"/>.</summary>
    /// <exception cref="SocketException">The port cannot be bound.</exception>
    public static ControlServer Start(int port, int maxReplicationFactor, int defaultReplicationFactor)
    {
        var listener = new TcpListener(IPAddress.Loopback, port);
        listener.Start(64);
        var server = new ControlServer(listener, port, maxReplicationFactor, defaultReplicationFactor);
        _ = Task.Run(server.AcceptLoopAsync);
        return server;
    }

    /// <summary>From now on /health answers 200 and /topics is served.</summary>
    public void SetReady(MockCluster cluster, string bootstrap)
    {
        _bootstrap = bootstrap;
        _cluster = cluster;
    }

    private async Task AcceptLoopAsync()
    {
        var ct = _stopping.Token;
        while (!ct.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync(ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                continue;
            }

            _ = HandleConnectionAsync(socket, ct);
        }
    }

    private async Task HandleConnectionAsync(Socket socket, CancellationToken stopping)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        timeout.CancelAfter(RequestTimeout);
        var stream = new NetworkStream(socket, ownsSocket: true);
        await using (stream.ConfigureAwait(false))
        {
            Response response;
            try
            {
                var request = await ReadRequestAsync(stream, timeout.Token).ConfigureAwait(false);
                response = request is null ? Response.Text(400, "bad request\n") : Route(request);
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
                return; // client went away or was too slow
            }
#pragma warning disable CA1031 // a control request must never take the mock down
            catch (Exception e)
#pragma warning restore CA1031
            {
                await Console.Error.WriteLineAsync($"control: request failed: {e}").ConfigureAwait(false);
                response = Response.JsonError(500, e.Message, topic: null);
            }

            try
            {
                await stream.WriteAsync(response.Serialize(), timeout.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // client went away
            }
        }
    }

    private Response Route(Request request)
    {
        var cluster = _cluster;
        switch (request.Path)
        {
            case "/health":
                return cluster is null ? Response.Text(503, "starting\n") : Response.Text(200, "ok\n");
            case "/bootstrap":
                return cluster is null ? Response.Text(503, "starting\n") : Response.Text(200, _bootstrap + "\n");
            case "/topics":
                if (request.Method != "POST")
                {
                    return Response.JsonError(405, "use POST /topics?name=NAME&partitions=N", topic: null);
                }

                return cluster is null ? Response.JsonError(503, "mock cluster is starting", topic: null) : CreateTopic(cluster, request.Parameters);
            default:
                return Response.Text(404, "not found: GET /health, GET /bootstrap, POST /topics?name=NAME&partitions=N\n");
        }
    }

    private Response CreateTopic(MockCluster cluster, Dictionary<string, string> parameters)
    {
        parameters.TryGetValue("name", out var name);
        if (!TopicNames.IsValid(name))
        {
            return Response.JsonError(400, $"parameter 'name' must match {TopicNames.Pattern} (and not be '.' or '..')", name);
        }

        if (!parameters.TryGetValue("partitions", out var partitionsText)
            || !int.TryParse(partitionsText, NumberStyles.None, CultureInfo.InvariantCulture, out var partitions)
            || partitions < 1 || partitions > MockOptions.MaxPartitions)
        {
            return Response.JsonError(400, $"parameter 'partitions' must be an integer in [1, {MockOptions.MaxPartitions}]", name);
        }

        var replicationFactor = _defaultReplicationFactor;
        if (parameters.TryGetValue("replicationFactor", out var rfText)
            && (!int.TryParse(rfText, NumberStyles.None, CultureInfo.InvariantCulture, out replicationFactor)
                || replicationFactor < 1 || replicationFactor > _maxReplicationFactor))
        {
            return Response.JsonError(400, $"parameter 'replicationFactor' must be an integer in [1, {_maxReplicationFactor}]", name);
        }

        var result = cluster.CreateTopic(name, partitions, replicationFactor);
        if (!result.Created && result.Error == nameof(Confluent.Kafka.ErrorCode.TopicAlreadyExists))
        {
            // Report what the existing topic really has.
            result = result with { Partitions = cluster.PartitionCount(result.Topic) ?? result.Partitions };
        }

        Console.WriteLine($"control: create topic {result.Topic} partitions={result.Partitions} rf={result.ReplicationFactor}: {result.Error ?? "created"}");
        return Response.Json(200, w =>
        {
            w.WriteString("topic", result.Topic);
            w.WriteNumber("partitions", result.Partitions);
            w.WriteNumber("replicationFactor", result.ReplicationFactor);
            w.WriteBoolean("created", result.Created);
            if (result.Error is null)
            {
                w.WriteNull("error");
            }
            else
            {
                w.WriteString("error", result.Error);
            }
        });
    }

    /// <summary>Reads one request head (and a small form body, if any); null when it is not valid HTTP/1.x.</summary>
    private static async Task<Request?> ReadRequestAsync(NetworkStream stream, CancellationToken ct)
    {
        var buffer = new byte[MaxHeadBytes + MaxBodyBytes];
        var filled = 0;
        var headEnd = -1;
        while (headEnd < 0)
        {
            if (filled == MaxHeadBytes)
            {
                return null;
            }

            var n = await stream.ReadAsync(buffer.AsMemory(filled, MaxHeadBytes - filled), ct).ConfigureAwait(false);
            if (n == 0)
            {
                return null;
            }

            filled += n;
            headEnd = buffer.AsSpan(0, filled).IndexOf("\r\n\r\n"u8);
        }

        var head = Encoding.ASCII.GetString(buffer, 0, headEnd).Split("\r\n");
        var requestLine = head[0].Split(' ');
        if (requestLine.Length != 3 || !requestLine[2].StartsWith("HTTP/1.", StringComparison.Ordinal))
        {
            return null;
        }

        var contentLength = 0;
        var form = false;
        foreach (var line in head.AsSpan(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                continue;
            }

            var headerName = line[..colon].Trim();
            var value = line[(colon + 1)..].Trim();
            if (headerName.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)
                && (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out contentLength) || contentLength > MaxBodyBytes))
            {
                return null;
            }

            if (headerName.Equals("Content-Type", StringComparison.OrdinalIgnoreCase))
            {
                form = value.StartsWith("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase);
            }
        }

        var bodyStart = headEnd + 4;
        while (filled - bodyStart < contentLength)
        {
            var n = await stream.ReadAsync(buffer.AsMemory(filled, bodyStart + contentLength - filled), ct).ConfigureAwait(false);
            if (n == 0)
            {
                return null;
            }

            filled += n;
        }

        var target = requestLine[1];
        var query = target.IndexOf('?', StringComparison.Ordinal);
        var path = query < 0 ? target : target[..query];
        var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        if (form && contentLength > 0)
        {
            ParseUrlEncoded(Encoding.UTF8.GetString(buffer, bodyStart, contentLength), parameters);
        }

        if (query >= 0)
        {
            ParseUrlEncoded(target[(query + 1)..], parameters);
        }

        return new Request(requestLine[0], path, parameters);
    }

    private static void ParseUrlEncoded(string text, Dictionary<string, string> into)
    {
        foreach (var pair in text.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            var key = Unescape(eq < 0 ? pair : pair[..eq]);
            var value = eq < 0 ? "" : Unescape(pair[(eq + 1)..]);
            into[key] = value;
        }

        static string Unescape(string s) => Uri.UnescapeDataString(s.Replace('+', ' '));
    }

    public void Dispose()
    {
        _stopping.Cancel();
        _listener.Stop();
        _listener.Dispose();
        _stopping.Dispose();
    }

    private sealed record Request(string Method, string Path, Dictionary<string, string> Parameters);

    private sealed record Response(int Status, string ContentType, byte[] Body)
    {
        // Loopback-only JSON for scripts and tests: no HTML-safe escaping of ' & < >.
        private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

        public static Response Text(int status, string text) => new(status, "text/plain; charset=utf-8", Encoding.UTF8.GetBytes(text));

        public static Response Json(int status, Action<Utf8JsonWriter> body)
        {
            using var buffer = new MemoryStream();
            using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
            {
                writer.WriteStartObject();
                body(writer);
                writer.WriteEndObject();
            }

            buffer.WriteByte((byte)'\n');
            return new Response(status, "application/json", buffer.ToArray());
        }

        public static Response JsonError(int status, string error, string? topic) => Json(status, w =>
        {
            if (topic is null)
            {
                w.WriteNull("topic");
            }
            else
            {
                w.WriteString("topic", topic);
            }

            w.WriteNull("partitions");
            w.WriteBoolean("created", false);
            w.WriteString("error", error);
        });

        public byte[] Serialize()
        {
            var reason = Status switch
            {
                200 => "OK",
                400 => "Bad Request",
                404 => "Not Found",
                405 => "Method Not Allowed",
                503 => "Service Unavailable",
                _ => "Internal Server Error",
            };
            var extra = Status == 405 ? "Allow: POST\r\n" : "";
            var head = Encoding.ASCII.GetBytes(
                $"HTTP/1.1 {Status.ToString(CultureInfo.InvariantCulture)} {reason}\r\nContent-Type: {ContentType}\r\nContent-Length: {Body.Length.ToString(CultureInfo.InvariantCulture)}\r\n{extra}Connection: close\r\n\r\n");
            return [.. head, .. Body];
        }
    }
}
