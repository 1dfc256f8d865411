using System.Security.Cryptography;

namespace ImagePromotion.Evidence.Signing;

/// <summary>
/// A public key evidence is verified with: ECDSA P-256, read from PEM (SubjectPublicKeyInfo, "PUBLIC KEY").
/// <see cref="KeyId"/> is base64 (standard, padded) of SHA-256 over the SPKI DER: the public-key hint cosign writes into
/// Sigstore bundles (cosign internal/key/svkeypair.go, cmd/cosign/cli/verify/verify_bundle.go), so the same key has the
/// same id in both tools.
/// </summary>
public sealed class VerificationKey : IDisposable
{
    /// <summary>The OID of NIST P-256 (secp256r1), the only curve accepted: cosign's default and what the spec of this pipeline names.</summary>
    internal const string P256Oid = "1.2.840.10045.3.1.7";

    private readonly ECDsa _key;

    private VerificationKey(ECDsa key, string source)
    {
        _key = key;
        Source = source;
        SubjectPublicKeyInfo = key.ExportSubjectPublicKeyInfo();
        KeyId = IdOf(SubjectPublicKeyInfo);
    }

    /// <summary>base64 (standard, padded) of SHA-256 over the SPKI DER: the hint cosign writes into bundles.</summary>
    public string KeyId { get; }
    /// <summary>Where the key came from (a path or a variable name), for messages.</summary>
    public string Source { get; }
    /// <summary>The public key as DER SubjectPublicKeyInfo.</summary>
    public byte[] SubjectPublicKeyInfo { get; }

    /// <summary>base64(SHA-256(SPKI DER)).</summary>
    public static string IdOf(ReadOnlySpan<byte> subjectPublicKeyInfo) => Convert.ToBase64String(SHA256.HashData(subjectPublicKeyInfo));

    /// <summary>The key as PEM (<c>-----BEGIN PUBLIC KEY-----</c>, SPKI).</summary>
    public string ToPem() => PemEncoding.WriteString("PUBLIC KEY", SubjectPublicKeyInfo);

    /// <summary>Checks an ECDSA signature (ASN.1 DER, as Sigstore writes them) over <paramref name="data"/> with SHA-256.</summary>
    public bool Verify(ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature)
    {
        try { return _key.VerifyData(data, signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence); }
        catch (CryptographicException) { return false; }
    }

    /// <summary>Reads a PEM public key; one line naming <paramref name="source"/> and the fix otherwise.</summary>
    public static VerificationKey FromPem(string pem, string source)
    {
        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(pem);
            if (key.ExportParameters(false).Curve.Oid?.Value != P256Oid)
                throw new PromotionException($"{source}: the key is not on the P-256 curve: make one with `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256`");
            return new VerificationKey(key, source);
        }
        catch (Exception ex) when (ex is ArgumentException or CryptographicException)
        {
            key.Dispose();
            throw new PromotionException($"{source}: not an ECDSA P-256 public key in PEM (\"-----BEGIN PUBLIC KEY-----\"): export it with `openssl pkey -in KEY -pubout`");
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    /// <summary>Reads a PEM public key file.</summary>
    /// <exception cref="PromotionException">The file cannot be read, or does not hold an ECDSA P-256 public key.</exception>
    public static VerificationKey FromFile(string path)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new PromotionException($"cannot read the public key {path} ({ex.Message.TrimEnd('.')}): pass the path of a PEM public key");
        }
        return FromPem(text, path);
    }

    internal static VerificationKey Of(ECDsa privateKey, string source)
    {
        var pub = ECDsa.Create();
        pub.ImportSubjectPublicKeyInfo(privateKey.ExportSubjectPublicKeyInfo(), out _);
        return new VerificationKey(pub, source);
    }

    /// <summary>The key id.</summary>
    public override string ToString() => KeyId;

    /// <summary>Disposes the key.</summary>
    public void Dispose() => _key.Dispose();
}
