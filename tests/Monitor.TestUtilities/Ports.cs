using System.Net;
using System.Net.Sockets;

namespace Monitor.TestUtilities;

public static class Ports
{
    /// <summary>A loopback port that was free a moment ago (so tests never clash with a running stack).</summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
