using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ImagePromotion.Tests.Infrastructure;

public enum TokenSigningAlgorithm { ES256, RS256 }

/// <summary>One <c>access</c> entry of a registry token: what may be done to which resource.</summary>
public sealed record TokenAccess(
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("actions")] IReadOnlyList<string> Actions);

/// <summary>
/// Signs registry bearer tokens as compact JWS. Distribution 2.8 finds the verification key from the
/// header: an <c>x5c</c> chain whose certificate verifies against <c>auth.token.rootcertbundle</c> is
/// the simplest form it accepts (a <c>kid</c> would have to be a libtrust fingerprint instead). The
/// certificate here is self-signed, so it is both the chain and the root bundle.
/// </summary>
public sealed class TokenSigner : IDisposable
{
    private readonly AsymmetricAlgorithm _key;
    private readonly X509Certificate2 _certificate;

    public TokenSigner(TokenSigningAlgorithm algorithm = TokenSigningAlgorithm.ES256)
    {
        Algorithm = algorithm;
        var subject = new X500DistinguishedName("CN=ImagePromotion test token issuer");
        CertificateRequest request;
        if (algorithm == TokenSigningAlgorithm.ES256)
        {
            var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            _key = ec;
            request = new CertificateRequest(subject, ec, HashAlgorithmName.SHA256);
        }
        else
        {
            var rsa = RSA.Create(2048);
            _key = rsa;
            request = new CertificateRequest(subject, rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        }
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(
            X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyCertSign, true));
        _certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(3));
    }

    public TokenSigningAlgorithm Algorithm { get; }

    /// <summary>PEM of the signing certificate: the registry's <c>rootcertbundle</c>.</summary>
    public string CertificatePem => _certificate.ExportCertificatePem();

    public string Sign(string issuer, string subject, string audience, DateTimeOffset issuedAt,
        DateTimeOffset expiresAt, IReadOnlyList<TokenAccess> access)
    {
        var header = new Dictionary<string, object>
        {
            ["typ"] = "JWT",
            ["alg"] = Algorithm.ToString(),
            ["x5c"] = new[] { Convert.ToBase64String(_certificate.RawData) },
        };
        var claims = new Dictionary<string, object>
        {
            ["iss"] = issuer,
            ["sub"] = subject,
            ["aud"] = audience,
            ["exp"] = expiresAt.ToUnixTimeSeconds(),
            ["nbf"] = issuedAt.ToUnixTimeSeconds(),
            ["iat"] = issuedAt.ToUnixTimeSeconds(),
            ["jti"] = Guid.NewGuid().ToString("N"),
            ["access"] = access,
        };
        var signingInput = Base64Url(JsonSerializer.SerializeToUtf8Bytes(header)) + "." +
                           Base64Url(JsonSerializer.SerializeToUtf8Bytes(claims));
        var data = Encoding.ASCII.GetBytes(signingInput);
        // JWS wants ECDSA signatures as r||s (IEEE P1363), which is what .NET's SignData returns.
        var signature = _key switch
        {
            ECDsa ec => ec.SignData(data, HashAlgorithmName.SHA256),
            RSA rsa => rsa.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
            _ => throw new InvalidOperationException("unsupported key"),
        };
        return signingInput + "." + Base64Url(signature);
    }

    /// <summary>Decodes the claims of a token (no verification): lets tests look at what was granted.</summary>
    public static JsonElement ReadClaims(string token)
    {
        var part = token.Split('.')[1].Replace('-', '+').Replace('_', '/');
        part = part.PadRight(part.Length + (4 - part.Length % 4) % 4, '=');
        return JsonDocument.Parse(Convert.FromBase64String(part)).RootElement.Clone();
    }

    private static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public void Dispose()
    {
        _key.Dispose();
        _certificate.Dispose();
    }
}
