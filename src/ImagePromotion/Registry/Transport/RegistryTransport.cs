using System.Net;
using ImagePromotion.Registry.Auth;

namespace ImagePromotion.Registry.Transport;

/// <summary>
/// Composes the handler chain in one place, outermost first:
/// auth (challenges, token cache) → retry (backoff, Retry-After) → scheme (HTTPS, loopback/insecure HTTP)
/// → redirects (no credentials to other hosts) → counting → sockets.
/// Token requests use the same chain without the auth handler.
/// </summary>
public sealed class RegistryTransport : IDisposable
{
    private readonly SocketsHttpHandler _sockets;

    public RequestCounter Counter { get; } = new();
    public CredentialStore Credentials { get; }
    public TransportOptions Options { get; }
    public HttpMessageInvoker Http { get; }

    public RegistryTransport(TransportOptions? options = null, CredentialStore? credentials = null)
    {
        Options = options ?? new TransportOptions();
        Credentials = credentials ?? new CredentialStore();
        _sockets = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None, // blobs are hashed as the registry stores them
            ConnectTimeout = Options.ConnectTimeout,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            MaxConnectionsPerServer = 32,
            UseCookies = false,
        };
        if (CertificateTrust.ForBundle(Options.CaBundlePath) is { } validate)
            _sockets.SslOptions.RemoteCertificateValidationCallback = validate;

        var tokenChain = Chain(new RetryHandler(Options), new SchemeHandler(Options), new RedirectHandler(), new CountingHandler(Counter));
        var tokenClient = new TokenClient(new HttpMessageInvoker(tokenChain, disposeHandler: false));
        Http = new HttpMessageInvoker(
            Chain(new AuthHandler(Credentials, tokenClient), new RetryHandler(Options), new SchemeHandler(Options), new RedirectHandler(), new CountingHandler(Counter)),
            disposeHandler: true);
    }

    private HttpMessageHandler Chain(params DelegatingHandler[] handlers)
    {
        for (var i = 0; i < handlers.Length; i++)
            handlers[i].InnerHandler = i + 1 < handlers.Length ? handlers[i + 1] : _sockets;
        return handlers[0];
    }

    public void Dispose()
    {
        Http.Dispose();
        _sockets.Dispose();
    }
}
