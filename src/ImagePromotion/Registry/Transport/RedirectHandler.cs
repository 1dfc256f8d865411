using System.Net;

namespace ImagePromotion.Registry.Transport;

/// <summary>
/// Follows redirects itself (the socket handler's own following is off) so that credentials stay home:
/// registries such as Docker Hub, ECR and GCR redirect blob GETs to signed storage URLs on other hosts,
/// and an <c>Authorization</c> header sent there would leak the registry token.
/// </summary>
internal sealed class RedirectHandler : DelegatingHandler
{
    private const int MaxRedirects = 5;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        var current = request;
        for (var hop = 0; hop < MaxRedirects && IsRedirect(response.StatusCode) && response.Headers.Location is { } location; hop++)
        {
            // Only reads are followed; a redirected write would need its body again.
            if (current.Method != HttpMethod.Get && current.Method != HttpMethod.Head) return response;
            var target = location.IsAbsoluteUri ? location : new Uri(current.RequestUri!, location);
            var next = new HttpRequestMessage(current.Method, target);
            foreach (var h in current.Headers)
            {
                if (h.Key.Equals("Authorization", StringComparison.OrdinalIgnoreCase) && !SameOrigin(request.RequestUri!, target)) continue;
                next.Headers.TryAddWithoutValidation(h.Key, h.Value);
            }
            foreach (var o in current.Options) ((IDictionary<string, object?>)next.Options)[o.Key] = o.Value;
            response.Dispose();
            current = next;
            response = await base.SendAsync(next, cancellationToken).ConfigureAwait(false);
        }
        return response;
    }

    private static bool IsRedirect(HttpStatusCode s) =>
        s is HttpStatusCode.MovedPermanently or HttpStatusCode.Found or HttpStatusCode.SeeOther
            or HttpStatusCode.TemporaryRedirect or HttpStatusCode.PermanentRedirect;

    internal static bool SameOrigin(Uri a, Uri b) =>
        a.Scheme == b.Scheme && a.Host.Equals(b.Host, StringComparison.OrdinalIgnoreCase) && a.Port == b.Port;
}
