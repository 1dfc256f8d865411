using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace ImagePromotion.Registry.Transport;

/// <summary>
/// Trusts the system store plus an optional PEM bundle (a private registry's own CA), without ever
/// turning certificate checks off.
/// </summary>
internal static class CertificateTrust
{
    public static RemoteCertificateValidationCallback? ForBundle(string? pemPath)
    {
        if (string.IsNullOrEmpty(pemPath)) return null;
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

        return (_, certificate, _, errors) =>
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
    }
}
