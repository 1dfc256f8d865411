using System.Collections.Concurrent;
using System.Security.Authentication;

namespace ImagePromotion.Registry.Transport;

/// <summary>
/// HTTPS everywhere, with Docker's two exceptions: registries the configuration marks insecure speak
/// plain HTTP from the first request, and loopback registries try HTTPS once and fall back to HTTP
/// when the other side does not speak TLS. The choice is remembered per host.
/// </summary>
internal sealed class SchemeHandler(TransportOptions options) : DelegatingHandler
{
    private readonly ConcurrentDictionary<string, bool> _plainHttp = new(StringComparer.OrdinalIgnoreCase);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var uri = request.RequestUri!;
        var host = uri.Authority;
        if (uri.Scheme == Uri.UriSchemeHttps && (options.InsecureRegistries.Contains(host) || _plainHttp.ContainsKey(host)))
            request.RequestUri = ToHttp(uri);
        if (request.RequestUri!.Scheme == Uri.UriSchemeHttp && !AllowsPlainHttp(host))
            throw new PromotionException($"refusing plain HTTP to registry {host}: use HTTPS, or mark it insecure in the configuration (registries.<name>.insecure: true) if you trust the network");

        try
        {
            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException ex) when (request.RequestUri!.Scheme == Uri.UriSchemeHttps && RejectedCertificate(ex) is { } why)
        {
            // The other side speaks TLS, so plain HTTP is no answer (it would come back as a baffling 400),
            // and retrying cannot make the certificate trusted.
            throw new PromotionException($"registry {host} presented a TLS certificate that is not trusted ({why}): give its CA certificate as a PEM bundle (registries.<name>.caBundle, promote-copy --ca-bundle=PATH)", ex);
        }
        catch (HttpRequestException ex) when (request.RequestUri!.Scheme == Uri.UriSchemeHttps
                                              && ImageReference.IsLoopbackHost(host) && IsNotTls(ex))
        {
            _plainHttp[host] = true;
            request.RequestUri = ToHttp(request.RequestUri);
            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
    }

    private bool AllowsPlainHttp(string host) =>
        options.InsecureRegistries.Contains(host) || ImageReference.IsLoopbackHost(host) || _plainHttp.ContainsKey(host);

    private static Uri ToHttp(Uri uri) => new UriBuilder(uri) { Scheme = Uri.UriSchemeHttp, Port = uri.Port }.Uri;

    /// <summary>
    /// The validation failure's message when the handshake failed on the certificate. .NET has no distinct
    /// type for it: a refused certificate and a peer that is not TLS at all both surface as an
    /// AuthenticationException, and only the former's message speaks of the remote certificate.
    /// </summary>
    private static string? RejectedCertificate(HttpRequestException ex)
    {
        for (Exception? e = ex.InnerException; e is not null; e = e.InnerException)
            if (e is AuthenticationException && e.Message.Contains("certificate", StringComparison.OrdinalIgnoreCase))
                return e.Message.TrimEnd('.');
        return null;
    }

    private static bool IsNotTls(HttpRequestException ex) =>
        ex.InnerException is AuthenticationException or IOException
        || ex.HttpRequestError == HttpRequestError.SecureConnectionError;
}
