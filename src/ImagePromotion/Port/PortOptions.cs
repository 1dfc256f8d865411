namespace ImagePromotion.Port;

/// <summary>Where and as whom to reach Port's API.</summary>
public sealed record PortOptions
{
    /// <summary>Port's US region; the EU region is <see cref="EuBaseUrl"/>.</summary>
    public static readonly Uri DefaultBaseUrl = new("https://api.getport.io");
    /// <summary>Port's EU region API root.</summary>
    public static readonly Uri EuBaseUrl = new("https://api.port.io");

    /// <summary>Port client id (<c>PORT_CLIENT_ID</c>, from Port's Credentials page).</summary>
    public required string ClientId { get; init; }
    /// <summary>Port client secret (<c>PORT_CLIENT_SECRET</c>); registered with the redactor, never printed.</summary>
    public required string ClientSecret { get; init; }
    /// <summary>The API root; <see cref="DefaultBaseUrl"/> (US) unless the account is in the EU.</summary>
    public Uri BaseUrl { get; init; } = DefaultBaseUrl;

    /// <summary>Per request. Port only reports on a promotion, so a slow Port must not hold the pipeline.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Options from the variables the workflows set (PORT_CLIENT_ID, PORT_CLIENT_SECRET, optional
    /// PORT_BASE_URL), or null when the credentials are absent: reporting to Port is then off.
    /// </summary>
    public static PortOptions? FromEnvironment(IReadOnlyDictionary<string, string?> environment)
    {
        string? Get(string name) => environment.TryGetValue(name, out var v) && !string.IsNullOrWhiteSpace(v) ? v.Trim() : null;
        var id = Get("PORT_CLIENT_ID");
        var secret = Get("PORT_CLIENT_SECRET");
        Logging.SecretRedactor.Shared.Add(secret);
        if (id is null || secret is null) return null;
        var baseUrl = DefaultBaseUrl;
        if (Get("PORT_BASE_URL") is { } text)
        {
            if (!Uri.TryCreate(text, UriKind.Absolute, out var parsed) || (parsed.Scheme != Uri.UriSchemeHttps && parsed.Scheme != Uri.UriSchemeHttp))
                throw new PromotionException($"PORT_BASE_URL '{text}' is not an http(s) URL: use https://api.getport.io or https://api.port.io (EU)");
            baseUrl = parsed;
        }
        return new PortOptions { ClientId = id, ClientSecret = secret, BaseUrl = baseUrl };
    }
}
