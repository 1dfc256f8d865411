using System.Collections.Concurrent;

namespace ImagePromotion.Registry.Transport;

/// <summary>Counts every request that reaches the wire, per host:port, including retries, redirects and token calls.</summary>
public sealed class RequestCounter
{
    // The counter of the copy running in this async flow, so copies sharing one transport (a release
    // train run concurrently) each report their own requests.
    private static readonly AsyncLocal<RequestCounter?> Scoped = new();

    private readonly ConcurrentDictionary<string, int> _counts = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Counts one request to <paramref name="uri"/>'s host:port.</summary>
    public void Add(Uri uri) => _counts.AddOrUpdate(uri.Authority, 1, (_, n) => n + 1);

    /// <summary>
    /// Starts a counter for the calling async flow and everything it awaits or starts; it ends when the
    /// calling async method returns (async-local values do not flow back to callers).
    /// </summary>
    public static RequestCounter StartScope() => Scoped.Value = new RequestCounter();

    /// <summary>Counts in this transport's total and in the current flow's scope, if any.</summary>
    internal void Count(Uri uri)
    {
        Add(uri);
        if (Scoped.Value is { } scope && !ReferenceEquals(scope, this)) scope.Add(uri);
    }

    /// <summary>The counts per host:port, in host order.</summary>
    public IReadOnlyDictionary<string, int> Counts() =>
        _counts.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToDictionary(kv => kv.Key, kv => kv.Value);
}

/// <summary>
/// The innermost handler: one count per HTTP request the server saw. A TLS handshake refused by a
/// plain-HTTP loopback registry is not an HTTP request (the registry never logs it), so it is not counted.
/// </summary>
internal sealed class CountingHandler(RequestCounter counter) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        try
        {
            var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            counter.Count(request.RequestUri!);
            return response;
        }
        catch (HttpRequestException ex) when (ex.HttpRequestError is HttpRequestError.SecureConnectionError or HttpRequestError.ConnectionError)
        {
            throw;
        }
        catch
        {
            counter.Count(request.RequestUri!);
            throw;
        }
    }
}
