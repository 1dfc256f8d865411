namespace ImagePromotion.Registry.Transport;

/// <summary>How the engine talks to registries. Defaults suit CI against a cloud registry.</summary>
public sealed record TransportOptions
{
    /// <summary>Hosts (host:port) where plain HTTP is allowed without trying HTTPS first.</summary>
    public IReadOnlySet<string> InsecureRegistries { get; init; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
    /// <summary>A PEM bundle of extra CA certificates trusted for HTTPS registries.</summary>
    public string? CaBundlePath { get; init; }
    public int MaxAttempts { get; init; } = 5;
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(200);
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>The longest <c>Retry-After</c> we wait out; beyond it the 429 is reported.</summary>
    public TimeSpan MaxRetryAfter { get; init; } = TimeSpan.FromSeconds(60);
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(15);
    /// <summary>How long a request may wait for response headers before it counts as a dropped connection.</summary>
    public TimeSpan ResponseHeadersTimeout { get; init; } = TimeSpan.FromSeconds(120);
}
