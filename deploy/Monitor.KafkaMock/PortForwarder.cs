using System.Buffers;
using System.Net;
using System.Net.Sockets;

namespace Monitor.KafkaMock;

/// <summary>
/// Forwards a fixed loopback port to a mock broker's random port. Every Kafka byte crosses it, so each
/// connection is two allocation-free async receive/send loops over pooled 64 KiB buffers, with Nagle off on
/// both legs; when either side ends or fails, both sockets are closed.
/// </summary>
internal sealed class PortForwarder : IDisposable
{
    private const int BufferSize = 64 * 1024;

    private readonly Socket _listener;
    private readonly CancellationTokenSource _stopping = new();
    private int _activeConnections;
    private long _totalConnections;

    private PortForwarder(Socket listener, int port)
    {
        _listener = listener;
        Port = port;
    }

    /// <summary>The fixed port listened on.</summary>
    public int Port { get; }

    /// <summary>Connections currently open through this forwarder.</summary>
    public int ActiveConnections => Volatile.Read(ref _activeConnections);

    /// <summary>Connections accepted so far.</summary>
    public long TotalConnections => Interlocked.Read(ref _totalConnections);

    /// <summary>
    /// Binds 127.0.0.1:<paramref name="port"/> now (so a busy port fails before the mock starts); connections
    /// wait in the backlog until <see cref="Start"/>.
    /// </summary>
    /// <exception cref="SocketException">The port cannot be bound (e.g. <see cref="SocketError.AddressAlreadyInUse"/>).</exception>
    public static PortForwarder Bind(int port)
    {
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            listener.Bind(new IPEndPoint(IPAddress.Loopback, port));
            listener.Listen(512);
            return new PortForwarder(listener, port);
        }
        catch
        {
            listener.Dispose();
            throw;
        }
    }

    /// <summary>Starts accepting and forwarding to 127.0.0.1:<paramref name="targetPort"/> (or <paramref name="targetHost"/>).</summary>
    public void Start(IPAddress targetHost, int targetPort)
    {
        var target = new IPEndPoint(targetHost, targetPort);
        _ = Task.Run(() => AcceptLoopAsync(target, _stopping.Token));
    }

    private async Task AcceptLoopAsync(IPEndPoint target, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e)
            {
                // e.g. EMFILE: keep serving the connections we have, retry shortly.
                await Console.Error.WriteLineAsync($"forwarder :{Port}: accept failed: {e.SocketErrorCode} {e.Message}").ConfigureAwait(false);
                try
                {
                    await Task.Delay(100, ct).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                continue;
            }

            _ = ForwardAsync(client, target, ct);
        }
    }

    private async Task ForwardAsync(Socket client, IPEndPoint target, CancellationToken ct)
    {
        Interlocked.Increment(ref _activeConnections);
        Interlocked.Increment(ref _totalConnections);
        var upstream = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            client.NoDelay = true;
            upstream.NoDelay = true;
            await upstream.ConnectAsync(target, ct).ConfigureAwait(false);

            var toBroker = PumpAsync(client, upstream, ct);
            var toClient = PumpAsync(upstream, client, ct);
            await Task.WhenAny(toBroker, toClient).ConfigureAwait(false);

            // One direction ended (EOF or error) and everything it received was already sent on: close both sides,
            // which also ends the other loop.
            Close(client);
            Close(upstream);
            await Task.WhenAll(toBroker, toClient).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // connect refused (mock shutting down) or cancelled: just drop the client connection
        }
        finally
        {
            Close(client);
            Close(upstream);
            Interlocked.Decrement(ref _activeConnections);
        }
    }

    /// <summary>Copies <paramref name="from"/> to <paramref name="to"/> until EOF or an error; never throws.</summary>
    private static async Task PumpAsync(Socket from, Socket to, CancellationToken ct)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            while (true)
            {
                var received = await from.ReceiveAsync(buffer.AsMemory(), SocketFlags.None, ct).ConfigureAwait(false);
                if (received == 0)
                {
                    return;
                }

                var sent = 0;
                while (sent < received)
                {
                    sent += await to.SendAsync(buffer.AsMemory(sent, received - sent), SocketFlags.None, ct).ConfigureAwait(false);
                }
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // peer reset / the other direction closed both sockets / shutdown
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static void Close(Socket socket)
    {
        try
        {
            socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // not connected or already closed
        }

        socket.Dispose();
    }

    public void Dispose()
    {
        _stopping.Cancel();
        _listener.Dispose();
        _stopping.Dispose();
    }
}
