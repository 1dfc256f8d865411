using System.Net;
using ImagePromotion.Registry.Auth;
using ImagePromotion.Registry.Profiles;

namespace ImagePromotion.Registry.Transport;

/// <summary>
/// Composes the handler chain in one place, outermost first:
/// auth (challenges, token cache) → retry (Polly: backoff, Retry-After, header timeout) → scheme (HTTPS,
/// loopback/insecure HTTP) → redirects (no credentials to other hosts) → counting → body idle timeout → sockets.
/// Token requests use the same chain without the auth handler. One transport holds the run's token cache,
/// connection pool, <see cref="Behaviours"/> (what each registry turned out to do) and <see cref="Events"/>.
/// </summary>
public sealed class RegistryTransport : IDisposable
{
    private readonly CertificateTrust _sockets;

    /// <summary>Requests sent per host:port over this transport's life.</summary>
    public RequestCounter Counter { get; } = new();
    /// <summary>Where registry credentials come from.</summary>
    public CredentialStore Credentials { get; }
    /// <summary>Timeouts, retries, insecure hosts, CA bundles and families.</summary>
    public TransportOptions Options { get; }
    /// <summary>The composed handler chain; every registry request of the run goes through it.</summary>
    public HttpMessageInvoker Http { get; }
    /// <summary>Progress, retries and blob transfers as they happen, for a host to render (<see cref="TransferEvent"/>).</summary>
    public TransferEvents Events { get; } = new();
    /// <summary>Each registry's profile and what this run learned about it.</summary>
    public RegistryBehaviours Behaviours { get; }

    /// <summary>Builds the handler chain (see the class summary).</summary>
    /// <param name="options">Defaults when null.</param>
    /// <param name="credentials">Default: a store reading the process environment and Docker's config.json.</param>
    public RegistryTransport(TransportOptions? options = null, CredentialStore? credentials = null)
    {
        Options = options ?? new TransportOptions();
        Credentials = credentials ?? new CredentialStore();
        Behaviours = new RegistryBehaviours(Options.Families);
        var connectTimeout = Options.ConnectTimeout;
        _sockets = new CertificateTrust(() => new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None, // blobs are hashed as the registry stores them
            ConnectTimeout = connectTimeout,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            MaxConnectionsPerServer = 32,
            UseCookies = false,
        }, Options.CaBundles);

        var tokenChain = Chain(new RetryHandler(Options, Events), new SchemeHandler(Options), new RedirectHandler(),
            new CountingHandler(Counter), new IdleTimeoutHandler(Options));
        var tokenClient = new TokenClient(new HttpMessageInvoker(tokenChain, disposeHandler: false));
        Http = new HttpMessageInvoker(
            Chain(new AuthHandler(Credentials, tokenClient), new RetryHandler(Options, Events), new SchemeHandler(Options),
                new RedirectHandler(), new CountingHandler(Counter), new IdleTimeoutHandler(Options)),
            disposeHandler: true);
    }

    private HttpMessageHandler Chain(params DelegatingHandler[] handlers)
    {
        for (var i = 0; i < handlers.Length; i++)
            handlers[i].InnerHandler = i + 1 < handlers.Length ? handlers[i + 1] : _sockets;
        return handlers[0];
    }

    /// <summary>Disposes the handler chain and its connection pool.</summary>
    public void Dispose()
    {
        Http.Dispose();
        _sockets.Dispose();
    }
}
