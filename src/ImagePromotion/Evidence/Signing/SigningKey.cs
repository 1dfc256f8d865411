using System.Security.Cryptography;
using ImagePromotion.Evidence.Attestations;
using ImagePromotion.Logging;

namespace ImagePromotion.Evidence.Signing;

/// <summary>
/// A role's private key: ECDSA P-256 in PEM, PKCS#8 ("PRIVATE KEY", or "ENCRYPTED PRIVATE KEY" with a passphrase;
/// SEC1 "EC PRIVATE KEY" is read too). Signs DSSE envelopes with SHA-256, signatures in ASN.1 DER. The key and its
/// passphrase are registered with the <see cref="SecretRedactor"/> before anything else happens to them, so no line
/// of output can carry them (on GitHub Actions each line of the PEM is also masked).
/// </summary>
public sealed class SigningKey : IDisposable
{
    private readonly ECDsa _key;

    private SigningKey(ECDsa key, KeyRole role, string source)
    {
        _key = key;
        Role = role;
        Source = source;
        PublicKey = VerificationKey.Of(key, source);
    }

    /// <summary>The role the key signs for; it is given by the variable it was read from.</summary>
    public KeyRole Role { get; }
    /// <summary>Where the key came from (a variable name or a path): never the key itself.</summary>
    public string Source { get; }
    /// <summary>The public half, whose <see cref="VerificationKey.KeyId"/> goes into each bundle.</summary>
    public VerificationKey PublicKey { get; }
    /// <summary>The key id (base64 SHA-256 of the public key's SPKI DER), as cosign computes it.</summary>
    public string KeyId => PublicKey.KeyId;

    /// <summary>
    /// Reads a private key. <paramref name="source"/> names where it came from, for messages; <paramref name="passphraseSource"/>
    /// names where an encrypted key's passphrase is expected.
    /// </summary>
    public static SigningKey FromPem(string pem, string? passphrase, KeyRole role, string source, string passphraseSource, SecretRedactor? redactor = null)
    {
        redactor ??= SecretRedactor.Shared;
        RegisterSecret(redactor, pem);
        redactor.Add(passphrase);
        var key = ECDsa.Create();
        try
        {
            if (pem.Contains("-----BEGIN ENCRYPTED PRIVATE KEY-----", StringComparison.Ordinal))
            {
                if (string.IsNullOrEmpty(passphrase))
                    throw new PromotionException($"{source} holds an encrypted private key: set {passphraseSource} to its passphrase");
                try { key.ImportFromEncryptedPem(pem, passphrase); }
                catch (CryptographicException)
                {
                    throw new PromotionException($"{source}: the passphrase in {passphraseSource} does not decrypt the key: set the passphrase the key was encrypted with");
                }
            }
            else if (pem.Contains("PRIVATE KEY-----", StringComparison.Ordinal)) key.ImportFromPem(pem);
            else throw new PromotionException($"{source} holds no PEM private key: give a PKCS#8 key (\"-----BEGIN PRIVATE KEY-----\"); see README, Keys");
            if (key.ExportParameters(false).Curve.Oid?.Value != VerificationKey.P256Oid)
                throw new PromotionException($"{source}: the key is not ECDSA P-256: make one with `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256`");
            return new SigningKey(key, role, source);
        }
        catch (Exception ex) when (ex is ArgumentException or CryptographicException)
        {
            key.Dispose();
            // The exception text is .NET's own (it never quotes the key); the message names the source and the fix only.
            throw new PromotionException($"{source}: not an ECDSA P-256 private key in PEM: make one with `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256`");
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    /// <summary>Signs a payload into a DSSE envelope: ECDSA P-256 over PAE(payloadType, payload) with SHA-256.</summary>
    public DsseEnvelope Sign(string payloadType, byte[] payload)
    {
        var signature = _key.SignData(DsseEnvelope.PreAuthenticationEncoding(payloadType, payload), HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        return new DsseEnvelope(payloadType, payload, [new DsseSignature(KeyId, signature)]);
    }

    /// <summary>Signs a statement and wraps it in a Sigstore bundle whose key hint is this key's id.</summary>
    public SigstoreBundle SignStatement(InTotoStatement statement) =>
        new(KeyId, Sign(InTotoStatement.PayloadType, statement.ToJsonBytes()));

    /// <summary>The whole PEM and each of its base64 lines: the runner masks line by line, a log could print one.</summary>
    private static void RegisterSecret(SecretRedactor redactor, string pem)
    {
        redactor.Add(pem.Trim());
        foreach (var line in pem.Split('\n'))
        {
            var text = line.Trim();
            if (text.Length >= 16 && !text.StartsWith("-----", StringComparison.Ordinal) && !text.Contains(':')) redactor.Add(text);
        }
    }

    internal static SigningKey Generate(KeyRole role, string source) => new(ECDsa.Create(ECCurve.NamedCurves.nistP256), role, source);

    /// <summary>The PKCS#8 PEM of the key, encrypted (PBES2: AES-256-CBC, PBKDF2-HMAC-SHA256, 600,000 iterations) when a passphrase is given.</summary>
    internal string ExportPkcs8Pem(string? passphrase) => string.IsNullOrEmpty(passphrase)
        ? _key.ExportPkcs8PrivateKeyPem()
        : _key.ExportEncryptedPkcs8PrivateKeyPem(passphrase, new PbeParameters(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, 600_000));

    /// <summary><c>scan key KEYID (SOURCE)</c>: never the key material.</summary>
    public override string ToString() => $"{Role.ToString().ToLowerInvariant()} key {KeyId} ({Source})";

    /// <summary>Disposes the private and the public key.</summary>
    public void Dispose()
    {
        _key.Dispose();
        PublicKey.Dispose();
    }
}
