using System.Net;
using System.Net.Sockets;

namespace ImagePromotion.Tests.Infrastructure;

/// <summary>
/// A loopback TCP server that accepts every connection, reads what the client sends and never answers: a registry
/// behind a hung load balancer. Connections stay open until the client gives up or the server is disposed.
/// </summary>
public sealed class SilentServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly List<TcpClient> _clients = [];
    private readonly Task _accepting;
    private int _connections;

    public SilentServer()
    {
        _listener.Start();
        _accepting = AcceptAsync();
    }

    /// <summary>host:port to put in a configuration.</summary>
    public string Host => $"127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

    /// <summary>Connections accepted so far (each one a request that got no answer).</summary>
    public int Connections => Volatile.Read(ref _connections);

    private async Task AcceptAsync()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                Interlocked.Increment(ref _connections);
                lock (_clients) _clients.Add(client);
                _ = DrainAsync(client);
            }
        }
        catch (OperationCanceledException) { }
        catch (ObjectDisposedException) { }
        catch (SocketException) { }
    }

    // Reads the request so the client's send completes; answers nothing.
    private async Task DrainAsync(TcpClient client)
    {
        var buffer = new byte[4096];
        try
        {
            var stream = client.GetStream();
            while (await stream.ReadAsync(buffer, _stop.Token) > 0) { }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException) { }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        lock (_clients) foreach (var c in _clients) c.Dispose();
        await _accepting;
        _stop.Dispose();
    }
}
