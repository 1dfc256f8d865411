using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace ImagePromotion.Registry.Transport;

/// <summary>
/// Trusts the system store, plus each registry's own PEM bundle for that registry alone, without ever turning
/// certificate checks off. With two private registries, the first one's CA must not vouch for the second
/// (or for anything a registry redirects to): each bundle gets a connection pool of its own, used only for
/// requests to its registry's host:port; every other request goes through the system store alone.
/// </summary>
internal sealed class CertificateTrust : HttpMessageHandler
{
    private readonly HttpMessageInvoker _default;
    private readonly Dictionary<string, HttpMessageInvoker> _byHost;
    private readonly List<SocketsHttpHandler> _handlers = [];

    public CertificateTrust(Func<SocketsHttpHandler> sockets, IReadOnlyDictionary<string, string> bundles)
    {
        var system = sockets();
        _handlers.Add(system);
        _default = new HttpMessageInvoker(system, disposeHandler: false);
        _byHost = new Dictionary<string, HttpMessageInvoker>(StringComparer.OrdinalIgnoreCase);
        foreach (var (host, path) in bundles)
        {
            var handler = sockets();
            handler.SslOptions.RemoteCertificateValidationCallback = Trusting(Load(path));
            _handlers.Add(handler);
            _byHost[host] = new HttpMessageInvoker(handler, disposeHandler: false);
        }
    }

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        (_byHost.TryGetValue(request.RequestUri!.Authority, out var own) ? own : _default).SendAsync(request, cancellationToken);

    private static RemoteCertificateValidationCallback Trusting(X509Certificate2Collection roots) =>
        (_, certificate, _, errors) =>
        {
            if (errors == SslPolicyErrors.None) return true;
            // A wrong host name is never forgiven, whatever CA signed the certificate.
            if ((errors & (SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateNotAvailable)) != 0) return false;
            if (certificate is null) return false;
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.AddRange(roots);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            return chain.Build(new X509Certificate2(certificate));
        };

    protected override void Dispose(bool disposing)
    {
        if (disposing) foreach (var h in _handlers) h.Dispose();
        base.Dispose(disposing);
    }
    private static X509Certificate2Collection Load(string pemPath)
    {
        if (!File.Exists(pemPath))
            throw new PromotionException($"CA bundle '{pemPath}' does not exist: give the path of a PEM file with the registry's CA certificate");
        var roots = new X509Certificate2Collection();
        try { roots.ImportFromPemFile(pemPath); }
        catch (Exception ex) when (ex is System.Security.Cryptography.CryptographicException or ArgumentException)
        {
            throw new PromotionException($"CA bundle '{pemPath}' holds no readable PEM certificate: give a PEM file (-----BEGIN CERTIFICATE-----)");
        }
        if (roots.Count == 0)
            throw new PromotionException($"CA bundle '{pemPath}' holds no certificate: give a PEM file (-----BEGIN CERTIFICATE-----)");
        return roots;
    }
}
