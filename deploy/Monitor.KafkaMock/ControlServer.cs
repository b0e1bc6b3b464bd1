using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;

namespace Monitor.KafkaMock;

/// <summary>
/// Loopback HTTP control endpoint of the mock (dependency-free <see cref="HttpListener"/>):
/// <c>GET /health</c>, <c>GET /bootstrap</c>, <c>POST /topics?name=X&amp;partitions=N[&amp;replicationFactor=R]</c>.
/// </summary>
internal sealed class ControlServer : IDisposable
{
    private readonly HttpListener _listener;
    private readonly int _maxReplicationFactor;
    private readonly int _defaultReplicationFactor;
    private volatile MockCluster? _cluster;
    private volatile string? _bootstrap;

    private ControlServer(HttpListener listener, int port, int maxReplicationFactor, int defaultReplicationFactor)
    {
        _listener = listener;
        Port = port;
        _maxReplicationFactor = maxReplicationFactor;
        _defaultReplicationFactor = defaultReplicationFactor;
    }

    public int Port { get; }

    /// <summary>Binds 127.0.0.1:<paramref name="port"/> now; requests are answered 503 until <see cref="SetReady"/>.</summary>
    /// <exception cref="HttpListenerException">The port cannot be bound.</exception>
    public static ControlServer Start(int port, int maxReplicationFactor, int defaultReplicationFactor)
    {
        var listener = new HttpListener { IgnoreWriteExceptions = true };
        listener.Prefixes.Add($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}/");
        listener.Start();
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
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return; // stopped
            }

            _ = Task.Run(() => Handle(context));
        }
    }

    private void Handle(HttpListenerContext context)
    {
        var request = context.Request;
        var response = context.Response;
        try
        {
            var path = request.Url?.AbsolutePath ?? "/";
            var cluster = _cluster;
            switch (path)
            {
                case "/health":
                    if (cluster is null)
                    {
                        WriteText(response, HttpStatusCode.ServiceUnavailable, "starting\n");
                    }
                    else
                    {
                        WriteText(response, HttpStatusCode.OK, "ok\n");
                    }

                    break;
                case "/bootstrap":
                    WriteText(response, cluster is null ? HttpStatusCode.ServiceUnavailable : HttpStatusCode.OK, (_bootstrap ?? "starting") + "\n");
                    break;
                case "/topics":
                    if (request.HttpMethod != "POST")
                    {
                        response.AddHeader("Allow", "POST");
                        WriteJsonError(response, HttpStatusCode.MethodNotAllowed, "use POST /topics?name=NAME&partitions=N");
                    }
                    else if (cluster is null)
                    {
                        WriteJsonError(response, HttpStatusCode.ServiceUnavailable, "mock cluster is starting");
                    }
                    else
                    {
                        CreateTopic(cluster, request, response);
                    }

                    break;
                default:
                    WriteText(response, HttpStatusCode.NotFound, "not found: try GET /health, GET /bootstrap, POST /topics?name=NAME&partitions=N\n");
                    break;
            }
        }
        catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or IOException)
        {
            // client went away
        }
#pragma warning disable CA1031 // a control request must never take the mock down
        catch (Exception e)
#pragma warning restore CA1031
        {
            Console.Error.WriteLine($"control: {request.HttpMethod} {request.RawUrl} failed: {e}");
            try
            {
                WriteJsonError(response, HttpStatusCode.InternalServerError, e.Message);
            }
            catch (Exception inner) when (inner is HttpListenerException or ObjectDisposedException or InvalidOperationException or IOException)
            {
                // headers already sent or client gone
            }
        }
    }

    private void CreateTopic(MockCluster cluster, HttpListenerRequest request, HttpListenerResponse response)
    {
        var name = request.QueryString["name"];
        var partitionsText = request.QueryString["partitions"];
        var rfText = request.QueryString["replicationFactor"];
        if (!TopicNames.IsValid(name))
        {
            WriteJsonError(response, HttpStatusCode.BadRequest, $"query parameter 'name' must match {TopicNames.Pattern} (and not be '.' or '..')", name);
            return;
        }

        if (!int.TryParse(partitionsText, NumberStyles.None, CultureInfo.InvariantCulture, out var partitions)
            || partitions < 1 || partitions > MockOptions.MaxPartitions)
        {
            WriteJsonError(response, HttpStatusCode.BadRequest, $"query parameter 'partitions' must be an integer in [1, {MockOptions.MaxPartitions}]", name);
            return;
        }

        var replicationFactor = _defaultReplicationFactor;
        if (rfText is not null
            && (!int.TryParse(rfText, NumberStyles.None, CultureInfo.InvariantCulture, out replicationFactor)
                || replicationFactor < 1 || replicationFactor > _maxReplicationFactor))
        {
            WriteJsonError(response, HttpStatusCode.BadRequest, $"query parameter 'replicationFactor' must be an integer in [1, {_maxReplicationFactor}]", name);
            return;
        }

        var result = cluster.CreateTopic(name, partitions, replicationFactor);
        if (!result.Created && result.Error == nameof(Confluent.Kafka.ErrorCode.TopicAlreadyExists))
        {
            // Report what the existing topic really has.
            result = result with { Partitions = cluster.PartitionCount(result.Topic) ?? result.Partitions };
        }

        Console.WriteLine($"control: create topic {result.Topic} partitions={result.Partitions} rf={result.ReplicationFactor}: {result.Error ?? "created"}");
        WriteJson(response, HttpStatusCode.OK, w =>
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

    private static void WriteJsonError(HttpListenerResponse response, HttpStatusCode status, string error, string? topic = null) =>
        WriteJson(response, status, w =>
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

    private static void WriteJson(HttpListenerResponse response, HttpStatusCode status, Action<Utf8JsonWriter> body)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            body(writer);
            writer.WriteEndObject();
        }

        buffer.WriteByte((byte)'\n');
        Write(response, status, "application/json", buffer.ToArray());
    }

    private static void WriteText(HttpListenerResponse response, HttpStatusCode status, string text) =>
        Write(response, status, "text/plain; charset=utf-8", Encoding.UTF8.GetBytes(text));

    private static void Write(HttpListenerResponse response, HttpStatusCode status, string contentType, byte[] body)
    {
        response.StatusCode = (int)status;
        response.ContentType = contentType;
        response.ContentLength64 = body.Length;
        response.OutputStream.Write(body);
        response.Close();
    }

    public void Dispose() => ((IDisposable)_listener).Dispose();
}
