namespace ImagePromotion.Registry.Transport;

/// <summary>How the engine talks to registries. Defaults suit CI against a cloud registry.</summary>
public sealed record TransportOptions
{
    /// <summary>Hosts (host:port) where plain HTTP is allowed without trying HTTPS first.</summary>
    public IReadOnlySet<string> InsecureRegistries { get; init; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
    /// <summary>
    /// PEM bundles of extra CA certificates, per registry host (host:port): each bundle is trusted for its own
    /// registry only, never for another one or for the storage a registry redirects to.
    /// </summary>
    public IReadOnlyDictionary<string, string> CaBundles { get; init; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
    /// <summary>Registry family per host (host:port → <c>harbor</c>, <c>pulp</c>, …) for self-hosted registries the host name cannot tell.</summary>
    public IReadOnlyDictionary<string, string> Families { get; init; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
    /// <summary>Attempts per request (the first one included); streamed uploads are retried by the blob copier instead.</summary>
    public int MaxAttempts { get; init; } = 5;
    /// <summary>Pause before the first retry; it doubles each attempt (with jitter) up to <see cref="MaxBackoff"/>.</summary>
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(200);
    /// <summary>Longest pause between retries when the registry gives no <c>Retry-After</c>.</summary>
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>The longest <c>Retry-After</c> we wait out (default 60 s); a registry asking for longer gets its 429 reported at once.</summary>
    public TimeSpan MaxRetryAfter { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>Longest wait for a TCP (and TLS) connection to a registry (default 15 s).</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(15);
    /// <summary>How long a request may wait for response headers (default 120 s); then it fails naming the registry and is retried.</summary>
    public TimeSpan ResponseHeadersTimeout { get; init; } = TimeSpan.FromSeconds(120);
    /// <summary>How long a response body may send nothing before the read fails (default 120 s): a slow drip never hangs a run.</summary>
    public TimeSpan BodyIdleTimeout { get; init; } = TimeSpan.FromSeconds(120);
}
