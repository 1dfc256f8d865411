using System.Net;
using System.Net.Sockets;

namespace ImagePromotion.Tests.Infrastructure;

/// <summary>
/// The distribution registry cannot listen on port 0, so a free port is found by binding one and
/// releasing it. Another process may take it in between; callers retry on a bind failure.
/// </summary>
public static class FreePort
{
    public static int Pick()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try { return ((IPEndPoint)listener.LocalEndpoint).Port; }
        finally { listener.Stop(); }
    }
}
